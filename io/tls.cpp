#include <qwire/io/tls.hpp>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <arpa/inet.h>

#include <cstring>
#include <mutex>

namespace qwire {
namespace {

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] { wolfSSL_Init(); });
}

class tls_code_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "wolfssl"; }
    std::string message(int ev) const override {
        char buf[WOLFSSL_MAX_ERROR_SZ] = {};
        wolfSSL_ERR_error_string_n(static_cast<unsigned long>(-ev), buf, sizeof buf);
        return std::string(buf) + " (wolfSSL " + std::to_string(-ev) + ")";
    }
    std::error_condition default_error_condition(int ev) const noexcept override {
        switch (ev) {
            case ASN_NO_SIGNER_E:
            case ASN_SELF_SIGNED_E:
            case ASN_SIG_CONFIRM_E:
            case VERIFY_CERT_ERROR:
                return tls_errc::certificate_untrusted;
            case DOMAIN_NAME_MISMATCH:
            case IPADDR_MISMATCH:
                return tls_errc::hostname_mismatch;
            case ASN_AFTER_DATE_E:
            case ASN_BEFORE_DATE_E:
                return tls_errc::certificate_expired;
            case WOLFSSL_BAD_FILE:
            case WOLFSSL_BAD_FILETYPE:
            case WOLFSSL_BAD_CERTTYPE:
            case ASN_PARSE_E:
                return tls_errc::bad_configuration;
            default:
                return tls_errc::handshake_failed;
        }
    }
};

class tls_condition_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "qwire.tls"; }
    std::string message(int ev) const override {
        switch (static_cast<tls_errc>(ev)) {
            case tls_errc::handshake_failed: return "TLS handshake failed";
            case tls_errc::certificate_untrusted: return "TLS: the peer's certificate is not signed by a trusted CA";
            case tls_errc::hostname_mismatch: return "TLS: the certificate does not match the host name";
            case tls_errc::certificate_expired: return "TLS: the certificate is expired or not yet valid";
            case tls_errc::bad_configuration: return "TLS: bad certificate, key, CA file or cipher list";
            case tls_errc::protocol_error: return "TLS protocol error";
        }
        return "TLS error";
    }
};

// wolfSSL I/O callbacks: ciphertext goes through the engine's buffers.
int recv_cb(WOLFSSL*, char* buf, int sz, void* ctx) {
    auto* eng = static_cast<detail::tls_engine*>(ctx);
    if (eng->in.empty()) return eng->in_eof ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(sz), eng->in.size());
    std::memcpy(buf, eng->in.data().data(), n);
    eng->in.consume(n);
    return static_cast<int>(n);
}

int send_cb(WOLFSSL*, char* buf, int sz, void* ctx) {
    static_cast<detail::tls_engine*>(ctx)->out.append(buf, static_cast<std::size_t>(sz));
    return sz;
}

}  // namespace

const std::error_category& tls_category() noexcept {
    static const tls_code_category c;
    return c;
}
const std::error_category& tls_condition_category() noexcept {
    static const tls_condition_category_impl c;
    return c;
}
std::error_condition make_error_condition(tls_errc e) noexcept {
    return {static_cast<int>(e), tls_condition_category()};
}
std::error_code make_tls_error(int wolfssl_error) noexcept {
    // Store the negative wolfSSL code as it is; default_error_condition maps it.
    return {wolfssl_error, tls_category()};
}

// ---- tls_context ----

namespace {
void configure(WOLFSSL_CTX* raw) {
    wolfSSL_CTX_SetMinVersion(raw, WOLFSSL_TLSV1_2);
    wolfSSL_CTX_SetIORecv(raw, recv_cb);
    wolfSSL_CTX_SetIOSend(raw, send_cb);
}
}  // namespace

// What both sides share: TLS 1.2+, the engine's I/O callbacks, the cipher list.
result<tls_context> tls_context::make(bool server) {
    init_library();
    tls_context c;
    WOLFSSL_CTX* raw = wolfSSL_CTX_new(server ? wolfSSLv23_server_method() : wolfSSLv23_client_method());
    if (!raw) return make_tls_error(MEMORY_E);
    c.ctx_.reset(raw, wolfSSL_CTX_free);
    c.server_ = server;
    configure(raw);
    // Clients verify the server; servers do not ask for client certificates.
    wolfSSL_CTX_set_verify(raw, server ? WOLFSSL_VERIFY_NONE : WOLFSSL_VERIFY_PEER, nullptr);
    if (auto r = c.set_ciphers(std::string(default_ciphers)); !r) return r.error();
    return c;
}

result<tls_context> tls_context::client() { return make(false); }

result<tls_context> tls_context::server(const std::string& cert_chain_file, const std::string& key_file) {
    auto c = make(true);
    if (!c) return c;
    WOLFSSL_CTX* raw = c->native();
    if (int rc = wolfSSL_CTX_use_certificate_chain_file(raw, cert_chain_file.c_str()); rc != WOLFSSL_SUCCESS)
        return make_tls_error(rc == 0 ? WOLFSSL_BAD_FILE : rc);
    if (int rc = wolfSSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), WOLFSSL_FILETYPE_PEM); rc != WOLFSSL_SUCCESS)
        return make_tls_error(rc == 0 ? WOLFSSL_BAD_FILE : rc);
    return c;
}

