#include <qwire/core/when_all.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/sender_pool.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::qwp;

namespace {

struct quotes {
    std::vector<std::string> names{"AAPL", "MSFT", "GOOG"};
    std::vector<std::string_view> dict;
    std::vector<std::int32_t> codes;
    std::vector<double> bid;
    std::vector<std::int64_t> size, ts;
    explicit quotes(std::size_t n, std::int64_t t0 = 1700000000000000000LL) {
        for (auto& s : names) dict.push_back(s);
        for (std::size_t i = 0; i < n; ++i) {
            codes.push_back(static_cast<std::int32_t>(i % 3));
            bid.push_back(100.0 + static_cast<double>(i));
            size.push_back(static_cast<std::int64_t>(i));
            ts.push_back(t0 + static_cast<std::int64_t>(i));
        }
    }
    chunk make(std::string table = "quotes") const {
        chunk c(std::move(table), codes.size());
        c.symbol<std::int32_t>("sym", codes, dict).column("bid", std::span<const double>(bid));
        c.column("size", std::span<const std::int64_t>(size)).designated(ts);
        return c;
    }
};

std::size_t rows_of(const test_server& s, const std::string& t) {
    auto it = s.tables().find(t);
    return it == s.tables().end() ? 0 : it->second.rows;
}

// The sizes committed for a table, in order, from the server's record.
std::vector<std::int64_t> committed_sizes(const test_server& s, const std::string& t) {
    std::vector<std::int64_t> out;
    auto it = s.tables().find(t);
    if (it == s.tables().end()) return out;
    for (const auto& b : it->second.blocks)
        for (const auto& c : b.columns)
            if (c.name == "size")
                for (std::size_t i = 0; i < b.rows; ++i) out.push_back(c.get<std::int64_t>(i));
    return out;
}

// Runs body(sender) against a fresh test server; stops the server after.
template <class Body>
void with_server(test_server_options so, std::string extra_conf, Body body) {
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf() + extra_conf);
        REQUIRE(s);
        co_await body(*s, server);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
}

}  // namespace

TEST_CASE("qwp sender: flush and sync deliver every row once") {
    with_server({}, "", [](sender& s, test_server& server) -> task<void> {
        quotes q(1000);
        const chunk c = q.make();
        auto f = co_await s.flush(c);
        REQUIRE(f);
        auto y = co_await s.sync();
        REQUIRE(y);
        CHECK(rows_of(server, "quotes") == 1000);
        const auto sizes = committed_sizes(server, "quotes");
        CHECK(sizes == q.size);
        CHECK(s.in_flight() == 0);
        CHECK(s.server().max_batch_size == (2 << 20) - 14);
        auto c2 = co_await s.close();
        CHECK(c2);
    });
}

TEST_CASE("qwp sender: deferred frames are invisible before sync, visible after") {
    with_server({}, "first_frame_commits=off;", [](sender& s, test_server& server) -> task<void> {
        quotes q(100);
        const chunk c = q.make();
        for (int i = 0; i < 3; ++i) {
            auto f = co_await s.flush(c);
            REQUIRE(f);
        }
        // Let the server read all three frames (bounded by turns, not time).
        for (int turns = 0; turns < 100000 && server.stats().frames < 3; ++turns) co_await test::next_turn();
        REQUIRE(server.stats().frames == 3);
        CHECK(rows_of(server, "quotes") == 0);
        CHECK(s.in_flight() == 3);  // kept until a commit is acknowledged
        auto y = co_await s.sync();
        REQUIRE(y);
        CHECK(rows_of(server, "quotes") == 300);
        CHECK(server.stats().commits == 1);
        CHECK(s.in_flight() == 0);
    });
}

TEST_CASE("qwp sender: a chunk over the batch cap goes as several deferred frames and one commit") {
    with_server({}, "max_batch_bytes=4096;first_frame_commits=off;", [](sender& s, test_server& server) -> task<void> {
        quotes q(5000);
        const chunk c = q.make();
        auto f = co_await s.flush(c);
        REQUIRE(f);
        auto y = co_await s.sync();
        REQUIRE(y);
        CHECK(s.counters().frames > 10);
        CHECK(server.stats().commits == 1);
        CHECK(committed_sizes(server, "quotes") == q.size);
    });
}

