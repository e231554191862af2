// A fuzz target for the stages as a peer meets them: bytes from a hostile
// peer fed over the in-memory pipe to a kdb+ server running a tickerplant
// (with a subscriber filtering by sym), to a kdb+ client, and to both ends of
// the WebSocket stage; plus the HTTP heads and auth a server parses and the
// QWP connect string. The first byte picks which.
//
// Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise the
// mutation driver (driver.hpp) runs it from valid seeds for
// QWIRE_FUZZ_SECONDS seconds.
#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/log.hpp>
#include <qwire/core/scope.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/kdb/tick.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/ws/stream.hpp>

#include "driver.hpp"

#include <string>

using namespace qwire;

namespace {

enum target : std::uint8_t { kdb_feed, kdb_client, ws_server, ws_client, http_request, http_response, basic_auth, conf, count };

reactor& the_reactor() {
    static reactor r;
    return r;
}

std::span<const std::byte> as_span(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const std::byte*>(p), n};
}

// Reads until the other end closes (or errs), discarding what arrives.
task<void> drain(pipe_stream& p) {
    std::byte buf[4096];
    for (;;) {
        auto n = co_await p.read_some(buf);
        if (!n || *n == 0) co_return;
    }
}

// A tickerplant whose feed connection sends the fuzz bytes after a valid
// handshake, while a subscriber filtering `IBM follows `trade.
task<void> feed_tickerplant(std::span<const std::byte> in) {
    kdb::server_options so;
    so.lim.max_message_bytes = 1 << 22;
    so.lim.max_decoded_bytes = 1 << 24;
    kdb::server srv(so);
    kdb::tickerplant tp(srv);
    (void)tp.add_table("trade", kdb::new_table({"time", "sym", "price"}, {kdb::new_vector(kdb::qtype::timespan, 0),
                                                                         kdb::new_symbol_list({}), kdb::new_float_list({})})
                                    .value());
    scope s;
    auto [sub_client, sub_server] = pipe_stream::make_pair();
    s.spawn(srv.serve_connection(std::move(sub_server)));
    auto c = co_await kdb::connection::open(std::move(sub_client));
    std::optional<kdb::subscriber> sub;
    if (c) {
        const std::vector<std::string> ibm{"IBM"};
        auto sr = co_await kdb::subscriber::subscribe(std::move(*c), "trade", ibm);
        if (sr) sub.emplace(std::move(*sr));
    }
    auto [feed, feed_server] = pipe_stream::make_pair();
    s.spawn(srv.serve_connection(std::move(feed_server)));
    const std::byte hello[] = {std::byte{'f'}, std::byte{3}, std::byte{0}};
    std::byte cap[1];
    // Named results: g++ 12 miscompiles a co_await inside a condition.
    auto greeted = co_await feed.write_all(std::span<const std::byte>(hello));
    result<std::size_t> answered = greeted.error();  // not ?: with co_await (g++ 12)
    if (greeted) answered = co_await feed.read_some(cap);
    if (answered && *answered == 1) {
        auto sent = co_await feed.write_all(in);
        (void)sent;
        feed.shutdown_write();
        co_await drain(feed);
    }
    feed.close();
    if (sub) sub->conn().close();
    srv.close_all();
    co_await s.join();
}

// A kdb+ client whose server answers the handshake, then sends the fuzz bytes.
task<void> feed_client(std::span<const std::byte> in) {
    auto [client_end, server_end] = pipe_stream::make_pair();
    auto fake_server = [](pipe_stream& p, std::span<const std::byte> in) -> task<void> {
        std::byte buf[256];
        for (;;) {  // the handshake, up to its NUL
            auto n = co_await p.read_some(buf);
            if (!n || *n == 0) co_return;
            if (std::find(buf, buf + *n, std::byte{0}) != buf + *n) break;
        }
        const std::byte cap[] = {std::byte{3}};
        auto replied = co_await p.write_all(std::span<const std::byte>(cap));
        if (!replied) co_return;
        auto sent = co_await p.write_all(in);
        (void)sent;
        p.shutdown_write();
        co_await drain(p);
    };
    auto client = [](pipe_stream p) -> task<void> {
        kdb::connection_options o;
        o.lim.max_message_bytes = 1 << 22;
        o.lim.max_decoded_bytes = 1 << 24;
        auto c = co_await kdb::connection::open(std::move(p), o);
        if (!c) co_return;
        auto v = co_await c->query("x");
        if (v) (void)kdb::to_string(*v);
        for (int i = 0; i < 4; ++i) {
            auto m = co_await c->receive();
            if (!m) break;
            (void)kdb::to_string(m->value);
        }
        c->close();
    };
    co_await when_all(fake_server(server_end, in), client(std::move(client_end)));
}

