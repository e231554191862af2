#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/ws/stream.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::ws;


namespace {

// Accepts one upgrade on the pipe's server end.
task<result<stream<pipe_stream>>> accept(pipe_stream s, stream_options opt = {}) {
    byte_buffer in;
    auto req = co_await http::read_request(s, in);
    if (!req) co_return req.error();
    if (auto bad = check_upgrade(*req)) co_return make_error_code(ws::errc::bad_upgrade);
    const std::string head = http::write_head(accept_upgrade(*req));
    auto w = co_await s.write_all(as_bytes(head));
    if (!w) co_return w.error();
    co_return stream<pipe_stream>(std::move(s), role::server, std::move(in), opt);
}

task<result<stream<pipe_stream>>> connect(pipe_stream s) {
    byte_buffer in;
    http::headers extra;
    auto resp = co_await client_handshake(s, in, "localhost", "/x", extra);
    if (!resp) co_return resp.error();
    if (resp->status != 101) co_return make_error_code(ws::errc::upgrade_rejected);
    co_return stream<pipe_stream>(std::move(s), role::client, std::move(in));
}

std::vector<std::byte> raw_frame(opcode op, bool fin, bool mask, std::size_t len) {
    frame_header h;
    h.op = op;
    h.fin = fin;
    h.masked = mask;
    h.payload_length = len;
    std::vector<std::byte> out(max_header_size + len);
    const std::size_t n = encode_header(h, out);
    out.resize(n + len);
    return out;
}

}  // namespace

TEST_CASE("ws stream: handshake, messages both ways, ping, close handshake") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair();
    auto server_side = [](pipe_stream s) -> task<std::vector<std::string>> {
        auto ws = co_await accept(std::move(s));
        std::vector<std::string> got;
        if (!ws) co_return got;
        for (;;) {
            auto m = co_await ws->receive();
            if (!m) {
                got.push_back("closed " + std::to_string(ws->peer_close() ? ws->peer_close()->code : 0));
                break;
            }
            got.push_back(test::text(m->payload));
            const std::string reply = "echo:" + test::text(m->payload);
            co_await ws->send(opcode::binary, as_bytes(reply));
        }
        co_return got;
    };
    auto client_side = [](pipe_stream s) -> task<std::vector<std::string>> {
        auto ws = co_await connect(std::move(s));
        std::vector<std::string> got;
        if (!ws) co_return got;
        const std::string big(100000, 'x');
        const std::string parts[] = {"hel", "lo"};
        const const_buffer pieces[] = {buffer(parts[0]), buffer(parts[1])};
        co_await ws->send(opcode::binary, pieces);
        co_await ws->send(opcode::ping, as_bytes(std::string_view("p")));
        co_await ws->send(opcode::binary, as_bytes(big));
        for (int i = 0; i < 2; ++i) {
            auto m = co_await ws->receive();  // the PONG is skipped
            if (m) got.push_back(test::text(m->payload).substr(0, 10));
        }
        co_await ws->close(close_code::normal, "bye");
        auto end = co_await ws->receive();
        got.push_back(end ? "message?" : end.error() == ws::errc::closed ? "closed" : end.error().message());
        co_return got;
    };
    auto [srv, cli] = r.block_on(when_all(server_side(std::move(b)), client_side(std::move(a))));
    REQUIRE(srv.size() == 3);
    CHECK(srv[0] == "hello");
    CHECK(srv[1] == std::string(100000, 'x'));
    CHECK(srv[2] == "closed 1000");
    CHECK(cli == std::vector<std::string>{"echo:hello", "echo:xxxxx", "closed"});
}

TEST_CASE("ws stream: the server's rules close with 1002, 1003 and 1009") {
    struct tc {
        const char* what;
        std::vector<std::byte> frame;
        std::uint16_t code;
        ws::errc error;
    };
    const tc cases[] = {
        {"fragmented binary", raw_frame(opcode::binary, false, true, 3), close_code::protocol_error, ws::errc::fragmented},
        {"continuation", raw_frame(opcode::continuation, true, true, 3), close_code::protocol_error, ws::errc::fragmented},
        {"text", raw_frame(opcode::text, true, true, 3), close_code::unsupported_data, ws::errc::text_refused},
        {"oversize", raw_frame(opcode::binary, true, true, 2000), close_code::message_too_big, ws::errc::message_too_big},
        {"unmasked", raw_frame(opcode::binary, true, false, 3), close_code::protocol_error, ws::errc::bad_masking},
    };
    for (const auto& c : cases) {
        SECTION(c.what) {
            reactor r;
            auto [a, b] = pipe_stream::make_pair();
            stream_options opt;
            opt.max_message_size = 1000;
            stream<pipe_stream> server(std::move(b), role::server, {}, opt);
            auto run = [&]() -> task<std::pair<std::error_code, std::uint16_t>> {
                co_await a.write_all(std::span<const std::byte>(c.frame));
                auto m = co_await server.receive();
                // What the client gets: a CLOSE with the code.
                stream<pipe_stream> client(std::move(a), role::client);
                auto reply = co_await client.receive();
                co_return std::pair(m ? std::error_code{} : m.error().code(),
                                    reply.error() == ws::errc::closed ? client.peer_close()->code : std::uint16_t{0});
            };
            auto [err, code] = r.block_on(run());
            CHECK(err == c.error);
            CHECK(code == c.code);
        }
    }
}