TEST_CASE("qwp sender: window of one frame, many flushes, row buffer with several tables") {
    with_server({}, "in_flight_window=1;", [](sender& s, test_server& server) -> task<void> {
        row_buffer rows;
        for (int i = 0; i < 50; ++i) {
            rows.table("a").symbol("k", i % 2 ? "x" : "y").column("v", i).at(1000 + i);
            rows.table("b").column("name", "n" + std::to_string(i)).at_now();
            auto f = co_await s.flush(rows);
            REQUIRE(f);
            CHECK(rows.empty());
            CHECK(s.in_flight() <= 1);
        }
        auto y = co_await s.sync();
        REQUIRE(y);
        CHECK(rows_of(server, "a") == 50);
        CHECK(rows_of(server, "b") == 50);
    });
}

TEST_CASE("qwp sender: SCHEMA_MISMATCH is terminal, with the server's text") {
    with_server({}, "", [](sender& s, test_server&) -> task<void> {
        row_buffer rows;
        rows.table("t").column("v", 1).at_now();
        auto f = co_await s.flush(rows);
        REQUIRE(f);
        auto y = co_await s.sync();
        REQUIRE(y);
        rows.table("t").column("v", 1.5).at_now();  // LONG column, DOUBLE value
        auto f2 = co_await s.flush(rows);
        // Not `f2 ? co_await s.sync() : f2`: g++ 12 destroys the result of
        // a co_await inside ?: twice.
        result<void> y2 = f2;
        if (f2) y2 = co_await s.sync();
        REQUIRE(!y2);
        CHECK(y2.error() == qwp::errc::schema_mismatch);
        // The error returned carries the server's text; so does the next.
        CHECK(std::string(y2.error().detail()).find("column 'v'") != std::string::npos);
        CHECK(y2.error().message().find("column 'v'") != std::string::npos);
        CHECK(s.must_close());
        CHECK(std::string(s.last_error().detail()).find("column 'v'") != std::string::npos);
        auto again = co_await s.sync();
        CHECK(again.error() == qwp::errc::schema_mismatch);
        CHECK(std::string(again.error().detail()).find("column 'v'") != std::string::npos);
    });
}

TEST_CASE("qwp sender: a retriable error reconnects and replays what was not acknowledged") {
    with_server({}, "first_frame_commits=off;reconnect_initial_backoff_millis=1;", [](sender& s, test_server& server) -> task<void> {
        quotes q(300);
        const chunk c = q.make();
        auto f = co_await s.flush(c);
        REQUIRE(f);
        auto y = co_await s.sync();
        REQUIRE(y);
        // The next frame touching "quotes" fails with WRITE_ERROR.
        server.fail_next("quotes", status::write_error, "disk full");
        quotes q2(200, 1800000000000000000LL);
        const chunk c2 = q2.make();
        auto f2 = co_await s.flush(c2);
        REQUIRE(f2);
        auto y2 = co_await s.sync();
        REQUIRE(y2);
        CHECK(s.counters().reconnects == 1);
        CHECK(s.counters().replayed_frames >= 1);
        CHECK(rows_of(server, "quotes") == 500);
        CHECK(server.stats().connections == 2);
        // Symbols still resolve on the new connection.
        const auto& blocks = server.tables().at("quotes").blocks;
        CHECK(blocks.back().columns[0].text(1) == "MSFT");
    });
}

