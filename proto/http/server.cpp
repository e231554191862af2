#include <qwire/proto/http/server.hpp>

namespace qwire::http {

response make_response(int status, std::string body, std::string_view content_type) {
    response r;
    r.status = status;
    r.reason = std::string(reason_phrase(status));
    if (!content_type.empty()) r.headers.add("Content-Type", std::string(content_type));
    r.body = std::move(body);
    return r;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

int status_for(std::error_code ec) noexcept {
    if (ec == errc::head_too_large || ec == errc::too_many_headers) return 431;
    if (ec == errc::body_too_large) return 413;
    return 400;
}

namespace {
struct counted {
    std::size_t& n;
    explicit counted(std::size_t& c) : n(c) { ++n; }
    counted(const counted&) = delete;
    ~counted() { --n; }
};

task<void> serve_one(socket_stream s, handler h, server_limits lim, std::stop_token st, std::size_t& active) {
    const counted live(active);
    byte_buffer in;
    co_await serve_requests(s, in, std::move(h), lim, st);
}
}  // namespace

task<void> serve(acceptor& a, handler h, server_limits lim, std::stop_token st) {
    scope clients;
    std::size_t active = 0;
    // Stopping st also stops the clients: their reads watch the scope's token.
    std::stop_callback forward(st, [&] { clients.request_stop(); });
    while (!st.stop_requested()) {
        auto c = co_await a.accept({st});
        if (!c) break;
        if (active >= lim.max_connections) continue;  // closed here
        clients.spawn(serve_one(std::move(*c), h, lim, clients.token(), active));
    }
    clients.request_stop();
    co_await clients.join();
}

}  // namespace qwire::http