result<void> tls_context::load_ca_file(const std::string& pem_file) {
    int rc = wolfSSL_CTX_load_verify_locations(ctx_.get(), pem_file.c_str(), nullptr);
    if (rc != WOLFSSL_SUCCESS) return make_tls_error(rc == 0 ? WOLFSSL_BAD_FILE : rc);
    return {};
}

void tls_context::set_verify_peer(bool on) {
    wolfSSL_CTX_set_verify(ctx_.get(), on ? WOLFSSL_VERIFY_PEER : WOLFSSL_VERIFY_NONE, nullptr);
}

result<void> tls_context::set_ciphers(const std::string& list) {
    if (wolfSSL_CTX_set_cipher_list(ctx_.get(), list.c_str()) != WOLFSSL_SUCCESS)
        return make_tls_error(WOLFSSL_BAD_FILETYPE);
    return {};
}

// ---- tls_engine ----

namespace detail {

result<std::unique_ptr<tls_engine>> tls_engine::create(const tls_context& ctx) {
    std::unique_ptr<tls_engine> e(new tls_engine(ctx));
    if (!e->ssl_) return make_tls_error(MEMORY_E);
    return e;
}

tls_engine::tls_engine(const tls_context& ctx) : ctx_(ctx.shared()), server_(ctx.is_server()) {
    ssl_ = wolfSSL_new(ctx.native());
    if (!ssl_) return;
    wolfSSL_SSLSetIORecv(ssl_, recv_cb);
    wolfSSL_SSLSetIOSend(ssl_, send_cb);
    wolfSSL_SetIOReadCtx(ssl_, this);
    wolfSSL_SetIOWriteCtx(ssl_, this);
    if (server_) {
        // Record the client's SNI request without insisting on a match.
        wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, "", 0);
        wolfSSL_SNI_SetOptions(ssl_, WOLFSSL_SNI_HOST_NAME, WOLFSSL_SNI_ANSWER_ON_MISMATCH);
    }
}

tls_engine::~tls_engine() {
    if (ssl_) wolfSSL_free(ssl_);
}

result<void> tls_engine::set_peer_name(std::string_view host) {
    if (host.empty()) return {};
    const std::string h(host);
    in6_addr tmp{};
    const bool literal = ::inet_pton(AF_INET, h.c_str(), &tmp) == 1 || ::inet_pton(AF_INET6, h.c_str(), &tmp) == 1;
    if (!literal && wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, h.data(), static_cast<unsigned short>(h.size())) !=
                        WOLFSSL_SUCCESS)
        return make_tls_error(BAD_FUNC_ARG);
    if (wolfSSL_check_domain_name(ssl_, h.c_str()) != WOLFSSL_SUCCESS) return make_tls_error(BAD_FUNC_ARG);
    return {};
}

tls_engine::step tls_engine::classify(int ret) {
    const int err = wolfSSL_get_error(ssl_, ret);
    if (err == WOLFSSL_ERROR_WANT_READ) return step::want_read;
    if (err == WOLFSSL_ERROR_ZERO_RETURN || err == SOCKET_PEER_CLOSED_E) return step::eof;
    if (err == SOCKET_ERROR_E && in_eof) return step::eof;
    error_ = make_tls_error(err);
    return step::failed;
}

tls_engine::step tls_engine::handshake() {
    const int ret = server_ ? wolfSSL_accept(ssl_) : wolfSSL_connect(ssl_);
    if (ret == WOLFSSL_SUCCESS) return step::done;
    return classify(ret);
}

tls_engine::step tls_engine::read(std::span<std::byte> buf, std::size_t& n) {
    const int len = static_cast<int>(std::min<std::size_t>(buf.size(), 1u << 30));
    const int ret = wolfSSL_read(ssl_, buf.data(), len);
    if (ret > 0) {
        n = static_cast<std::size_t>(ret);
        return step::done;
    }
    return classify(ret);
}

tls_engine::step tls_engine::write(std::span<const std::byte> buf) {
    const int ret = wolfSSL_write(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (ret == static_cast<int>(buf.size())) return step::done;
    classify(ret);
    if (!error_) error_ = make_tls_error(ret);
    return step::failed;
}

void tls_engine::close_notify() { wolfSSL_shutdown(ssl_); }

std::string_view tls_engine::version() const { return wolfSSL_get_version(ssl_); }
std::string_view tls_engine::cipher() const { return wolfSSL_get_cipher_name(ssl_); }

std::string tls_engine::requested_server_name() const {
    void* data = nullptr;
    const unsigned short n = wolfSSL_SNI_GetRequest(ssl_, WOLFSSL_SNI_HOST_NAME, &data);
    return n && data ? std::string(static_cast<const char*>(data), n) : std::string();
}

}  // namespace detail
}  // namespace qwire