TEST_CASE("qwp sender: a killed server loses no acknowledged row, the rest is replayed after restart") {
    reactor r;
    auto first = test_server::start();
    REQUIRE(first);
    const std::uint16_t port = (*first)->port();
    std::vector<std::int64_t> acknowledged;
    std::unique_ptr<test_server> second;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect((*first)->conf() + "first_frame_commits=off;reconnect_initial_backoff_millis=1;");
        REQUIRE(s);
        quotes q(100);
        const chunk c = q.make();
        auto r1 = co_await s->flush(c);
        REQUIRE(r1);
        auto r2 = co_await s->sync();
        REQUIRE(r2);
        acknowledged = committed_sizes(**first, "quotes");
        // More rows, flushed but not synced; then the server dies.
        quotes q2(50, 1800000000000000000LL);
        for (auto& v : q2.size) v += 1000;
        const chunk c2 = q2.make();
        auto r3 = co_await s->flush(c2);
        REQUIRE(r3);
        (*first)->stop();
        test_server_options so;
        so.port = port;
        auto restarted = test_server::start(so);
        REQUIRE(restarted);
        second = std::move(*restarted);
        reactor::current()->spawn(second->run());
        auto y = co_await s->sync();
        REQUIRE(y);
        CHECK(s->counters().reconnects == 1);
        second->stop();
    };
    r.block_on(when_all((*first)->run(), client()));
    r.run();
    CHECK(acknowledged.size() == 100);
    CHECK(committed_sizes(**first, "quotes") == acknowledged);  // nothing lost
    const auto after = committed_sizes(*second, "quotes");
    REQUIRE(after.size() == 50);  // the deferred frame, replayed
    CHECK(after.front() == 1000);
}

TEST_CASE("qwp sender: credentials, durable acks and refused connections") {
    test_server_options so;
    so.username = "admin";
    so.password = "quest";
    so.durable_ack = true;
    with_server(so, "username=admin;password=quest;request_durable_ack=on;", [](sender& s, test_server& server) -> task<void> {
        CHECK(s.server().durable_ack);
        row_buffer rows;
        rows.table("t").column("v", 1).at_now();
        auto r4 = co_await s.flush(rows);
        REQUIRE(r4);
        auto y = co_await s.sync(ack_level::durable);
        CHECK(y);
        CHECK(rows_of(server, "t") == 1);
    });
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto attempts = [&]() -> task<void> {
        auto wrong = co_await sender::connect((*srv)->conf() + "username=admin;password=nope;");
        CHECK(wrong.error() == qwp::errc::unauthorized);
        auto none = co_await sender::connect((*srv)->conf());
        CHECK(none.error() == qwp::errc::unauthorized);
        (*srv)->stop();
    };
    r.block_on(when_all((*srv)->run(), attempts()));
    auto refused = r.block_on(sender::connect("ws::addr=127.0.0.1:1;"));
    CHECK(!refused);
}

TEST_CASE("qwp sender: ack_level::durable without the server's consent is an error") {
    with_server({}, "", [](sender& s, test_server&) -> task<void> {
        row_buffer rows;
        rows.table("t").column("v", 1).at_now();
        auto r5 = co_await s.flush(rows);
        REQUIRE(r5);
        auto y = co_await s.sync(ack_level::durable);
        CHECK(y.error() == qwp::errc::durable_ack_unavailable);
    });
}

