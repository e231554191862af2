// Hostile and failing clients against kdb::server and the tickerplant: each
// test pins one behaviour of the Hardening issue and is named after it.
#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/log.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/tick.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>


using namespace qwire::kdb;
using qwire::reactor;
using qwire::socket_stream;
using qwire::task;
using qwire::when_all;

namespace {

// A value the builders refuse, made by filling in nodes by hand: what a
// hostile client can put on the wire.
k raw_table(k names, std::vector<k> cols) {
    auto n = std::make_shared<detail::node>();
    n->t = qtype::table;
    n->items = {std::move(names), new_list(std::move(cols))};
    return k(std::move(n));
}
k raw_dict(k keys, k values) {
    auto n = std::make_shared<detail::node>();
    n->t = qtype::dict;
    n->items = {std::move(keys), std::move(values)};
    return k(std::move(n));
}

std::vector<std::byte> body_of(const k& x) {
    qwire::byte_buffer b;
    REQUIRE(encode(x, b));
    return {b.data().begin(), b.data().end()};
}

k trade_schema() {
    return new_table({"time", "sym", "price"}, {new_vector(qtype::timespan, 0), new_symbol_list({}), new_float_list({})})
        .value();
}

k trade_rows(std::size_t n, double px) {
    std::vector<std::string_view> syms(n, "IBM");
    std::vector<double> prices(n, px);
    return new_list_of(new_symbol_list(std::span<const std::string_view>(syms)), new_float_list(prices));
}

// A client below kdb::connection: handshakes, then does only what the test says.
task<qwire::result<socket_stream>> raw_client(std::uint16_t port) {
    auto s = co_await qwire::connect_tcp("127.0.0.1", port);
    if (!s) co_return s.error();
    const std::byte hello[] = {std::byte{'u'}, std::byte{3}, std::byte{0}};
    auto w = co_await s->write_all(std::span<const std::byte>(hello));
    if (!w) co_return w.error();
    std::byte cap[1];
    auto n = co_await s->read_some(cap);
    if (!n) co_return n.error();
    if (*n != 1) co_return qwire::make_error_code(qwire::errc::eof);
    co_return std::move(*s);
}

task<qwire::result<void>> send_raw(socket_stream& s, const k& x, msg_type t) {
    qwire::byte_buffer b;
    if (auto e = encode_message(x, t, b); !e) co_return e;
    co_return co_await s.write_all(b.data());
}

// Reads until the server closes the connection: eof (or reset) is success,
// anything read is discarded. A deadline far beyond the server's timeouts
// turns a server that never closes into a failure instead of a hang.
task<bool> closed_by_server(socket_stream& s) {
    std::vector<std::byte> buf(1 << 16);
    for (;;) {
        auto n = co_await s.read_some(buf, {qwire::clock::now() + std::chrono::seconds(30)});
        if (!n) co_return n.error() != std::errc::timed_out;
    }
}

struct tp_fixture {
    reactor r;
    server_options so;
    std::optional<server> srv;
    std::optional<tickerplant> tp;
    qwire::acceptor a = qwire::tcp_listen("127.0.0.1", 0).value();
    std::uint16_t port = a.local_endpoint().port();
    std::stop_source stop;
    explicit tp_fixture(server_options o = {}) : so(o) {
        srv.emplace(so);
        tp.emplace(*srv);
        REQUIRE(tp->add_table("trade", trade_schema()));
    }
    template <class Body>
    void run(Body body) {
        auto client = [&]() -> task<void> {
            co_await body();
            stop.request_stop();
        };
        r.block_on(when_all(srv->serve(a, stop.get_token()), client()));
    }
};

}  // namespace

TEST_CASE("decode: a dict or table whose lengths disagree is refused, never built") {
    const k names2 = new_symbol_list({"a", "b"});
    // Keys and values of different counts.
    CHECK(decode(body_of(raw_dict(names2, new_long_list({1})))).error() == errc::length_mismatch);
    // Columns of different lengths.
    CHECK(decode(body_of(raw_table(names2, {new_long_list({1, 2, 3}), new_long_list({1})}))).error() ==
          errc::length_mismatch);
    // More names than columns, and more columns than names.
    CHECK(decode(body_of(raw_table(new_symbol_list({"a", "b", "c"}), {new_long_list({1}), new_long_list({2})}))).error() ==
          errc::length_mismatch);
    CHECK(decode(body_of(raw_table(new_symbol_list({"a"}), {new_long_list({1}), new_long_list({2})}))).error() ==
          errc::length_mismatch);
    // An atom as a column.
    CHECK(decode(body_of(raw_table(names2, {new_long(1), new_long(2)}))).error() == errc::type_mismatch);
    // A keyed table whose key and value tables differ in rows.
    const k kt = new_table({"k"}, {new_long_list({1, 2})}).value(), vt = new_table({"v"}, {new_long_list({1})}).value();
    CHECK(decode(body_of(raw_dict(kt, vt))).error() == errc::length_mismatch);
    // The same shapes, well formed, still decode.
    CHECK(decode(body_of(new_table({"a", "b"}, {new_long_list({1}), new_long_list({2})}).value())));
}

