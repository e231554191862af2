// Opening a QWP WebSocket: TCP (or TLS) or a stream the caller opens, the
// upgrade with QWP's headers and auth, and what the server's answer says.
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/proto/qwp/config.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <functional>
#include <string>
#include <utility>

namespace qwire::qwp {

// What the upgrade told us.
struct server_info {
    std::size_t max_batch_size = 2097138;  // X-QWP-Max-Batch-Size
    bool durable_ack = false;
    std::string role;
};

// Opens the byte stream a QWP connection runs over, for a sender whose
// transport is not TCP (or TLS over TCP) to a config address: a Unix socket,
// a stream the caller set up, the in-memory pipe. Called for the first
// connection and for every reconnect.
using stream_factory = std::function<task<result<any_stream>>(op_options)>;

// Opens a QWP WebSocket on `path`: TCP (or TLS), the upgrade with auth and
// X-QWP-Max-Version, the answer classified (401/403 unauthorized, 400/426
// bad_request, 404 no_qwp_endpoint, other non-101 handshake_rejected).
task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, const config::address& a,
                                                                          std::string path, http::headers extra,
                                                                          op_options o = {});
// The same upgrade over a stream already open (host: the Host header).
task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, any_stream s, std::string host,
                                                                          std::string path, http::headers extra,
                                                                          op_options o = {});
// Opens one QWP ingress WebSocket: TCP (or TLS), upgrade, QWP headers; or,
// with a factory, the upgrade over the stream it opens.
task<result<std::pair<ws::stream<any_stream>, server_info>>> open_ingress(const config& c, const config::address& a,
                                                                           op_options o = {},
                                                                           const stream_factory* factory = nullptr);

}  // namespace qwire::qwp
