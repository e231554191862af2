// TLS over any byte_stream, with wolfSSL.
//
// wolfSSL never touches a socket: its I/O callbacks move ciphertext in and
// out of two buffers, and the coroutine code here moves those buffers over
// the stream below. So TLS composes over TCP, Unix sockets or the in-memory
// pipe alike.
//
// Clients verify the server's certificate by default (against a CA file) and
// its host name; SNI is sent for names (not for IP literals). TLS 1.2 and 1.3
// are enabled, 1.3 preferred; the default cipher list puts ChaCha20-Poly1305
// first because Debian's wolfSSL is built without AES-NI.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

struct WOLFSSL;
struct WOLFSSL_CTX;

namespace qwire {

// What a TLS failure means, for comparison with an error_code from the TLS
// layer: `ec == tls_errc::hostname_mismatch`. The error_code itself carries
// wolfSSL's own code and text.
enum class tls_errc {
    handshake_failed = 1,
    certificate_untrusted,  // no trusted CA signed the peer's certificate
    hostname_mismatch,      // the certificate is not for the name we asked for
    certificate_expired,    // outside its validity dates
    bad_configuration,      // unreadable certificate, key or CA file, bad cipher list
    protocol_error,         // anything else after the handshake
};

const std::error_category& tls_category() noexcept;            // wolfSSL's codes
const std::error_category& tls_condition_category() noexcept;  // tls_errc
std::error_condition make_error_condition(tls_errc e) noexcept;
std::error_code make_tls_error(int wolfssl_error) noexcept;

class tls_context {
public:
    // A client context: verifies peers. Call load_ca_file() (or
    // set_verify_peer(false), for tests only).
    static result<tls_context> client();
    // A server context with its certificate chain and private key (PEM).
    static result<tls_context> server(const std::string& cert_chain_file, const std::string& key_file);

    result<void> load_ca_file(const std::string& pem_file);
    void set_verify_peer(bool on);
    result<void> set_ciphers(const std::string& list);

    static constexpr std::string_view default_ciphers =
        "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

    WOLFSSL_CTX* native() const noexcept { return ctx_.get(); }
    std::shared_ptr<WOLFSSL_CTX> shared() const noexcept { return ctx_; }
    bool is_server() const noexcept { return server_; }

private:
    static result<tls_context> make(bool server);
    std::shared_ptr<WOLFSSL_CTX> ctx_;
    bool server_ = false;
};

namespace detail {

// The wolfSSL session and its two ciphertext buffers. Not a template: the
// stream-type-specific part is only the loop that moves the buffers.
class tls_engine {
public:
    enum class step { done, want_read, eof, failed };

    // A session for the context; an error (MEMORY_E) when wolfSSL cannot
    // make one.
    static result<std::unique_ptr<tls_engine>> create(const tls_context& ctx);
    ~tls_engine();
    tls_engine(const tls_engine&) = delete;

    result<void> set_peer_name(std::string_view host);
    step handshake();
    step read(std::span<std::byte> buf, std::size_t& n);
    step write(std::span<const std::byte> buf);
    void close_notify();
    std::error_code error() const noexcept { return error_; }

    std::string_view version() const;
    std::string_view cipher() const;
    std::string requested_server_name() const;

    byte_buffer in;        // ciphertext received, not yet consumed by wolfSSL
    byte_buffer out;       // ciphertext wolfSSL produced, not yet sent
    bool in_eof = false;   // the stream below reached its end

private:
    explicit tls_engine(const tls_context& ctx);
    step classify(int ret);
    std::shared_ptr<WOLFSSL_CTX> ctx_;
    WOLFSSL* ssl_ = nullptr;
    bool server_;
    std::error_code error_;
};

}  // namespace detail

template <byte_stream S>
class tls_stream {
public:
    // Runs the client handshake over s, verifying host (unless the context
    // has verification off).
    static task<result<tls_stream>> connect(S s, const tls_context& ctx, std::string host, op_options o = {}) {
        auto eng = detail::tls_engine::create(ctx);
        if (!eng) co_return eng.error();
        tls_stream t(std::move(s), std::move(*eng));
        if (auto r = t.eng_->set_peer_name(host); !r) co_return r.error();
        if (auto r = co_await t.handshake(o); !r) co_return r.error();
        co_return std::move(t);
    }
    // Runs the server handshake over s.
    static task<result<tls_stream>> accept(S s, const tls_context& ctx, op_options o = {}) {
        auto eng = detail::tls_engine::create(ctx);
        if (!eng) co_return eng.error();
        tls_stream t(std::move(s), std::move(*eng));
        if (auto r = co_await t.handshake(o); !r) co_return r.error();
        co_return std::move(t);
    }