TEST_CASE("qwp config: QuestDB's connect string keys, and clear errors") {
    auto c = config::parse("wss::addr=db1:9000,db2;username=u;password=p;;x;tls_verify=unsafe_off;in_flight_window=32;"
                           "connect_timeout=500;auth_timeout_ms=100;gorilla=on;max_batch_bytes=64k;");
    REQUIRE(c);
    CHECK(c->tls);
    REQUIRE(c->addrs.size() == 2);
    CHECK(c->addrs[1].host == "db2");
    CHECK(c->addrs[1].port == 9000);
    CHECK(c->password == "p;x");
    CHECK(!c->tls_verify);
    CHECK(c->in_flight_window == 32);
    CHECK(c->connect_timeout.count() == 500);
    CHECK(c->max_batch_bytes == 65536);
    auto v6 = config::parse("ws::addr=[::1]:9001;");
    REQUIRE(v6);
    CHECK(v6->addrs[0].host == "::1");
    CHECK(v6->addrs[0].port == 9001);
    // The reader's keys are the reader's: one string serves both directions.
    auto both = config::parse("qwpws::addr=h;target=replica;compression=auto;compression_level=7;max_batch_rows=10;"
                              "sender_pool_min=2;sender_pool_max=3;idle_timeout_ms=5;acquire_timeout_ms=250;"
                              "lazy_connect=on;request_timeout=900;max_buf_size=1m;protocol_version=auto;max_version=1;"
                              "on_server_error=halt;on_write_error=halt;");
    REQUIRE(both);
    CHECK(!both->tls);
    CHECK(both->target == qwp::target::replica);
    CHECK(both->compression == qwp::compression::auto_);
    CHECK(both->compression_level == 7);
    CHECK(both->pool_size == 2);
    CHECK(both->pool_max == 3);
    CHECK(both->pool_idle_timeout.count() == 5);
    CHECK(both->acquire_timeout == std::chrono::milliseconds(250));
    CHECK(both->request_timeout.count() == 900);
    CHECK(both->max_in_flight_bytes == (1u << 20));
    auto tls = config::parse("qwpwss::addr=h;tls_ca=os_roots;");
    REQUIRE(tls);
    CHECK(tls->tls);
    CHECK(config::parse("wss::addr=h;tls_ca=pem_file;tls_roots=/etc/ssl/certs/ca-certificates.crt;").has_value());

    const std::pair<const char*, const char*> bad[] = {
        {"http::addr=h;", "unsupported schema"},
        {"ws::user=u;", "addr is required"},
        {"ws::addr=h;bogus=1;", "unknown key 'bogus'"},
        {"ws::addr=h:99999;", "bad value"},
        {"ws::addr=h;in_flight_window=0;", "bad value '0' for in_flight_window"},
        {"ws::addr=h;token=t;username=u;password=p;", "exclude each other"},
        {"ws::addr=h;username=u;", "go together"},
        {"ws::addr=h;tls_verify=unsafe_off;", "need wss"},
        {"ws::addr=h,h;", "duplicate addr"},
        {"ws::addr=h;auto_flush=on;", "auto_flush"},
        {"ws::addr=h;gorilla=maybe;", "bad value"},
        {"ws::addr=h;compression=gzip;", "bad value 'gzip' for compression"},
        {"ws::addr=h;compression_level=23;", "bad value '23' for compression_level"},
        {"ws::addr=h;target=leader;", "bad value 'leader' for target"},
        {"ws::addr=h;zone=eu-1;", "'zone' is a key of QuestDB's clients that qwire does not support"},
        {"ws::addr=h;failover_max_attempts=0;", "bad value '0' for failover_max_attempts"},
        {"ws::addr=h;failover=maybe;", "bad value 'maybe' for failover"},
        {"ws::addr=h;buffer_pool_size=4;", "'buffer_pool_size' is a key"},
        {"ws::addr=h;sf_dir=/tmp/x;sf_max_segment_bytes=1m;sf_max_total_bytes=64k;", "sf_max_segment_bytes is larger"},
        {"ws::addr=h;initial_connect_retry=later;", "bad value 'later' for initial_connect_retry"},
        {"ws::addr=h;close_flush_timeout_millis=5;", "'close_flush_timeout_millis' is a key"},
        {"ws::addr=h;query_pool_max=4;", "'query_pool_max' is a key"},
        {"ws::addr=h;lazy_connect=maybe;", "bad value 'maybe' for lazy_connect"},
        {"ws::addr=h;on_server_error=drop;", "on_server_error=drop: qwire halts"},
        {"ws::addr=h;on_bogus_error=halt;", "unknown key 'on_bogus_error'"},
        {"ws::addr=h;protocol_version=2;", "QWP has version 1"},
        {"ws::addr=h;max_version=2;", "QWP has version 1"},
        {"wss::addr=h;tls_roots_password=x;", "PEM trust files only"},
        {"wss::addr=h;tls_ca=pem_file;", "tls_ca=pem_file needs tls_roots"},
        {"wss::addr=h;tls_ca=mine;", "bad value 'mine' for tls_ca"},
        {"ws::addr=h;tls_ca=os_roots;", "need wss"},
        {"qwpudp::addr=h;", "unsupported schema 'qwpudp'"},
    };
    for (auto [text, why] : bad) {
        INFO(text);
        auto r = config::parse(text);
        REQUIRE(!r);
        CHECK(r.error() == qwp::errc::bad_config);
        CHECK(std::string(r.error().detail()).find(why) != std::string::npos);
        CHECK(r.error().message().find(why) != std::string::npos);
    }
}

