// kdb::session<S>: the kdb+ IPC stage over any byte_stream S (TCP, a Unix
// socket, TLS over either, the in-memory pipe). It reads whole messages,
// keeps a send queue and applies the compression policy; the handshake comes
// before it (client_handshake, server_handshake).
//
//     auto t = (co_await connect_tcp("127.0.0.1", 5001)).value();
//     int cap = (co_await kdb::client_handshake(t, "", 3, 10s)).value();
//     kdb::session<socket_stream> s(std::move(t), cap);
//     co_await s.write_message(kdb::new_string("til 3"), kdb::msg_type::sync);
//     auto m = co_await s.read_message();
//
// Writers encode into the queue; the first one finds nobody sending and
// sends, and keeps sending whatever others queued meanwhile, so pipelined
// messages leave in one write instead of one each. A writer that finds the
// queue over its high-water mark waits for room.
//
// session<S> is final: called on its own type, nothing is virtual. The
// client connection and the server hold one through session_base, the one
// indirect call per message (never per read or write) that lets them serve
// every transport with the same compiled code.
#pragma once

#include <qwire/core/reactor.hpp>
#include <qwire/io/byte_stream.hpp>
#include <qwire/proto/kdb/codec.hpp>

#include <coroutine>
#include <optional>
#include <vector>

namespace qwire::kdb {

// When to compress outgoing messages. auto_ is kdb+'s rule: never for
// loopback or Unix-socket peers, otherwise messages over 2000 bytes that
// compress to less than half.
enum class compression { auto_, always, never };

// What every session does that does not touch the stream: the read buffer,
// the send queue and its waiters, the policy. The three operations that do
// are virtual, implemented by session<S>.
class session_base {
public:
    session_base(const session_base&) = delete;
    session_base& operator=(const session_base&) = delete;
    virtual ~session_base() = default;

    // The next whole message, decompressed and decoded.
    virtual task<result<message>> read_message(op_options o = {}) = 0;
    // Sends the queue unless someone already is (whoever is sending takes
    // what was queued meanwhile). Messages leave in the order queued.
    virtual task<result<void>> send(op_options o = {}) = 0;
    // Closes the transport: pending reads and writes end with an error.
    virtual void shutdown() = 0;

    // Queues one message and sends the queue.
    task<result<void>> write_message(const k& x, msg_type t, op_options o = {});
    // Writes an error response ('text).
    task<result<void>> write_error(std::string_view text, op_options o = {});

    // The same in steps, for a caller that must note something between
    // getting room and queueing (the client queues a response waiter):
    // wait_for_room(), then enqueue() (nothing suspends between them), then
    // send().
    task<result<void>> wait_for_room() { return wait_for_room(high_water); }
    // Waits while more than `bound` bytes are queued or being sent.
    task<result<void>> wait_for_room(std::size_t bound);
    [[nodiscard]] result<void> enqueue(const k& x, msg_type t);

    static constexpr std::size_t high_water = 4 << 20;

    // Encoded bytes queued or being written.
    std::size_t queued_bytes() const noexcept { return queue_.size() + sending_.size(); }
    // Whether a send() is under way (it takes whatever is queued meanwhile).
    bool sending() const noexcept { return sending_now_; }

    // Deadlines for read_message(): `idle` to wait for the first byte of a
    // message, `message` for the rest of it once it has begun. Zero: none.
    void set_read_timeouts(clock::duration idle, clock::duration message) noexcept {
        idle_timeout_ = idle;
        message_timeout_ = message;
    }

    // Whether a whole message is already buffered: a server answering a
    // pipeline sends its responses once the buffered requests are done.
    bool message_buffered() const;
    // The type of the last message whose header read_message() parsed (so a
    // server can answer a sync request it refused as too large).
    msg_type last_type() const noexcept { return last_type_; }

    int capability() const noexcept { return capability_; }
    void set_capability(int c) noexcept { capability_ = c; }
    bool compresses() const noexcept { return compress_ && capability_ >= 1; }
    const limits& lim() const noexcept { return lim_; }

protected:
    session_base(int capability, compression c, bool local_peer, limits lim)
        : capability_(capability),
          compress_(c == compression::always || (c == compression::auto_ && !local_peer)),
          lim_(lim) {}