TEST_CASE("ws handshake: a bad Accept and a refused upgrade are reported") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair();
    auto server = [](pipe_stream s, std::string answer) -> task<void> {
        byte_buffer in;
        co_await http::read_request(s, in);
        co_await s.write_all(as_bytes(answer));
    };
    auto client = [](pipe_stream s) -> task<result<http::response>> {
        byte_buffer in;
        http::headers none;
        co_return co_await client_handshake(s, in, "h", "/", none);
    };
    const std::string wrong =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n";
    auto [_, got] = r.block_on(when_all(server(std::move(b), wrong), client(std::move(a))));
    CHECK(got.error() == ws::errc::bad_upgrade);

    auto [c, d] = pipe_stream::make_pair();
    const std::string refused = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope";
    auto [__, got2] = r.block_on(when_all(server(std::move(d), refused), client(std::move(c))));
    REQUIRE(got2);
    CHECK(got2->status == 401);
    CHECK(got2->body == "nope");

    http::request req;
    req.headers.add("Upgrade", "websocket");
    req.headers.add("Connection", "Upgrade");
    req.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    req.headers.add("Sec-WebSocket-Version", "8");
    auto bad = check_upgrade(req);
    REQUIRE(bad);
    CHECK(bad->status == 426);
    CHECK(bad->headers.get("Sec-WebSocket-Version") == "13");
}

TEST_CASE("ws stream: a client's frames from racing senders and its PONG replies reach the server byte for byte") {
    reactor r;
    // A small pipe, so every write suspends partway and the senders meet.
    auto [a, b] = pipe_stream::make_pair(97);
    constexpr int messages = 150, pings = 60;
    int received = 0, mismatched = 0;
    std::error_code server_error;
    auto expected = [](int sender, int i) {
        auto v = test::pattern(static_cast<std::size_t>((i * 131 + sender * 17) % 3000), static_cast<unsigned>(sender * 1000 + i + 1));
        v.insert(v.begin(), static_cast<std::byte>(sender));  // which sender: each one's frames arrive in order
        return v;
    };
    auto server = [&](pipe_stream s) -> task<void> {
        auto w = (co_await accept(std::move(s))).value();
        // PINGs: the client's receive() answers each with a PONG, written
        // while its senders are writing frames. Then one "done" message.
        auto pinger = [&]() -> task<void> {
            for (int i = 0; i < pings; ++i) {
                const std::string body = "ping " + std::to_string(i);
                auto p = co_await w.send(opcode::ping, test::bytes(body));
                if (!p) co_return;
            }
            const std::string done = "done";
            auto d = co_await w.send(opcode::binary, test::bytes(done));
            (void)d;
        };
        // Reads until the client's CLOSE, so no writer of the client's ever waits on a reader that left.
        auto reader = [&]() -> task<void> {
            int next[2] = {0, 0};
            for (;;) {
                auto m = co_await w.receive();
                if (!m) {
                    if (m.error() != ws::errc::closed) server_error = m.error();
                    co_return;
                }
                const std::vector<std::byte> got(m->payload.begin(), m->payload.end());
                const int sender = got.empty() ? -1 : std::to_integer<int>(got[0]);
                if (sender != 0 && sender != 1) {
                    ++mismatched;
                    continue;
                }
                if (got != expected(sender, next[sender]++)) ++mismatched;
                ++received;
            }
        };
        co_await when_all(pinger(), reader());
    };
    auto client = [&](pipe_stream s) -> task<void> {
        auto w = (co_await connect(std::move(s))).value();
        auto send_all = [&](int sender) -> task<void> {
            for (int i = 0; i < messages; ++i) {
                const auto body = expected(sender, i);
                auto sent = co_await w.send(opcode::binary, std::span<const std::byte>(body));
                if (!sent) co_return;
            }
        };
        auto answer_pings = [&]() -> task<void> {
            auto m = co_await w.receive();  // PINGs are answered inside, until "done"
            (void)m;
        };
        co_await when_all(send_all(0), send_all(1), answer_pings());
        auto c = co_await w.close();
        (void)c;
        auto end = co_await w.receive();  // the server's CLOSE
        (void)end;
    };
    r.block_on(when_all(server(std::move(b)), client(std::move(a))));
    CHECK(!server_error);
    CHECK(received == 2 * messages);
    CHECK(mismatched == 0);
}
