// The QWP sender against a server that drops connections and loses OKs, and
// the test server against clients that hold memory or time: each test pins
// one behaviour of the Hardening issue and is named after it.
#include <qwire/core/log.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "qwp/server_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace qwire;
using namespace qwire::qwp;

namespace {

struct chaos_run {
    std::int64_t rows = 0;
    bool ok = false;
    std::uint64_t reconnects = 0, replayed = 0, server_resets = 0;
    std::map<std::int64_t, int> counts;
};

// Flushes `flushes` chunks of `per` rows (ids 0, 1, 2, ...), syncing every
// `sync_every`, through a server that drops connections and loses OKs.
chaos_run run_chaos(bool symbols, unsigned reset_one_in, unsigned lost_ok_one_in, std::uint64_t seed) {
    test_server_options so;
    so.chaos_reset_one_in = reset_one_in;
    so.chaos_lost_ok_one_in = lost_ok_one_in;
    so.chaos_seed = seed;
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    chaos_run out;
    constexpr int flushes = 300, per = 50, sync_every = 8;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf() +
                                          "in_flight_window=4;reconnect_initial_backoff_millis=1;"
                                          "reconnect_max_backoff_millis=4;reconnect_max_duration_millis=60000;");
        REQUIRE(s);
        const std::vector<std::string_view> dict{"AAPL", "MSFT", "GOOG", "AMZN"};
        std::vector<std::int64_t> ids(per), ts(per);
        std::vector<std::int32_t> codes(per);
        bool all_ok = true;
        for (int f = 0; f < flushes && all_ok; ++f) {
            for (int i = 0; i < per; ++i) {
                ids[i] = out.rows + i;
                ts[i] = 1'700'000'000'000'000'000LL + ids[i];
                codes[i] = static_cast<std::int32_t>(ids[i] % 4);
            }
            chunk c("chaos", per);
            c.column("id", std::span<const std::int64_t>(ids));
            if (symbols) c.symbol<std::int32_t>("sym", codes, dict);
            c.designated(ts);
            auto fl = co_await s->flush(c);
            if (!fl) all_ok = false;
            else out.rows += per;
            if ((f + 1) % sync_every == 0 && all_ok) {
                auto y = co_await s->sync();
                if (!y) all_ok = false;
            }
        }
        if (all_ok) {
            auto y = co_await s->sync();
            all_ok = static_cast<bool>(y);
        }
        out.ok = all_ok;
        out.reconnects = s->counters().reconnects;
        out.replayed = s->counters().replayed_frames;
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    out.server_resets = server.stats().chaos_resets;
    out.counts = test::id_counts(server, "chaos");
    return out;
}

// What the README promises: success means every row flushed is in the
// server at least once (more than once only when an OK was lost).
void check_at_least_once(const chaos_run& c) {
    REQUIRE(c.ok);
    CHECK(c.rows == 300 * 50);
    CHECK(c.server_resets > 0);  // the chaos happened
    CHECK(c.reconnects > 0);
    std::int64_t missing = 0, duplicated = 0;
    for (std::int64_t id = 0; id < c.rows; ++id) {
        auto it = c.counts.find(id);
        if (it == c.counts.end()) ++missing;
        else if (it->second > 1) ++duplicated;
    }
    CHECK(missing == 0);
    INFO("duplicated rows: " << duplicated << ", replayed frames: " << c.replayed);
    CHECK(c.counts.size() == static_cast<std::size_t>(c.rows));  // no id the sender never sent
}

// A bare upgrade request, for clients below the sender.
const std::string upgrade =
    "GET /write/v4 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// Reads until the server closes; false if it did not within 30 s.
task<bool> closed_by_server(socket_stream& s) {
    std::vector<std::byte> buf(4096);
    for (;;) {
        auto n = co_await s.read_some(buf, {clock::now() + std::chrono::seconds(30)});
        if (!n) co_return n.error() != std::errc::timed_out;
    }
}

}  // namespace

TEST_CASE("qwp sender chaos: dropped connections and lost OKs, small window, no symbols: every row arrives") {
    check_at_least_once(run_chaos(false, 11, 3, 1));
}

