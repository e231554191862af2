#include <qwire/core/notifier.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/sm/emulator.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

using namespace qwire;
using namespace std::chrono;
using kdb::k;
using kdb::timestamp_t;

namespace {

std::string scratch(const char* tag) {
    auto d = std::filesystem::temp_directory_path() / ("qwire-sm-" + std::to_string(::getpid()) + "-" + tag);
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d.string();
}

sm::reload_handler ignore() {
    return [](const std::string&, const sm::reload_signal&) -> task<result<void>> { co_return result<void>{}; };
}

task<void> serve_sm(sm::emulator& em, acceptor& a, std::stop_token st) { co_await em.serve(a, st); }

// What one transport answered, as text to compare.
task<std::vector<std::string>> exercise(sm::emulator& em, std::function<task<result<kdb::connection>>()> connect_q,
                                        sm::rest_client rest) {
    std::vector<std::string> out;
    auto code = [](const error& e) { return std::string(e.category().name()) + ":" + std::to_string(e.value()); };
    auto conn = co_await connect_q();
    REQUIRE(conn);
    sm::client c(std::move(*conn));
    auto rdb = co_await c.register_mount("rdb", {}, ".da.rdb", ignore());
    REQUIRE(rdb);
    out.push_back(std::string("rdb ") + (rdb->is_stream() ? "stream" : "disk") + " timeout " + sm::timespan_text(rdb->timeout.value()));
    // Asked for a minute, capped by the emulator's reload timeout.
    auto idb = co_await c.register_mount("idb", minutes(1), ".da.idb", ignore());
    REQUIRE(idb);
    out.push_back(std::string("idb ") + (idb->is_stream() ? "stream" : "disk") + " timeout " + sm::timespan_text(idb->timeout.value()));
    auto none = co_await c.register_mount("nosuch", {}, ".da.x", ignore());
    out.push_back("q nosuch " + code(none.error()));
    auto no_callback = co_await c.conn().query(new_list_of(kdb::new_symbol(".sm.api.register"), kdb::new_symbol("rdb"),
                                                           kdb::new_timespan(std::int64_t{0}), kdb::new_symbol("")));
    out.push_back("q no callback " + code(sm::map_remote_error(no_callback.error())));
    auto bad_type = co_await c.conn().query(new_list_of(kdb::new_symbol(".sm.api.register"), kdb::new_symbol("rdb"),
                                                        kdb::new_float(1.5), kdb::new_symbol("cb")));
    out.push_back("q bad type '" + std::string(bad_type.error().detail()));
    auto st = co_await c.status();
    REQUIRE(st);
    std::string mounts;
    for (auto& m : *st) mounts += m.mount + (m.params ? (m.params->is_stream() ? "(stream)" : "(disk)") : "()") + " ";
    out.push_back("q status " + mounts);
    em.set_ready(false);
    auto not_ready = co_await c.register_mount("rdb", {}, ".da.rdb", ignore());
    out.push_back("q not ready " + code(not_ready.error()));

    auto rest_not_ready = co_await rest.register_mount("rdb", "http://127.0.0.1:1/cb");
    out.push_back("rest not ready " + code(rest_not_ready.error()));
    em.set_ready(true);
    auto r1 = co_await rest.register_mount("rdb", "http://127.0.0.1:1/cb");
    REQUIRE(r1);
    out.push_back(std::string("rest rdb ") + (*r1 == *rdb ? "same as q" : "differs: " + sm::to_json(*r1) + " vs " + sm::to_json(*rdb)));
    auto r2 = co_await rest.register_mount("nosuch", "http://127.0.0.1:1/cb");
    out.push_back("rest nosuch " + code(r2.error()));
    auto r3 = co_await rest.register_mount("rdb", "ftp://x");
    out.push_back("rest bad callback " + code(r3.error()));
    auto rs = co_await rest.status();
    REQUIRE(rs);
    out.push_back("rest status " + std::to_string(rs->size()) + " " + (rs->front().params == st->front().params ? "same as q" : "differs"));
    co_return out;
}

}  // namespace

