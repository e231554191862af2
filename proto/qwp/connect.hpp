// Opening QWP connections: the stream (TCP, TLS over TCP, or one the caller
// opened: a Unix socket, TLS over that, the in-memory pipe), the WebSocket
// upgrade with QWP's headers and auth, and what the server's answer says.
//
// Every step is a template over the stream, so a connection over TLS reads
// and writes the TLS stage directly:
//
//     auto s = (co_await connect_unix("/run/qdb.sock")).value();
//     auto in = (co_await qwp::open_ingress(cfg, std::move(s), "localhost")).value();
//     // in.pipe: a pipeline<ws::stream<socket_stream>> behind one pointer
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/qwp/config.hpp>
#include <qwire/proto/qwp/pipeline.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace qwire::qwp {

// What the upgrade told us.
struct server_info {
    std::size_t max_batch_size = 2097138;  // X-QWP-Max-Batch-Size
    bool durable_ack = false;
    std::string role;
};

// Opens the byte stream a sender's connection runs over, when it is not TCP
// (or TLS over TCP) to a config address. Called for the first connection
// and for every reconnect. A sender takes any callable of this shape that
// returns a task of result<S> for a byte_stream S (sender::connect); this
// alias is the type-erased one, for a caller that picks the transport at
// run time.
using stream_factory = std::function<task<result<any_stream>>(op_options)>;

namespace detail {
// The Host header for an address.
std::string host_header(const config::address& a);
// `o` with its deadline cut to now + d (no cut for a zero d).
op_options within(op_options o, clock::duration d);
// The upgrade request's QWP headers: version, client id, auth.
http::headers upgrade_headers(const config& c, http::headers extra);
// A non-101 answer as an error (401/403 unauthorized, 400/426 bad_request,
// 404 no_qwp_endpoint, other handshake_rejected), or a version mismatch.
result<void> check_answer(const http::response& r);
// The client TLS context a config asks for (verification, roots).
result<tls_context> client_tls(const config& c);
// What an ingress upgrade's answer says, checked against the config.
result<server_info> ingress_info(const config& c, const http::response& r);
pipeline_base::options pipeline_options(const config& c, const server_info& info);
}  // namespace detail

// The QWP upgrade on `path` over a stream already open (host: the Host
// header); the WebSocket stage over it, and the server's answer.
template <byte_stream S>
task<result<std::pair<ws::stream<S>, http::response>>> open_ws(const config& c, S s, std::string host,
                                                                std::string path, http::headers extra,
                                                                op_options o = {}) {
    const http::headers headers = detail::upgrade_headers(c, std::move(extra));
    byte_buffer in;
    auto resp = co_await ws::client_handshake(s, in, std::move(host), std::move(path), headers,
                                              detail::within(o, c.auth_timeout));
    if (!resp) co_return resp.error();
    if (auto ok = detail::check_answer(*resp); !ok) co_return ok.error();
    ws::stream_options wo;
    wo.max_message_size = 256 << 20;  // the reference clients' sanity cap
    co_return std::pair(ws::stream<S>(std::move(s), ws::role::client, std::move(in), wo), std::move(*resp));
}

// TCP to `a`, and TLS over it when the config says so; the stream (a
// socket_stream or a tls_stream<socket_stream>) is handed to `then`, a
// callable over either that returns a task of result<R>.
template <class R, class F>
task<result<R>> with_stream(const config& c, const config::address& a, op_options o, F then) {
    auto tcp = co_await connect_tcp(a.host, a.port, detail::within(o, c.connect_timeout));
    if (!tcp) co_return tcp.error();
    if (!c.tls) co_return co_await then(std::move(*tcp));
    auto ctx = detail::client_tls(c);
    if (!ctx) co_return ctx.error();
    auto t = co_await tls_stream<socket_stream>::connect(std::move(*tcp), *ctx, a.host, detail::within(o, c.auth_timeout));
    if (!t) co_return t.error();
    co_return co_await then(std::move(*t));
}

// One ingress connection, upgraded and ready for frames: its pipeline
// (behind one pointer: the stack below it is compiled for its stream) and
// what the server said.
struct ingress {
    std::unique_ptr<pipeline_base> pipe;
    server_info info;
};

// Upgrades a stream to QWP ingress (/write/v4) and starts its pipeline.
template <byte_stream S>
task<result<ingress>> open_ingress(const config& c, S s, std::string host, op_options o = {}) {
    http::headers extra;
    if (c.request_durable_ack) extra.add("X-QWP-Request-Durable-Ack", "true");
    auto w = co_await open_ws(c, std::move(s), std::move(host), "/write/v4", std::move(extra), o);
    if (!w) co_return w.error();
    auto info = detail::ingress_info(c, w->second);
    if (!info) co_return info.error();
    auto opt = detail::pipeline_options(c, *info);
    co_return ingress{std::make_unique<pipeline<ws::stream<S>>>(std::move(w->first), opt), std::move(*info)};
}

// The same over TCP (or TLS) to a config address.
task<result<ingress>> open_ingress(const config& c, const config::address& a, op_options o = {});

// How a sender opens each connection: to an address of the config.
using ingress_connector = std::function<task<result<ingress>>(const config&, const config::address&, op_options)>;

}  // namespace qwire::qwp