TEST_CASE("decode: a message whose decoded objects would pass max_decoded_bytes is refused while decoding") {
    // 100,000 boolean atoms: 200 KB on the wire, ~15 MB of nodes.
    std::vector<k> atoms(100'000, new_bool(true));
    const auto body = body_of(new_list(std::move(atoms)));
    limits lim;
    lim.max_decoded_bytes = 4 << 20;
    CHECK(decode(body, true, lim).error() == errc::too_large);
    lim.max_decoded_bytes = 64 << 20;
    CHECK(decode(body, true, lim));
}

TEST_CASE("accessors: column() of a table built by hand with fewer columns than names is an error, not a read past the end") {
    const k t = raw_table(new_symbol_list({"a", "b"}), {new_long_list({1})});
    CHECK(t.column("a"));
    CHECK(t.column("b").error() == errc::length_mismatch);
    CHECK(to_string(t) == "?");
}

TEST_CASE("tickerplant: a feed's malformed table does not crash it, the feed is dropped and others go on") {
    qwire::test::captured_log log;
    tp_fixture f;
    std::vector<std::string> got;
    f.run([&]() -> task<void> {
        auto sub = (co_await subscriber::subscribe((co_await connection::connect_tcp("127.0.0.1", f.port)).value(), "trade"))
                       .value();
        // One async (.u.upd; `trade; table) whose columns disagree in length,
        // and one whose names outnumber its columns, from raw clients.
        const std::vector<k> bad_tables = {
            raw_table(new_symbol_list({"time", "sym", "price"}),
                      {new_vector(qtype::timespan, 1000), new_symbol_list({"IBM"}), new_float_list({1.0})}),
            raw_table(new_symbol_list({"time", "sym", "price"}), {new_vector(qtype::timespan, 1)})};
        for (const k& bad : bad_tables) {
            auto evil = (co_await raw_client(f.port)).value();
            auto sent = co_await send_raw(evil, new_list_of(new_symbol(".u.upd"), new_symbol("trade"), bad), msg_type::async);
            REQUIRE(sent);
            const bool closed = co_await closed_by_server(evil);  // awaited outside CHECK: g++ 12 may run it twice there
            CHECK(closed);
        }
        // A sync one from a kdb::connection gets the same treatment.
        auto feed = (co_await connection::connect_tcp("127.0.0.1", f.port)).value();
        const k good = trade_rows(2, 9.5);
        auto ok = co_await feed.query(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), good));
        CHECK(ok);
        auto m = co_await sub.next();
        REQUIRE(m);
        got.push_back(to_string(m->data.column("price").value()));
    });
    CHECK(got == std::vector<std::string>{"9.5 9.5"});
    CHECK(log.has("kdb server: 127.0.0.1:", "closed: kdb: lengths differ"));
}

TEST_CASE("tickerplant: subscribers that join and leave while a feed publishes do not crash it") {
    tp_fixture f;
    constexpr int updates = 300;
    int received = 0;
    f.run([&]() -> task<void> {
        auto steady = (co_await subscriber::subscribe((co_await connection::connect_tcp("127.0.0.1", f.port)).value(), "trade"))
                          .value();
        bool feeding = true;
        auto churn = [&]() -> task<void> {
            // Subscribe (appending to the list publish walks) and leave
            // (erasing from it), over and over, while the feed runs.
            for (int i = 0; feeding && i < 200; ++i) {
                auto c = co_await connection::connect_tcp("127.0.0.1", f.port);
                if (!c) continue;
                auto s = co_await subscriber::subscribe(std::move(*c), "trade");
                if (s) s->conn().close();
            }
        };
        auto feed = [&]() -> task<void> {
            auto c = (co_await connection::connect_tcp("127.0.0.1", f.port)).value();
            for (int i = 0; i < updates; ++i) {
                const k rows = trade_rows(10, i);
                (void)co_await c.send_async(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), rows));
            }
            (void)co_await c.query("sync");
            feeding = false;
        };
        auto read = [&]() -> task<void> {
            while (received < updates) {
                auto m = co_await steady.next();
                if (!m) co_return;
                ++received;
            }
        };
        co_await when_all(churn(), feed(), read());
    });
    CHECK(received == updates);
}

TEST_CASE("tickerplant: a subscriber that stops reading is dropped, the feed and the other subscribers are not held up") {
    qwire::test::captured_log log;
    server_options so;
    so.max_send_queue_bytes = 1 << 20;
    tp_fixture f(so);
    constexpr int updates = 200;
    int received = 0;
    bool slow_closed = false;
    f.run([&]() -> task<void> {
        auto fast = (co_await subscriber::subscribe((co_await connection::connect_tcp("127.0.0.1", f.port)).value(), "trade"))
                        .value();
        // Subscribes, then never reads a byte again.
        auto slow = (co_await raw_client(f.port)).value();
        auto subscribed = co_await send_raw(slow, new_list_of(new_symbol(".u.sub"), new_symbol("trade"), new_symbol("")), msg_type::sync);
        REQUIRE(subscribed);
        auto read = [&]() -> task<void> {
            while (received < updates) {
                auto m = co_await fast.next();
                if (!m) co_return;
                ++received;
            }
        };
        auto feed = [&]() -> task<void> {
            auto c = (co_await connection::connect_tcp("127.0.0.1", f.port)).value();
            // ~200 KB an update, 40 MB in all: far past the slow one's
            // socket buffers and its 1 MiB queue.
            for (int i = 0; i < updates; ++i) {
                const k rows = trade_rows(10'000, i);
                (void)co_await c.send_async(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), rows));
            }
            (void)co_await c.query("sync");
        };
        co_await when_all(read(), feed());
        slow_closed = co_await closed_by_server(slow);
    });
    CHECK(received == updates);
    CHECK(slow_closed);
    CHECK(log.has("closed: slow consumer", "max_send_queue_bytes 1048576"));
}