TEST_CASE("sm emulator: every call and error over q IPC and REST, on TCP and on a Unix socket, one port each") {
    reactor r;
    sm::emulator_options o;
    o.reload_timeout = seconds(2);
    sm::emulator em(o);
    const auto dir = scratch("calls");
    auto tcp = tcp_listen("127.0.0.1", 0).value();
    const auto port = tcp.local_endpoint().port();
    const std::string path = dir + "/sm.sock";
    auto unix_a = unix_listen(path).value();
    std::stop_source stop;
    std::vector<std::string> via_tcp, via_unix, raw;
    auto client = [&]() -> task<void> {
        via_tcp = co_await exercise(
            em, [&] { return kdb::connection::connect_tcp("127.0.0.1", port); }, sm::rest_client("127.0.0.1", port));
        via_unix = co_await exercise(
            em, [&] { return kdb::connection::connect_unix_path(path); }, sm::rest_client::over_unix(path));
        // Plain HTTP of the wrong kind, on the same port.
        sm::http_endpoint ep;
        ep.host = "127.0.0.1";
        ep.port = port;
        auto call = [&](std::string method, std::string target, std::string body) -> task<std::string> {
            http::request q;
            q.method = std::move(method);
            q.target = std::move(target);
            q.body = std::move(body);
            auto resp = co_await sm::http_call(ep, std::move(q), seconds(5));
            co_return resp ? std::to_string(resp->status) : resp.error().message();
        };
        raw.push_back(co_await call("POST", "/register", "{"));
        raw.push_back(co_await call("POST", "/register", R"({"mount":"rdb"})"));
        raw.push_back(co_await call("POST", "/register", R"({"mount":7,"callback":"http://a:1/"})"));
        raw.push_back(co_await call("POST", "/register", R"({"mount":"rdb","callback":"http://a:1/","timeout":"soon"})"));
        raw.push_back(co_await call("GET", "/register", ""));
        raw.push_back(co_await call("GET", "/nothing", ""));
        raw.push_back(co_await call("POST", "/eoi", "not json"));
        // A q client that sends garbage after its handshake is dropped; the emulator goes on.
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        const std::string hello("u:p\x03\x00", 5);
        (void)co_await s.write_all(as_bytes(std::string_view(hello)));
        std::byte cap{};
        (void)co_await read_exact(s, std::span(&cap, 1));
        const std::string junk = "\x01\x01\x00\x00\xff\xff\xff\x7f garbage";
        (void)co_await s.write_all(as_bytes(std::string_view(junk)));
        std::byte more[16];
        auto end = co_await s.read_some(more);
        raw.push_back(end ? "still open" : "closed");
        auto again = co_await sm::rest_client("127.0.0.1", port).status();
        raw.push_back(again ? "serving" : again.error().message());
        stop.request_stop();
    };
    r.block_on(when_all(serve_sm(em, tcp, stop.get_token()), serve_sm(em, unix_a, stop.get_token()), client()));
    std::filesystem::remove_all(dir);
    const std::vector<std::string> expected{
        "rdb stream timeout 0D00:00:00.000000000",
        "idb disk timeout 0D00:00:02.000000000",
        "q nosuch sm:1",
        "q no callback sm:3",
        "q bad type 'type: timeout must be a timespan",
        "q status rdb(stream) idb(disk) hdb(disk) ",
        "q not ready sm:2",
        "rest not ready sm:2",
        "rest rdb same as q",
        "rest nosuch sm:1",
        "rest bad callback sm:3",
        "rest status 3 same as q",
    };
    CHECK(via_tcp == expected);
    CHECK(via_unix == expected);
    CHECK(raw == std::vector<std::string>{"400", "400", "404", "400", "405", "404", "400", "closed", "serving"});
}

namespace {
k trade_schema() {
    return kdb::new_table({"time", "sym", "price"}, {kdb::new_vector(kdb::qtype::timespan, 0), kdb::new_symbol_list({}), kdb::new_float_list({})})
        .value();
}

task<void> run_client(sm::client& c) { (void)co_await c.run(); }
task<void> run_follow(sm::emulator& em, kdb::connection c) { (void)co_await em.follow_stream(std::move(c)); }
task<void> run_rt(kdb::connection c, kdb::rt::handlers h) { (void)co_await kdb::rt::subscribe(std::move(c), kdb::null_long, std::move(h)); }
task<void> run_http(acceptor& a, http::handler h, std::stop_token st) { co_await http::serve(a, std::move(h), {}, st); }
}  // namespace

TEST_CASE("sm emulator: an end of interval publishes _prtnEnd, signals disk DAs and waits for them, then the stream DA, then _reload") {
    reactor r;
    test::captured_log log;
    const auto dir = scratch("eoi");
    kdb::server tp_srv;
    kdb::tickerplant_options tpo;
    tpo.log_directory = dir;
    kdb::tickerplant tp(tp_srv, tpo);
    REQUIRE(tp.add_table("trade", trade_schema()));
    REQUIRE(kdb::rt::add_internal_tables(tp));
    auto tp_a = tcp_listen("127.0.0.1", 0).value();
    const auto tp_port = tp_a.local_endpoint().port();

    sm::emulator_options o;
    o.reload_timeout = seconds(20);
    sm::emulator em(o);
    auto sm_a = tcp_listen("127.0.0.1", 0).value();
    const auto sm_port = sm_a.local_endpoint().port();
    auto cb_a = tcp_listen("127.0.0.1", 0).value();
    const auto cb_port = cb_a.local_endpoint().port();
    std::stop_source stop;

    std::vector<std::string> events;  // in the order they happened, across every party
    notifier changed;
    bool release_idb = false;
    std::optional<sm::reload_signal> idb_signal, rdb_signal;
    std::optional<std::int64_t> prtn_pos;

    auto flow = [&]() -> task<void> {
        em.set_publisher(kdb::rt::publisher((co_await kdb::connection::connect_tcp("127.0.0.1", tp_port)).value()));
        scope bg;
        bg.spawn(run_follow(em, (co_await kdb::connection::connect_tcp("127.0.0.1", tp_port)).value()));
        // The stream as a DA sees it.
        kdb::rt::handlers h;
        h.on_update = [&](const std::string& t, const k& rows, std::int64_t) { events.push_back("stream " + t + " " + std::to_string(rows.count())); };
        h.on_partition_end = [&](const kdb::rt::partition_end& e, std::int64_t pos) {
            events.push_back("stream _prtnEnd " + e.signal);
            prtn_pos = pos;
            changed.notify_all();
        };
        h.on_reload = [&](const kdb::rt::reload& e, std::int64_t) {
            auto s = sm::signal_from_k(e.params);
            events.push_back("stream _reload " + e.mount + (s ? "" : " bad signal"));
            changed.notify_all();
        };
        bg.spawn(run_rt((co_await kdb::connection::connect_tcp("127.0.0.1", tp_port)).value(), std::move(h)));
        // An IDB-like DA over q IPC, with a timeout: SM waits for it.
        sm::client idb((co_await kdb::connection::connect_tcp("127.0.0.1", sm_port)).value());
        auto reg1 = co_await idb.register_mount("idb", seconds(10), ".da.reload",
                                               [&](const std::string& mount, const sm::reload_signal& s) -> task<result<void>> {
                                                   events.push_back("q DA " + mount + " reloading");
                                                   idb_signal = s;
                                                   changed.notify_all();
                                                   while (!release_idb) (void)co_await changed.wait();
                                                   events.push_back("q DA " + mount + " done");
                                                   co_return result<void>{};
                                               });
        REQUIRE(reg1);
        bg.spawn(run_client(idb));
        // An RDB-like DA over REST.
        bg.spawn(run_http(cb_a,
                          sm::reload_endpoint([&](const std::string& mount, const sm::reload_signal& s) -> task<result<void>> {
                              events.push_back("REST DA " + mount);
                              rdb_signal = s;
                              changed.notify_all();
                              co_return result<void>{};
                          }),
                          stop.get_token()));
        auto reg2 = co_await sm::rest_client("127.0.0.1", sm_port).register_mount("rdb", "http://127.0.0.1:" + std::to_string(cb_port) + "/reload");
        REQUIRE(reg2);
        CHECK(em.registrations() == 2);

        auto feed = (co_await kdb::connection::connect_tcp("127.0.0.1", tp_port)).value();
        const k rows = new_list_of(kdb::new_symbol_list({"IBM", "MSFT"}), kdb::new_float_list({1.0, 2.0}));
        (void)co_await feed.send_async(new_list_of(kdb::new_symbol(".u.upd"), kdb::new_symbol("trade"), rows));
        (void)co_await feed.query("sync");
        // The end of interval, asked by a q client as a user would type it.
        const timestamp_t end = time_point_cast<nanoseconds>(system_clock::now());
        auto ctl = (co_await kdb::connection::connect_tcp("127.0.0.1", sm_port)).value();
        scope asking;
        std::optional<result<k>> answer;
        asking.spawn([](kdb::connection& c, timestamp_t end, std::optional<result<k>>& out, notifier& n) -> task<void> {
            out = co_await c.query(new_list_of(kdb::new_symbol(".sm.eoi"), kdb::new_timestamp(end)));
            n.notify_all();
        }(ctl, end, answer, changed));
        // The IDB DA is reloading; the RDB has heard nothing yet, the emulator waits.
        while (!idb_signal) (void)co_await changed.wait();
        CHECK(!rdb_signal);
        CHECK(!answer);
        release_idb = true;
        changed.notify_all();
        co_await asking.join();
        REQUIRE(answer);
        REQUIRE(*answer);
        auto st = sm::status_from_k(**answer);
        REQUIRE(st);
        // Both _reload rows come back on the stream.
        const op_options until(clock::now() + seconds(20));
        while (std::count_if(events.begin(), events.end(), [](auto& e) { return e.starts_with("stream _reload"); }) < 2) {
            auto w = co_await changed.wait(until);
            REQUIRE(w);
        }
        REQUIRE(idb_signal->disk());
        CHECK(idb_signal->disk()->max_ts == end - nanoseconds(1));
        REQUIRE(rdb_signal);
        REQUIRE(rdb_signal->stream());
        CHECK(rdb_signal->stream()->min_ts == end);
        CHECK(rdb_signal->stream()->end_ts == end);
        REQUIRE(prtn_pos);
        CHECK(rdb_signal->stream()->pos == *prtn_pos);  // the position the stream gave _prtnEnd
        CHECK(st.value()[0].params == rdb_signal);
        stop.request_stop();
        idb.conn().close();
        feed.close();
        ctl.close();
        tp_srv.close_all();
        co_await bg.join();
    };
    r.block_on(when_all(tp_srv.serve(tp_a, stop.get_token()), serve_sm(em, sm_a, stop.get_token()), flow()));
    std::filesystem::remove_all(dir);
    CHECK(events == std::vector<std::string>{"stream trade 2", "stream _prtnEnd eoi", "q DA idb reloading", "q DA idb done",
                                             "REST DA rdb", "stream _reload idb", "stream _reload rdb"});
    CHECK(!log.has("no reload completion"));
}

TEST_CASE("sm emulator: a DA that never completes its reload is waited for only up to the reload timeout") {
    reactor r;
    test::captured_log log;
    sm::emulator_options o;
    o.reload_timeout = milliseconds(50);
    sm::emulator em(o);
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;
    bool finished = false;
    auto flow = [&]() -> task<void> {
        sm::client da((co_await kdb::connection::connect_tcp("127.0.0.1", port)).value());
        notifier never;
        auto reg = co_await da.register_mount("hdb", hours(1), ".da.reload", [&](const std::string&, const sm::reload_signal&) -> task<result<void>> {
            (void)co_await never.wait(op_options(stop.get_token()));
            co_return result<void>{};
        });
        REQUIRE(reg);
        CHECK(reg->timeout == milliseconds(50));
        auto st = co_await em.end_of_day();
        CHECK(st);
        finished = true;
        stop.request_stop();
        da.conn().close();
    };
    r.block_on(when_all(serve_sm(em, a, stop.get_token()), flow()));
    CHECK(finished);
    CHECK(log.has("no reload completion for hdb"));
}