TEST_CASE("qwp pool: borrow, return, pool_max, and broken senders never handed out") {
    reactor r;
    auto srv = test_server::start();
    REQUIRE(srv);
    auto& server = **srv;
    auto body = [&]() -> task<void> {
        auto pool = sender_pool::from_conf(server.conf() + "pool_size=1;pool_max=2;pool_idle_timeout_ms=0;");
        REQUIRE(pool);
        {
            auto a = co_await pool->borrow();
            REQUIRE(a);
            auto b = co_await pool->borrow();
            REQUIRE(b);
            CHECK(pool->open() == 2);
            // A third borrower waits until one is returned.
            auto third = [&]() -> task<bool> {
                auto c = co_await pool->borrow({after(std::chrono::seconds(10))});
                co_return c.has_value();
            };
            auto release = [&]() -> task<void> {
                co_await test::next_turn();
                auto dropped = std::move(*b);  // returned at the end of this scope
                row_buffer rows;
                rows.table("p").column("v", 1).at_now();
                auto f = co_await dropped->flush(rows);
                CHECK(f);
            };
            auto [got, _] = co_await when_all(third(), release());
            CHECK(got);
            CHECK(server.stats().connections == 2);
        }
        // Idle timeout 0: only pool_size = 1 stays open.
        CHECK(pool->open() == 1);
        // A sender that fails terminally is dropped, not reused.
        {
            auto s = co_await pool->borrow();
            REQUIRE(s);
            row_buffer rows;
            rows.table("p").column("v", 1.5).at_now();  // v is LONG: SCHEMA_MISMATCH
            auto f = co_await (*s)->flush(rows);
            result<void> y = f;  // not ?: with co_await (g++ 12)
            if (f) y = co_await (*s)->sync();
            CHECK(!y);
            CHECK((*s)->must_close());
        }
        CHECK(pool->idle() == 0);
        auto fresh = co_await pool->borrow();
        REQUIRE(fresh);
        CHECK(!(*fresh)->must_close());
        server.stop();
    };
    r.block_on(when_all(server.run(), body()));
}

TEST_CASE("qwp sender: wss over TLS, verified against the test CA, and its refusals") {
    test_server_options so;
    so.tls_cert = test::cert("server.pem");
    so.tls_key = test::cert("server.key");
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    const std::string port = std::to_string(server.port());
    auto body = [&]() -> task<void> {
        // The certificate is for localhost.
        auto s = co_await sender::connect("wss::addr=localhost:" + port + ";tls_roots=" + test::cert("ca.pem") + ";");
        REQUIRE(s);
        quotes q(500);
        const chunk c = q.make();
        auto f = co_await s->flush(c);
        REQUIRE(f);
        auto y = co_await s->sync();
        REQUIRE(y);
        CHECK(rows_of(server, "quotes") == 500);
        // Another CA: the handshake fails and says why.
        auto untrusted = co_await sender::connect("wss::addr=localhost:" + port + ";tls_roots=" +
                                                  test::cert("other-ca.pem") + ";reconnect_max_duration_millis=0;");
        REQUIRE(!untrusted);
        CHECK(untrusted.error() == tls_errc::certificate_untrusted);
        auto egress = co_await reader::connect("wss::addr=localhost:" + port + ";tls_roots=" + test::cert("ca.pem") + ";");
        REQUIRE(egress);
        auto e = co_await egress->execute("quotes");
        REQUIRE(e);
        auto b = co_await egress->next();
        REQUIRE(b);
        REQUIRE(*b);
        CHECK((*b)->rows() == 500);
        server.stop();
    };
    r.block_on(when_all(server.run(), body()));
}