TEST_CASE("kdb server: a compressed message that inflates past max_message_bytes is refused with 'limit before it is inflated") {
    qwire::test::captured_log log;
    server_options so;
    so.lim.max_message_bytes = 1 << 20;
    so.compress = compression::never;
    server srv(so);
    srv.on_sync([](peer&, k x) -> task<qwire::result<k>> { co_return x; });
    reactor r;
    auto a = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;
    bool refused = false, others_served = false;
    auto clients = [&]() -> task<void> {
        connection_options co;
        co.compress = compression::always;
        auto bomb = (co_await connection::connect_tcp("127.0.0.1", port, co)).value();
        // 8 MB of zeros: a few hundred KB compressed, eight times the limit inflated.
        const k zeros = new_vector(qtype::byte, 8 << 20);
        auto q = co_await bomb.query(zeros);
        refused = !q && q.error() == errc::remote && q.error().detail() == "limit";  // kdb+'s 'limit, then the server closes
        auto other = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        auto ok = co_await other.query(new_long(42));
        others_served = ok && ok->get_long().value() == 42;
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), clients()));
    CHECK(refused);
    CHECK(others_served);
    CHECK(log.has("closed: message over the limit (max_message_bytes 1048576"));
}

TEST_CASE("kdb server: a message stuck halfway and an idle connection are closed by their timeouts") {
    qwire::test::captured_log log;
    server_options so;
    so.read_timeout = std::chrono::milliseconds(100);
    so.idle_timeout = std::chrono::milliseconds(300);
    server srv(so);
    reactor r;
    auto a = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;
    bool half_closed = false, idle_closed = false;
    auto clients = [&]() -> task<void> {
        // Half a header, then nothing (slowloris).
        auto half = (co_await raw_client(port)).value();
        const std::byte part[] = {std::byte{1}, std::byte{1}, std::byte{0}, std::byte{0}};
        (void)co_await half.write_all(std::span<const std::byte>(part));
        half_closed = co_await closed_by_server(half);
        // Logged in, then silent.
        auto idle = (co_await raw_client(port)).value();
        idle_closed = co_await closed_by_server(idle);
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), clients()));
    CHECK(half_closed);
    CHECK(idle_closed);
    CHECK(log.has("(read_timeout)"));
}

TEST_CASE("kdb server: connections past max_connections are closed at accept, with a log line") {
    qwire::test::captured_log log;
    server_options so;
    so.max_connections = 2;
    server srv(so);
    reactor r;
    auto a = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;
    bool third_refused = false, after_close_ok = false;
    auto clients = [&]() -> task<void> {
        auto c1 = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        auto c2 = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        auto c3 = co_await connection::connect_tcp("127.0.0.1", port);
        third_refused = !c3 && c3.error() == errc::access_denied;
        // Once one leaves, there is room again.
        c1.close();
        (void)co_await c2.query("x");  // the server has seen c1 go by the time c2's answer is back
        for (int i = 0; i < 100 && !after_close_ok; ++i) {
            auto c4 = co_await connection::connect_tcp("127.0.0.1", port);
            after_close_ok = static_cast<bool>(c4);
        }
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), clients()));
    CHECK(third_refused);
    CHECK(after_close_ok);
    CHECK(log.has("refused: 2 connections already (max_connections)"));
}

TEST_CASE("kdb server: a refused login and a bad handshake leave a log line naming the peer") {
    qwire::test::captured_log log;
    server srv;
    srv.on_login([](std::string_view user, std::string_view) { return user == "alice"; });
    reactor r;
    auto a = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;
    auto clients = [&]() -> task<void> {
        connection_options co;
        co.credentials = "mallory:x";
        auto c = co_await connection::connect_tcp("127.0.0.1", port, co);
        CHECK(c.error() == errc::access_denied);
        // Credentials that never end.
        auto s = (co_await qwire::connect_tcp("127.0.0.1", port)).value();
        const std::string junk(4096, 'a');
        (void)co_await s.write_all(qwire::test::bytes(junk));
        const bool closed = co_await closed_by_server(s);
        CHECK(closed);
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), clients()));
    CHECK(log.has("kdb server: 127.0.0.1:", "refused: access denied for user 'mallory'"));
    CHECK(log.has("refused: handshake failed"));
}