    task<result<std::size_t>> read_some(std::span<std::byte> buf, op_options o = {}) {
        if (buf.empty()) co_return std::size_t{0};
        for (;;) {
            std::size_t n = 0;
            const auto st = eng_->read(buf, n);
            if (!eng_->out.empty())
                if (auto r = co_await flush(o); !r) co_return r.error();
            switch (st) {
                case step::done: co_return n;
                case step::eof: co_return errc::eof;
                case step::failed: co_return eng_->error();
                case step::want_read:
                    if (auto r = co_await fill(o); !r) co_return r.error();
            }
        }
    }

    task<result<void>> write_all(std::span<const std::byte> buf, op_options o = {}) {
        while (!buf.empty()) {
            const std::size_t n = std::min(buf.size(), write_chunk);
            if (eng_->write(buf.first(n)) != step::done) co_return eng_->error();
            buf = buf.subspan(n);
            if (eng_->out.size() >= write_chunk)
                if (auto r = co_await flush(o); !r) co_return r;
        }
        co_return co_await flush(o);
    }

    // Small pieces are gathered into one record; large ones go as they are.
    task<result<void>> write_all(std::span<const const_buffer> bufs, op_options o = {}) {
        for (const const_buffer& b : bufs) {
            auto bytes = std::span(static_cast<const std::byte*>(b.data), b.size);
            if (staging_.size() + bytes.size() <= staging_limit) {
                staging_.append(bytes.data(), bytes.size());
                continue;
            }
            if (auto r = write_staged(); !r) co_return r;
            if (bytes.size() <= staging_limit) {
                staging_.append(bytes.data(), bytes.size());
                continue;
            }
            if (auto r = co_await write_all(bytes, o); !r) co_return r;
        }
        if (auto r = write_staged(); !r) co_return r;
        co_return co_await flush(o);
    }

    // Sends close_notify. The stream below stays open.
    task<result<void>> shutdown(op_options o = {}) {
        eng_->close_notify();
        co_return co_await flush(o);
    }

    S& next_layer() noexcept { return next_; }
    std::string_view version() const { return eng_->version(); }
    std::string_view cipher() const { return eng_->cipher(); }
    // On a server: the host name the client asked for with SNI ("" if none).
    std::string requested_server_name() const { return eng_->requested_server_name(); }

private:
    using step = detail::tls_engine::step;
    static constexpr std::size_t write_chunk = 64 * 1024;
    static constexpr std::size_t staging_limit = 16 * 1024;
    static constexpr std::size_t read_chunk = 32 * 1024;

    tls_stream(S s, std::unique_ptr<detail::tls_engine> eng) : next_(std::move(s)), eng_(std::move(eng)) {}

    task<result<void>> handshake(op_options o) {
        for (;;) {
            const auto st = eng_->handshake();
            if (auto r = co_await flush(o); !r) co_return r;
            switch (st) {
                case step::done: co_return result<void>{};
                case step::eof: co_return make_error_code(errc::eof);
                case step::failed: co_return eng_->error();
                case step::want_read:
                    if (auto r = co_await fill(o); !r) co_return r;
            }
        }
    }

    result<void> write_staged() {
        if (staging_.empty()) return {};
        const auto st = eng_->write(staging_.data());
        staging_.clear();
        if (st != step::done) return eng_->error();
        return {};
    }

    // Sends what wolfSSL produced. A reader that finds a write under way
    // leaves its bytes to that writer, which sends until nothing is left.
    task<result<void>> flush(op_options o) {
        if (writing_) co_return result<void>{};
        writing_ = true;
        while (!eng_->out.empty()) {
            sending_.swap(eng_->out);
            auto r = co_await next_.write_all(std::span<const std::byte>(sending_.data()), o);
            sending_.clear();
            if (!r) {
                writing_ = false;
                co_return r;
            }
        }
        writing_ = false;
        co_return result<void>{};
    }

    task<result<void>> fill(op_options o) {
        auto space = eng_->in.prepare(read_chunk);
        auto n = co_await next_.read_some(space, o);
        if (n) {
            eng_->in.commit(*n);
        } else if (n.error() == errc::eof) {
            eng_->in_eof = true;  // wolfSSL sees it as a closed connection
        } else {
            co_return n.error();
        }
        co_return result<void>{};
    }

    S next_;
    std::unique_ptr<detail::tls_engine> eng_;
    byte_buffer sending_;
    byte_buffer staging_;
    bool writing_ = false;
};

}  // namespace qwire

template <>
struct std::is_error_condition_enum<qwire::tls_errc> : std::true_type {};