TEST_CASE("qwp sender: several addr entries are walked until one answers") {
    with_server({}, "", [](sender&, test_server& server) -> task<void> {
        // Port 1 refuses at once; the second address is the server.
        auto s = co_await sender::connect("ws::addr=127.0.0.1:1,127.0.0.1:" + std::to_string(server.port()) + ";");
        REQUIRE(s);
        row_buffer rows;
        rows.table("w").column("v", 1).at_now();
        auto f = co_await s->flush(rows);
        REQUIRE(f);
        auto y = co_await s->sync();
        CHECK(y);
        CHECK(rows_of(server, "w") == 1);
    });
}

TEST_CASE("qwp node roles: a replica's 421 sends the sender on, target picks the reader's node") {
    reactor r;
    test_server_options ro;
    ro.role = test_server_options::node_role::replica;
    test_server_options po;
    po.role = test_server_options::node_role::primary;
    auto rep = test_server::start(ro);
    auto pri = test_server::start(po);
    REQUIRE(rep);
    REQUIRE(pri);
    auto& replica = **rep;
    auto& primary = **pri;
    const std::string rep_addr = "127.0.0.1:" + std::to_string(replica.port());
    const std::string pri_addr = "127.0.0.1:" + std::to_string(primary.port());
    auto client = [&]() -> task<void> {
        // Ingest: the replica refuses with 421, the sender goes on to the primary.
        auto s = co_await sender::connect("ws::addr=" + rep_addr + "," + pri_addr + ";");
        REQUIRE(s);
        row_buffer rows;
        rows.table("w").column("v", 7).at(1);
        auto f = co_await s->flush(rows);
        REQUIRE(f);
        auto y = co_await s->sync();
        CHECK(y);
        CHECK(rows_of(primary, "w") == 1);
        CHECK(rows_of(replica, "w") == 0);
        CHECK(replica.stats().refused == 1);
        // Only the replica: the error says what the node is.
        auto only = co_await sender::connect("ws::addr=" + rep_addr + ";");
        REQUIRE(!only);
        CHECK(only.error() == qwp::errc::role_mismatch);
        CHECK(only.error().message().find("421 from a node with role REPLICA") != std::string::npos);

        // Egress: target=replica skips the primary, target=primary the
        // replica, any takes the first address.
        auto on = [&](std::string conf) -> task<result<std::uint8_t>> {
            auto rd = co_await reader::connect(conf);
            if (!rd) co_return rd.error();
            co_return rd->server().role;
        };
        auto a = co_await on("ws::addr=" + pri_addr + "," + rep_addr + ";target=replica;");
        REQUIRE(a);
        CHECK(*a == 2);
        auto b = co_await on("ws::addr=" + rep_addr + "," + pri_addr + ";target=primary;");
        REQUIRE(b);
        CHECK(*b == 1);
        auto c = co_await on("ws::addr=" + rep_addr + "," + pri_addr + ";");
        REQUIRE(c);
        CHECK(*c == 2);
        auto none = co_await on("ws::addr=" + pri_addr + ";target=replica;");
        REQUIRE(!none);
        CHECK(none.error() == qwp::errc::role_mismatch);
        CHECK(none.error().message().find("is a PRIMARY, not the replica target asks for") != std::string::npos);
        replica.stop();
        primary.stop();
    };
    r.block_on(when_all(replica.run(), primary.run(), client()));
}

TEST_CASE("qwp sender: request_timeout bounds sync, acquire_timeout_ms bounds borrow, connect names a bad key") {
    test_server_options slow;
    slow.ack_delay = std::chrono::hours(1);  // the OK never comes within the test
    with_server(slow, "", [](sender&, test_server& server) -> task<void> {
        auto s = co_await sender::connect(server.conf() + "request_timeout=50;");
        REQUIRE(s);
        row_buffer rows;
        rows.table("slow").column("v", 1).at(1);
        auto f = co_await s->flush(rows);
        REQUIRE(f);
        auto y = co_await s->sync();
        REQUIRE(!y);
        CHECK(y.error() == std::errc::timed_out);

        auto pool = sender_pool::from_conf(server.conf() + "sender_pool_max=1;acquire_timeout_ms=50;");
        REQUIRE(pool);
        auto first = co_await pool->borrow();
        REQUIRE(first);
        auto second = co_await pool->borrow();
        REQUIRE(!second);
        CHECK(second.error() == std::errc::timed_out);

        auto bad = co_await sender::connect(server.conf() + "zone=eu;");
        REQUIRE(!bad);
        CHECK(bad.error() == qwp::errc::bad_config);
        CHECK(bad.error().message() ==
              "QWP: bad connect string: 'zone' is a key of QuestDB's clients that qwire does not support");
    });
}