TEST_CASE("qwp sender chaos: dropped connections and lost OKs, with a symbol dictionary to catch up: every row arrives") {
    check_at_least_once(run_chaos(true, 7, 4, 2));
}

TEST_CASE("qwp sender: a server gone for longer than reconnect_max_duration makes flush and sync fail, never succeed") {
    reactor r;
    auto srv = test_server::start({});
    REQUIRE(srv);
    auto& server = **srv;
    bool flush_failed = false, sync_failed = false, first_ok = false;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf() +
                                          "reconnect_initial_backoff_millis=5;reconnect_max_backoff_millis=20;"
                                          "reconnect_max_duration_millis=200;");
        REQUIRE(s);
        row_buffer rows;
        rows.table("t").column("v", 1).at_now();
        auto f = co_await s->flush(rows);
        auto y = co_await s->sync();
        first_ok = f && y;
        server.stop();  // refuses and drops everything from here on
        rows.table("t").column("v", 2).at_now();
        auto f2 = co_await s->flush(rows);
        auto y2 = co_await s->sync();
        flush_failed = !f2;
        sync_failed = !y2;
    };
    r.block_on(when_all(server.run(), client()));
    CHECK(first_ok);
    CHECK((flush_failed || sync_failed));
    CHECK(sync_failed);
}

TEST_CASE("qwp test server: a small frame of all-NULL VARCHAR rows past max_connection_bytes is refused, not held") {
    qwire::test::captured_log log;
    test_server_options so;
    so.max_connection_bytes = 4 << 20;
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    std::error_code got;
    std::string text;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf());
        REQUIRE(s);
        // 200,000 rows of 4 all-NULL VARCHAR columns: ~100 KB on the wire,
        // 25 MB as decoded strings.
        constexpr std::size_t n = 200'000;
        std::vector<std::int32_t> offsets(n + 1, 0);
        std::vector<std::uint8_t> none((n + 7) / 8, 0);
        std::vector<std::int64_t> ts(n, 1'700'000'000'000'000'000LL);
        const std::byte no_bytes[1]{};
        chunk c("nulls", n);
        for (const char* name : {"a", "b", "c", "d"}) c.varchar(name, std::span<const std::int32_t>(offsets), no_bytes, none.data());
        c.designated(ts);
        auto f = co_await s->flush(c);
        auto y = co_await s->sync();
        got = f ? y.error() : f.error();
        text = std::string(s->last_error().detail());
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    CHECK(got == qwp::errc::parse_error);
    CHECK(text.find("max_connection_bytes 4194304") != std::string::npos);
    CHECK(server.tables().count("nulls") == 0);
    CHECK(log.has("qwp test server: 127.0.0.1:", "memory budget"));
}

TEST_CASE("qwp test server: an unfinished upgrade, an idle connection and connections past the limit are closed") {
    qwire::test::captured_log log;
    test_server_options so;
    so.handshake_timeout = std::chrono::milliseconds(100);
    so.idle_timeout = std::chrono::milliseconds(200);
    so.max_connections = 1;
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    bool silent_closed = false, idle_closed = false, over_limit_closed = false;
    auto client = [&]() -> task<void> {
        const auto port = server.port();
        {
            // Half an upgrade request, then nothing.
            auto s = (co_await connect_tcp("127.0.0.1", port)).value();
            (void)co_await s.write_all(test::bytes(upgrade.substr(0, 20)));
            // The one allowed connection is taken: another is closed at once.
            auto extra = (co_await connect_tcp("127.0.0.1", port)).value();
            over_limit_closed = co_await closed_by_server(extra);
            silent_closed = co_await closed_by_server(s);
        }
        // Upgraded, then silent.
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        (void)co_await s.write_all(test::bytes(upgrade));
        idle_closed = co_await closed_by_server(s);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    CHECK(silent_closed);
    CHECK(idle_closed);
    CHECK(over_limit_closed);
    CHECK(log.has("refused: 1 connections already (max_connections)"));
    CHECK(log.has("refused: bad or unfinished upgrade request"));
    CHECK(log.has("closed: no whole message for 200 ms (idle_timeout)"));
    CHECK(server.stats().refused >= 2);
}