// One end of the WebSocket stage reading the fuzz bytes as frames.
task<void> feed_ws(std::span<const std::byte> in, ws::role side) {
    auto [ours, theirs] = pipe_stream::make_pair();
    auto peer = [](pipe_stream& p, std::span<const std::byte> in) -> task<void> {
        auto sent = co_await p.write_all(in);
        (void)sent;
        p.shutdown_write();
        co_await drain(p);
    };
    auto reader = [](pipe_stream p, ws::role side) -> task<void> {
        ws::stream_options so;
        so.max_message_size = 1 << 20;
        ws::stream<pipe_stream> w(std::move(p), side, {}, so);
        for (int i = 0; i < 64; ++i) {
            auto m = co_await w.receive();
            if (!m) break;
        }
        w.next_layer().close();
    };
    co_await when_all(peer(theirs, in), reader(std::move(ours), side));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Every refused input is a log line; millions of them say nothing here.
    static const bool quiet = (set_log_handler([](log_level, std::string_view) {}), true);
    (void)quiet;
    if (size == 0) return 0;
    const auto which = static_cast<target>(data[0] % target::count);
    const auto in = as_span(data + 1, size - 1);
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (which) {
        case kdb_feed: the_reactor().block_on(feed_tickerplant(in)); break;
        case kdb_client: the_reactor().block_on(feed_client(in)); break;
        case ws_server: the_reactor().block_on(feed_ws(in, ws::role::server)); break;
        case ws_client: the_reactor().block_on(feed_ws(in, ws::role::client)); break;
        case http_request:
            if (auto r = http::parse_request(in); r && *r) {
                (void)ws::check_upgrade((*r)->head);
                if (auto a = (*r)->head.headers.get("Authorization")) (void)http::parse_basic_auth(*a);
            }
            break;
        case http_response: (void)http::parse_response(in); break;
        case basic_auth: (void)http::parse_basic_auth(text); break;
        case conf: (void)qwp::config::parse(text); break;
        default: break;
    }
    return 0;
}

#if !defined(QWIRE_LIBFUZZER)
namespace {

std::vector<std::uint8_t> tagged(target t, std::span<const std::byte> b) {
    std::vector<std::uint8_t> v{static_cast<std::uint8_t>(t)};
    for (auto x : b) v.push_back(static_cast<std::uint8_t>(x));
    return v;
}
std::vector<std::uint8_t> tagged(target t, std::string_view s) { return tagged(t, as_bytes(std::span(s.data(), s.size()))); }

std::vector<std::vector<std::uint8_t>> seeds() {
    using namespace qwire::kdb;
    std::vector<std::vector<std::uint8_t>> out;
    auto message = [](const k& x, msg_type t) {
        byte_buffer b;
        (void)encode_message(x, t, b);
        return std::vector<std::byte>(b.data().begin(), b.data().end());
    };
    const k cols = new_list_of(new_symbol_list({"IBM", "MSFT", "IBM"}), new_float_list({1.5, 2.5, 3.5}));
    const k table = new_table({"time", "sym", "price"}, {new_vector(qtype::timespan, 2), new_symbol_list({"IBM", "MSFT"}),
                                                         new_float_list({1.5, 2.5})})
                        .value();
    auto upd = message(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), cols), msg_type::async);
    auto upd_table = message(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), table), msg_type::sync);
    auto sub = message(new_list_of(new_symbol(".u.sub"), new_symbol("trade"), new_symbol("")), msg_type::sync);
    std::vector<std::byte> both = upd;
    both.insert(both.end(), upd_table.begin(), upd_table.end());
    both.insert(both.end(), sub.begin(), sub.end());
    out.push_back(tagged(kdb_feed, both));
    auto resp = message(table, msg_type::response);
    auto push = message(new_list_of(new_symbol("upd"), new_symbol("trade"), table), msg_type::async);
    resp.insert(resp.end(), push.begin(), push.end());
    out.push_back(tagged(kdb_client, resp));
    // WebSocket frames: masked (to a server) and plain (to a client), with
    // a ping and a close between them.
    for (auto side : {ws_server, ws_client}) {
        byte_buffer frames;
        const std::string payload = "QWP1 payload bytes";
        const const_buffer piece{payload.data(), payload.size()};
        const auto key = ws::random_mask();
        const auto* mask = side == ws_server ? &key : nullptr;
        ws::append_frame(frames, ws::opcode::binary, std::span(&piece, 1), mask);
        ws::append_frame(frames, ws::opcode::ping, std::span(&piece, 1), mask);
        ws::append_frame(frames, ws::opcode::close, std::span<const const_buffer>(), mask);
        out.push_back(tagged(side, frames.data()));
    }
    out.push_back(tagged(http_request,
                         "GET /write/v4 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                         "Authorization: Basic dXNlcjpwYXNz\r\n\r\n"));
    out.push_back(tagged(http_response,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-QWP-Version: 1\r\n\r\n"));
    out.push_back(tagged(http_response, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnone\r\n0\r\n\r\n"));
    out.push_back(tagged(basic_auth, "Basic dXNlcjpwYXNz"));
    out.push_back(tagged(conf, "wss::addr=db1:9000,[::1]:9001;username=u;password=p;;x;tls_verify=on;in_flight_window=32;"
                               "max_in_flight_bytes=64m;reconnect_max_duration_millis=100;"));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    return qwire::test::run_mutations("stage fuzz", seeds(), LLVMFuzzerTestOneInput, argc, argv);
}
#endif