    // read_message() in steps around the reads: the options for the next
    // read (the idle deadline before a message begins, the message deadline
    // after), and what the bytes buffered so far make of it.
    struct reading {
        op_options base;
        std::optional<clock::time_point> message_deadline;
    };
    op_options next_read_options(reading& r);
    std::span<std::byte> read_space(std::size_t want);
    void read_done(std::size_t n) { rbuf_.commit(n); }
    // How many more bytes the message needs before it can be decoded (0:
    // decode it now, with take_message()), or the header's error.
    result<std::size_t> bytes_missing();
    result<message> take_message();

    // send() in steps: take the queue for writing (empty: nothing to send),
    // then report the write's result.
    std::span<const std::byte> start_batch();
    void batch_written();
    void end_sending(const result<void>& r);
    bool begin_sending() noexcept { return !std::exchange(sending_now_, true); }

private:
    void wake_room_waiters();

    int capability_;
    bool compress_;
    limits lim_;
    byte_buffer rbuf_;
    byte_buffer queue_;    // encoded, waiting to be sent
    byte_buffer sending_;  // being sent
    bool sending_now_ = false;
    std::error_code write_failure_;
    clock::duration idle_timeout_{0}, message_timeout_{0};
    msg_type last_type_ = msg_type::async;
    std::size_t message_length_ = 0;  // of the message bytes_missing() last parsed the header of
    std::vector<std::coroutine_handle<>> room_waiters_;
    std::vector<std::coroutine_handle<>> waking_;  // room_waiters_ being woken (both keep their capacity)
};

template <byte_stream S>
class session final : public session_base {
public:
    // `capability`: what the handshake agreed. The compression policy asks
    // the stream whether its peer is local (peer_is_local).
    explicit session(S s, int capability = default_capability, compression c = compression::auto_,
                     limits lim = {})
        : session_base(capability, c, peer_is_local(s), lim), io_(std::move(s)) {}

    task<result<message>> read_message(op_options o = {}) override {
        reading r{std::move(o), std::nullopt};
        for (;;) {
            auto missing = bytes_missing();
            if (!missing) co_return missing.error();
            if (*missing == 0) co_return take_message();
            auto n = co_await io_.read_some(read_space(*missing), next_read_options(r));
            if (!n) co_return n.error();
            read_done(*n);
        }
    }

    task<result<void>> send(op_options o = {}) override {
        if (!begin_sending()) co_return result<void>{};  // the sender in charge takes ours too
        result<void> r;
        while (r) {
            const auto batch = start_batch();
            if (batch.empty()) break;
            r = co_await io_.write_all(batch, o);
            batch_written();
        }
        end_sending(r);
        co_return r;
    }

    void shutdown() override { close_stream(io_); }

    S& next_layer() noexcept { return io_; }

private:
    S io_;
};

// The client side of the handshake: sends credentials and capability, reads
// the server's one-byte reply. A connection closed instead is access denied.
template <byte_stream S>
task<result<int>> client_handshake(S& t, const std::string& credentials, int capability, clock::duration timeout) {
    std::string hello = credentials;
    hello.push_back(static_cast<char>(capability));
    hello.push_back('\0');
    const op_options o{clock::now() + timeout};
    if (auto w = co_await t.write_all(as_bytes(hello), o); !w) co_return w.error();
    std::byte reply{};
    auto n = co_await t.read_some(std::span(&reply, 1), o);
    if (!n) {
        // The server closes the connection to refuse us.
        if (n.error() == qwire::errc::eof || n.error() == std::errc::connection_reset) co_return errc::access_denied;
        co_return n.error();
    }
    co_return std::min(static_cast<int>(reply), capability);
}

// The server side of the handshake: reads credentials and capability (at
// most max_credentials bytes), splits user and password at the first ':'.
struct login_request {
    std::string user, password;
    int capability = 0;
};

namespace detail {
// The user, password and capability of a hello without its NUL.
login_request parse_login(std::string hello);
}  // namespace detail

template <byte_stream S>
task<result<login_request>> server_handshake(S& t, std::size_t max_credentials, clock::duration timeout) {
    const op_options o{clock::now() + timeout};
    std::string got;
    std::byte buf[256];
    // Read until the terminating NUL. A client sends nothing more before our
    // reply, so nothing past the NUL can be lost.
    for (;;) {
        auto n = co_await t.read_some(buf, o);
        if (!n) co_return n.error();
        got.append(reinterpret_cast<const char*>(buf), *n);
        if (const auto nul = got.find('\0'); nul != std::string::npos) {
            if (nul + 1 != got.size()) co_return errc::unexpected_message;
            got.resize(nul);
            break;
        }
        if (got.size() > max_credentials) co_return errc::handshake_too_long;
    }
    co_return detail::parse_login(std::move(got));
}

}  // namespace qwire::kdb
