// The HTTP/1.1 server and client calls REST needs: a keep-alive request loop
// over any byte_stream (bounded heads and bodies, read deadlines, a clear 4xx
// for bad input), an accept loop, and one request-response exchange for a
// client.
#pragma once

#include <qwire/core/scope.hpp>
#include <qwire/io/socket.hpp>
#include <qwire/proto/http/parser.hpp>

#include <functional>

namespace qwire::http {

struct server_limits {
    server_limits() {}
    limits lim{16 * 1024, 64, 1024 * 1024};  // head, headers, body of a request
    // A connection with no request for idle_timeout is closed; a request
    // that has begun must arrive whole within read_timeout.
    clock::duration idle_timeout = std::chrono::seconds(60);
    clock::duration read_timeout = std::chrono::seconds(10);
    std::size_t max_connections = 256;  // served at once; more are closed at accept
};

// A handler answers one request; status 0 is taken as 500.
using handler = std::function<task<response>(request&)>;

// A response with a body of the given type (Content-Length is added when sent).
response make_response(int status, std::string body, std::string_view content_type = "application/json");
// The reason phrase of a status ("Not Found").
std::string_view reason_phrase(int status) noexcept;
// The status a server answers for a request it could not read (431, 413 or 400).
int status_for(std::error_code ec) noexcept;

// Writes r with its Content-Length; Connection: close unless keep_alive.
template <byte_stream S>
task<result<void>> write_response(S& s, response r, bool keep_alive, op_options o = {}) {
    r.headers.add("Content-Length", std::to_string(r.body.size()));
    r.headers.add("Connection", keep_alive ? "keep-alive" : "close");
    if (r.reason.empty()) r.reason = std::string(reason_phrase(r.status));
    const std::string head = write_head(r);
    const const_buffer pieces[] = {buffer(head), buffer(r.body)};
    co_return co_await s.write_all(std::span<const const_buffer>(pieces), std::move(o));
}

// Serves requests on s until the peer closes, asks to close, sends what
// cannot be read (answered with its 4xx first), or a timeout passes. Bytes
// already read (a sniffed prefix) may be waiting in `in`.
template <byte_stream S>
task<void> serve_requests(S& s, byte_buffer& in, handler h, server_limits lim = {}, std::stop_token st = {}) {
    for (;;) {
        // The head's first byte may take idle_timeout; the rest of the
        // request must follow within read_timeout.
        if (in.size() == 0) {
            auto first = co_await detail::read_more(s, in, op_options(st, clock::now() + lim.idle_timeout));
            if (!first) co_return;
        }
        const op_options reading(st, clock::now() + lim.read_timeout);
        auto req = co_await read_request(s, in, reading, lim.lim);
        result<void> body = req ? result<void>{} : result<void>(req.error());
        if (req) body = co_await read_body(s, in, *req, reading, lim.lim);
        if (!body) {
            if (body.error().category() == category())
                (void)co_await write_response(s, make_response(status_for(body.error()), body.error().message() + "\n", "text/plain"), false,
                                              op_options(st, clock::now() + lim.read_timeout));
            co_return;
        }
        const bool keep = !req->headers.has_token("Connection", "close");
        response answer = co_await h(*req);
        if (answer.status == 0) answer = make_response(500, "no response\n", "text/plain");
        auto w = co_await write_response(s, std::move(answer), keep, op_options(st, clock::now() + lim.read_timeout));
        if (!w || !keep) co_return;
    }
}

// Accepts connections on a and serves each with h until st is stopped.
task<void> serve(acceptor& a, handler h, server_limits lim = {}, std::stop_token st = {});

// Sends r (its body with a Content-Length) and reads the response, its body
// up to lim.max_body_bytes.
template <byte_stream S>
task<result<response>> exchange(S& s, byte_buffer& in, request r, op_options o = {}, limits lim = {}) {
    r.headers.add("Content-Length", std::to_string(r.body.size()));
    const std::string head = write_head(r);
    const const_buffer pieces[] = {buffer(head), buffer(r.body)};
    if (auto w = co_await s.write_all(std::span<const const_buffer>(pieces), o); !w) co_return w.error();
    co_return co_await read_response(s, in, o, lim);
}

}  // namespace qwire::http