TEST_CASE("qwp sender events: connected, an address that failed, disconnected, replaying, reconnected, rejected") {
    reactor r;
    auto srv = test_server::start();
    REQUIRE(srv);
    auto& server = **srv;
    std::vector<sender_event> events;
    auto client = [&]() -> task<void> {
        auto c = config::parse("ws::addr=127.0.0.1:1,127.0.0.1:" + std::to_string(server.port()) +
                               ";first_frame_commits=off;reconnect_initial_backoff_millis=1;");
        REQUIRE(c);
        c->on_event = [&](const sender_event& e) { events.push_back(e); };
        auto s = co_await sender::connect(*c);
        REQUIRE(s);
        REQUIRE(events.size() == 2);
        CHECK(events[0].what == sender_event::kind::endpoint_failed);
        CHECK(events[0].port == 1);
        CHECK(events[0].cause == std::errc::connection_refused);
        CHECK(events[1].what == sender_event::kind::connected);
        CHECK(events[1].port == server.port());
        events.clear();

        // A retriable server error: disconnected, then the replay on the
        // next connection, then reconnected.
        quotes q(100);
        const chunk ch = q.make();
        auto f = co_await s->flush(ch);
        REQUIRE(f);
        server.fail_next("quotes", status::write_error, "disk full");
        auto f2 = co_await s->flush(ch);
        REQUIRE(f2);
        auto y = co_await s->sync();
        REQUIRE(y);
        REQUIRE(!events.empty());
        CHECK(events[0].what == sender_event::kind::disconnected);
        CHECK(events[0].cause == qwp::errc::write_error);
        CHECK(std::string(events[0].cause.detail()).find("disk full") != std::string::npos);
        const auto replay = std::find_if(events.begin(), events.end(), [](const auto& e) { return e.what == sender_event::kind::replaying; });
        REQUIRE(replay != events.end());
        CHECK(replay->frames >= 1);
        CHECK(events.back().what == sender_event::kind::reconnected);
        events.clear();

        // A frame the server refuses for good: rejected, with its text.
        row_buffer rows;
        rows.table("quotes").column("size", 1.5).at(1);  // LONG column, DOUBLE value
        auto f3 = co_await s->flush(rows);
        result<void> y3 = f3;
        if (f3) y3 = co_await s->sync();
        REQUIRE(!y3);
        REQUIRE(events.size() == 1);
        CHECK(events[0].what == sender_event::kind::rejected);
        CHECK(events[0].cause == qwp::errc::schema_mismatch);
        CHECK(std::string(events[0].cause.detail()).find("column 'size'") != std::string::npos);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
}

namespace {

// A loopback port nobody listens on now (a server's, after it stopped).
// Call it outside any other reactor's run.
std::uint16_t free_port() {
    reactor r;
    auto srv = test_server::start();
    REQUIRE(srv);
    return (*srv)->port();
}

}  // namespace

TEST_CASE("qwp sender: initial_connect_retry=async starts with the server away, queues, delivers on sync") {
    const std::uint16_t port = free_port();
    const std::string addr = "ws::addr=127.0.0.1:" + std::to_string(port) + ";reconnect_initial_backoff_millis=1;";
    reactor r;
    std::optional<sender> s;
    auto start = [&]() -> task<void> {
        // off (the default): no server, no sender.
        auto off = co_await sender::connect(addr);
        REQUIRE(!off);
        CHECK(off.error() == std::errc::connection_refused);
        auto c = co_await sender::connect(addr + "initial_connect_retry=async;");
        REQUIRE(c);
        s.emplace(std::move(*c));
        quotes q(100);
        for (int i = 0; i < 3; ++i) {
            auto f = co_await s->flush(q.make());
            REQUIRE(f);
        }
        CHECK(s->counters().frames == 3);
    };
    r.block_on(start());
    // The server comes up on that port; sync connects, replays, commits.
    test_server_options o;
    o.port = port;
    auto srv = test_server::start(o);
    REQUIRE(srv);
    auto& server = **srv;
    auto finish = [&]() -> task<void> {
        auto y = co_await s->sync();
        REQUIRE(y);
        CHECK(rows_of(server, "quotes") == 300);
        CHECK(s->counters().replayed_frames == 3);
        server.stop();
    };
    r.block_on(when_all(server.run(), finish()));

    // Without sf_dir the queue is bounded by max_in_flight_bytes.
    const std::string away = "ws::addr=127.0.0.1:" + std::to_string(port) + ";initial_connect_retry=async;max_in_flight_bytes=8k;";
    auto bounded = [&]() -> task<void> {
        auto c = co_await sender::connect(away);
        REQUIRE(c);
        quotes q(1000);  // about 25 KB of frame
        auto f = co_await c->flush(q.make());
        REQUIRE(!f);
        CHECK(f.error() == qwp::errc::over_budget);
        CHECK(f.error().message().find("max_in_flight_bytes (8192)") != std::string::npos);
    };
    r.block_on(bounded());
}

TEST_CASE("qwp sender: initial_connect_retry=on keeps trying until the server answers") {
    const std::uint16_t port = free_port();
    std::unique_ptr<test_server_thread> late;
    auto c = config::parse("ws::addr=127.0.0.1:" + std::to_string(port) +
                           ";initial_connect_retry=on;reconnect_initial_backoff_millis=1;reconnect_max_backoff_millis=5;");
    REQUIRE(c);
    std::size_t failures = 0;
    // The server starts once the sender has been refused twice.
    c->on_event = [&](const sender_event& e) {
        if (e.what == sender_event::kind::endpoint_failed && ++failures == 2) {
            test_server_options o;
            o.port = port;
            late = std::make_unique<test_server_thread>(o);
        }
    };
    reactor r;
    auto run = [&]() -> task<void> {
        auto s = co_await sender::connect(*c);
        REQUIRE(s);
        CHECK(failures >= 2);
        quotes q(10);
        auto f = co_await s->flush(q.make());
        REQUIRE(f);
        auto y = co_await s->sync();
        REQUIRE(y);
    };
    r.block_on(run());
    REQUIRE(late);
    late->stop();
    CHECK(rows_of(late->server(), "quotes") == 10);
}

TEST_CASE("qwp pool: lazy_connect=on lends a sender while the server is away, off refuses the borrow") {
    const std::uint16_t port = free_port();
    const std::string addr = "ws::addr=127.0.0.1:" + std::to_string(port) + ";reconnect_initial_backoff_millis=1;";
    reactor r;
    auto pool = sender_pool::from_conf(addr + "lazy_connect=on;");
    REQUIRE(pool);
    auto strict = sender_pool::from_conf(addr + "lazy_connect=off;");
    REQUIRE(strict);
    std::optional<sender_pool::lease> held;
    auto away = [&]() -> task<void> {
        auto refused = co_await strict->borrow();
        REQUIRE(!refused);
        CHECK(refused.error() == std::errc::connection_refused);
        auto l = co_await pool->borrow();
        REQUIRE(l);
        quotes q(50);
        auto f = co_await (*l)->flush(q.make());
        REQUIRE(f);
        held.emplace(std::move(*l));
    };
    r.block_on(away());
    test_server_options o;
    o.port = port;
    auto srv = test_server::start(o);
    REQUIRE(srv);
    auto& server = **srv;
    auto back = [&]() -> task<void> {
        auto y = co_await (*held)->sync();
        REQUIRE(y);
        CHECK(rows_of(server, "quotes") == 50);
        held.reset();
        server.stop();
    };
    r.block_on(when_all(server.run(), back()));
}
