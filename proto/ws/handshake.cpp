#include <qwire/proto/ws/handshake.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha.h>

#include <random>

namespace qwire::ws {

std::string accept_key(std::string_view client_key) {
    std::string s(client_key);
    s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::array<std::uint8_t, WC_SHA_DIGEST_SIZE> digest{};
    wc_ShaHash(reinterpret_cast<const byte*>(s.data()), static_cast<word32>(s.size()), digest.data());
    return http::base64_encode(digest);
}

std::string make_client_key() {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    std::array<std::uint8_t, 16> raw{};
    for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
    return http::base64_encode(raw);
}

namespace {
http::response plain_response(int status, std::string reason, std::string body) {
    http::response r;
    r.status = status;
    r.reason = std::move(reason);
    r.body = std::move(body);
    return r;
}
}  // namespace

std::optional<http::response> check_upgrade(const http::request& r) {
    if (r.method != "GET") return plain_response(400, "Bad Request", "WebSocket upgrade must be a GET\n");
    if (!r.headers.has_token("Upgrade", "websocket"))
        return plain_response(400, "Bad Request", "missing Upgrade: websocket\n");
    if (!r.headers.has_token("Connection", "upgrade"))
        return plain_response(400, "Bad Request", "missing Connection: Upgrade\n");
    const auto key = r.headers.get("Sec-WebSocket-Key");
    if (!key || key->size() != 24) return plain_response(400, "Bad Request", "bad Sec-WebSocket-Key\n");
    if (auto decoded = http::base64_decode(*key); !decoded || decoded->size() != 16)
        return plain_response(400, "Bad Request", "bad Sec-WebSocket-Key\n");
    const auto version = r.headers.get("Sec-WebSocket-Version");
    if (!version || *version != "13") {
        auto resp = plain_response(426, "Upgrade Required", "Sec-WebSocket-Version must be 13\n");
        resp.headers.add("Sec-WebSocket-Version", "13");
        return resp;
    }
    return std::nullopt;
}

http::response accept_upgrade(const http::request& r) {
    http::response resp;
    resp.status = 101;
    resp.reason = "Switching Protocols";
    resp.headers.add("Upgrade", "websocket");
    resp.headers.add("Connection", "Upgrade");
    resp.headers.add("Sec-WebSocket-Accept", accept_key(r.headers.get("Sec-WebSocket-Key").value_or("")));
    return resp;
}

}  // namespace qwire::ws
