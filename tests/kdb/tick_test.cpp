#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/rt.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace qwire::kdb;
using qwire::reactor;
using qwire::task;
using qwire::when_all;

namespace {

std::string scratch_dir(const char* tag) {
    auto d = std::filesystem::temp_directory_path() / ("qwire-tick-" + std::to_string(::getpid()) + "-" + tag);
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d.string();
}

k trade_schema() {
    return new_table({"time", "sym", "price", "size"},
                     {new_vector(qtype::timespan, 0), new_symbol_list({}), new_float_list({}), new_long_list({})})
        .value();
}

k feed_columns(std::vector<std::string_view> syms, std::vector<double> px, std::vector<std::int64_t> sz) {
    return new_list_of(new_symbol_list(std::span<const std::string_view>(syms)), new_float_list(px), new_long_list(sz));
}

// Reads n messages from a subscriber, each as "table:syms:prices:time type".
task<void> take(subscriber& s, std::vector<std::string>& out, int n) {
    for (int i = 0; i < n; ++i) {
        auto m = co_await s.next();
        if (!m) co_return;
        if (m->function == "upd") {
            const k t = m->data;
            out.push_back(m->table + ":" + to_string(t.column("sym").value()) + ":" + to_string(t.column("price").value()) +
                          ":" + std::to_string(t.column("time").value().type()));
        } else {
            out.push_back(m->function);
        }
    }
}

}  // namespace

// A tickerplant with a `trade table on loopback TCP, logging to a scratch
// directory that goes away with it.
struct tick_fixture {
    explicit tick_fixture(const char* tag) : dir(scratch_dir(tag)), tp(srv, options(dir)) {
        REQUIRE(tp.add_table("trade", trade_schema()));
    }
    ~tick_fixture() { std::filesystem::remove_all(dir); }
    static tickerplant_options options(const std::string& dir) {
        tickerplant_options o;
        o.log_directory = dir;
        return o;
    }
    reactor r;
    std::string dir;
    server srv;
    tickerplant tp;
    qwire::acceptor a = qwire::tcp_listen("127.0.0.1", 0).value();
    std::uint16_t port = a.local_endpoint().port();
    std::stop_source stop;
};

TEST_CASE("tick log: write, replay from a position, report a bad tail") {
    const auto dir = scratch_dir("log");
    const auto path = dir + "/sym2026.01.02";
    {
        auto w = tick_log_writer::open(path).value();
        for (int i = 0; i < 5; ++i)
            REQUIRE(w.append(new_list_of(new_symbol("upd"), new_symbol("trade"), feed_columns({"IBM"}, {double(i)}, {i}))));
        REQUIRE(w.flush());
        CHECK(w.count() == 5);
    }
    std::vector<std::int64_t> seen;
    auto scan = replay_tick_log(path, 2, [&](const k& rec, std::int64_t n) {
        seen.push_back(n);
        CHECK(parse_tick_message(rec).value().table == "trade");
    });
    REQUIRE(scan);
    CHECK(scan->valid_records == 5);
    CHECK_FALSE(scan->bad_tail);
    CHECK(seen == std::vector<std::int64_t>{2, 3, 4});
    // The header's list count follows the appends (so q's `get` reads it).
    std::ifstream in(path, std::ios::binary);
    char header[8];
    in.read(header, 8);
    std::int32_t n;
    std::memcpy(&n, header + 4, 4);
    CHECK(n == 5);
    CHECK(static_cast<unsigned char>(header[0]) == 0xff);

    // A torn last record: the valid prefix is reported, and appending is refused.
    const auto valid_size = std::filesystem::file_size(path);
    {
        std::ofstream out(path, std::ios::binary | std::ios::app);
        const char partial[] = {0x00, 0x00, 0x03, 0x00, 0x00, 0x00, (char)0xf5, 'u'};
        out.write(partial, sizeof partial);
    }
    auto torn = replay_tick_log(path, 0, [](const k&, std::int64_t) {});
    REQUIRE(torn);
    CHECK(torn->valid_records == 5);
    CHECK(torn->valid_bytes == valid_size);
    CHECK(torn->bad_tail);
    CHECK(tick_log_writer::open(path).error() == errc::truncated);
    std::filesystem::remove_all(dir);
}

TEST_CASE("tick: feed -> tickerplant -> subscribers, filtered by sym, logged, end of day") {
    tick_fixture f("e2e");
    auto& [r, dir, srv, tp, a, port, stop] = f;

    struct seen {
        std::vector<std::string> ibm_only, all;
        std::string schema_columns;
    } got;
    auto clients = [&]() -> task<void> {
        // Named: g++ 12 cannot take a braced list as a coroutine argument inside co_await.
        const std::vector<std::string> ibm{"IBM"};
        auto s1 = (co_await subscriber::subscribe((co_await connection::connect_tcp("127.0.0.1", port)).value(), "trade", ibm))
                      .value();
        auto s2 = (co_await subscriber::subscribe((co_await connection::connect_tcp("127.0.0.1", port)).value())).value();
        got.schema_columns = to_string(s2.schemas().at("trade").column_names().value());
        auto feed = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        // Bulk columns without time (the tickerplant adds it), then one row.
        const k bulk = feed_columns({"IBM", "MSFT", "IBM"}, {1.5, 2.5, 3.5}, {10, 20, 30});
        (void)co_await feed.send_async(new_list_of(new_symbol(".u.upd"), new_symbol("trade"), bulk));
        (void)co_await feed.send_async(
            new_list_of(new_symbol(".u.upd"), new_symbol("trade"), new_list_of(new_symbol("MSFT"), new_float(4.5), new_long(40))));
        (void)co_await feed.query("sync");  // the tickerplant has handled both now (per-connection order)
        co_await tp.end_of_day();
        co_await take(s1, got.ibm_only, 2);
        co_await take(s2, got.all, 3);
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), clients()));
    CHECK(got.schema_columns == "`time`sym`price`size");
    CHECK(got.ibm_only == std::vector<std::string>{"trade:`IBM`IBM:1.5 3.5:16", ".u.end"});
    CHECK(got.all == std::vector<std::string>{"trade:`IBM`MSFT`IBM:1.5 2.5 3.5:16", "trade:,`MSFT:,4.5:16", ".u.end"});

    // Yesterday's log holds both updates, time column included.
    std::vector<std::string> logged;
    const auto yesterday = dir + "/sym" + [&] {
        const std::chrono::year_month_day ymd{tp.date() - std::chrono::days(1)};
        char b[16];
        std::snprintf(b, sizeof b, "%04d.%02u.%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()));
        return std::string(b);
    }();
    auto scan = replay_tick_log(yesterday, 0, [&](const k& rec, std::int64_t) {
        auto m = parse_tick_message(rec).value();
        logged.push_back(m.table + ":" + std::to_string(m.data.count()) + ":" + std::to_string(m.data.items()[0].type()));
    });
    REQUIRE(scan);
    CHECK(logged == std::vector<std::string>{"trade:4:16", "trade:4:16"});
}

TEST_CASE("tick: q-style string subscription and the r.q recovery query") {
    tick_fixture f("rq");
    auto& [r, dir, srv, tp, a, port, stop] = f;
    REQUIRE(tp.add_table("quote", new_table({"time", "sym", "bid"}, {new_vector(qtype::timespan, 0), new_symbol_list({}),
                                                                       new_float_list({})})
                                      .value()));
    std::vector<std::string> out;
    auto client = [&]() -> task<void> {
        auto c = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        auto one = co_await c.query(".u.sub[`trade;`IBM`MSFT]");
        out.push_back(to_string(one.value().items()[0]));
        auto unknown = co_await c.query(".u.sub[`nosuch;`]");
        out.push_back(std::string(unknown.error().detail()));
        const k row = feed_columns({"IBM"}, {1.0}, {1});
        (void)co_await tp.publish("trade", row);
        auto rq = co_await c.query("(.u.sub[`;`];.u `i`L)");
        const auto& parts = rq.value().items();
        out.push_back(std::to_string(parts[0].count()));  // both tables
        out.push_back(to_string(parts[1].items()[0]));    // messages so far
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), client()));
    CHECK(out == std::vector<std::string>{"`trade", "nosuch", "2", "1"});
}

namespace {
task<void> run_rt(connection c, std::int64_t from, std::function<void(const tick_message&, std::int64_t)> fn) {
    (void)co_await rt::subscribe(std::move(c), from, std::move(fn));
}
}  // namespace

TEST_CASE("rt: a subscriber behind the tickerplant replays the log, then goes live") {
    tick_fixture f("rt");
    auto& [r, dir, srv, tp, a, port, stop] = f;
    std::vector<std::int64_t> positions;
    std::vector<double> prices;
    auto on_message = [&](const tick_message& m, std::int64_t pos) {
        positions.push_back(pos - rt::position(tp.date(), 0));
        // Log records carry the column list, live pushes a table.
        const k px = m.data.is_table() ? m.data.column("price").value() : m.data.items()[2];
        prices.push_back(px.get_float_list().value()[0]);
        if (positions.size() == 5) stop.request_stop();
    };
    auto client = [&]() -> task<void> {
        for (int i = 0; i < 4; ++i) {
            const k row = feed_columns({"IBM"}, {double(i)}, {i});
            (void)co_await tp.publish("trade", row);
        }
        auto c = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        qwire::scope s;
        // From message 1 of today: whatever was published before the
        // subscription was answered comes from the log, the rest live; each once.
        s.spawn(run_rt(std::move(c), rt::position(tp.date(), 1), on_message));
        const k four = feed_columns({"IBM"}, {4.0}, {4}), five = feed_columns({"IBM"}, {5.0}, {5});
        (void)co_await tp.publish("trade", four);
        (void)co_await tp.publish("trade", five);
        co_await s.join();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), client()));
    CHECK(positions == std::vector<std::int64_t>{1, 2, 3, 4, 5});
    CHECK(prices == std::vector<double>{1, 2, 3, 4, 5});
}

namespace {
task<void> run_rt_handlers(connection c, std::int64_t from, rt::handlers h) {
    (void)co_await rt::subscribe(std::move(c), from, std::move(h));
}
}  // namespace

TEST_CASE("rt: a subscriber from day one replays three days of logs, a torn tail reported, then live with typed signals") {
    using namespace std::chrono;
    const sys_days day1 = sys_days(year(2026) / 1 / 5);
    const auto dir = scratch_dir("rt3");
    reactor r;
    server srv;
    tickerplant_options o;
    o.log_directory = dir;
    o.start_date = day1;
    tickerplant tp(srv, o);
    REQUIRE(tp.add_table("trade", trade_schema()));
    REQUIRE(rt::add_internal_tables(tp));
    auto a = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source stop;

    auto rel = [&](std::int64_t pos) {  // "day:number" of a position
        return std::to_string((rt::position_day(pos) - day1).count() + 1) + ":" + std::to_string(rt::position_number(pos));
    };
    std::vector<std::string> got;
    std::vector<std::string> bad_logs;
    const timestamp_t end_ts = from_kdb_timestamp(1'000'000'000);
    rt::handlers h;
    h.on_update = [&](const std::string& t, const k& rows, std::int64_t pos) {
        got.push_back(rel(pos) + " " + t + " " + to_string(rows.column("price").value()));
    };
    h.on_end_of_day = [&](sys_days d, std::int64_t pos) {
        got.push_back(rel(pos) + " end " + std::to_string((d - day1).count() + 1));
    };
    h.on_partition_end = [&](const rt::partition_end& e, std::int64_t pos) {
        got.push_back(rel(pos) + " prtnEnd " + e.signal + " " + std::to_string(e.end_ts == end_ts) + " " + to_string(e.opts));
    };
    h.on_reload = [&](const rt::reload& e, std::int64_t pos) {
        got.push_back(rel(pos) + " reload " + e.mount + " " + to_string(e.params) + " " + e.assembly);
        stop.request_stop();
    };
    h.on_bad_log = [&](const std::string& path, const tick_log_scan& scan) {
        bad_logs.push_back(std::filesystem::path(path).filename().string() + " " + std::to_string(scan.valid_records));
    };

    auto client = [&]() -> task<void> {
        auto pub = rt::publisher((co_await connection::connect_tcp("127.0.0.1", port)).value());
        // Day 1: two messages, day 2: three, day 3 (today): one.
        for (int day = 0; day < 3; ++day) {
            for (int i = 0; i < (day == 0 ? 2 : day == 1 ? 3 : 1); ++i) {
                const k row = new_dict(new_symbol_list({"sym", "price", "size"}),
                                       new_list_of(new_symbol("IBM"), new_float(day * 10 + i), new_long(i)))
                                  .value();
                auto pushed = co_await pub.push("trade", row);
                REQUIRE(pushed);
            }
            auto next = co_await pub.sync();
            REQUIRE(next);
            CHECK(rel(*next) == std::to_string(day + 1) + ":" + (day == 0 ? "2" : day == 1 ? "3" : "1"));
            if (day < 2) co_await tp.end_of_day();
        }
        // A crash mid-append on day 2: its last record torn.
        const auto day2_log = dir + "/sym2026.01.06";
        std::filesystem::resize_file(day2_log, std::filesystem::file_size(day2_log) - 3);

        qwire::scope s;
        s.spawn(run_rt_handlers((co_await connection::connect_tcp("127.0.0.1", port)).value(), rt::position(day1, 1), h));
        const k live = new_table({"sym", "price", "size"}, {new_symbol_list({"IBM"}), new_float_list({99.0}), new_long_list({9})}).value();
        auto p1 = co_await pub.push("trade", live);
        auto p2 = co_await pub.push(rt::partition_end_table, rt::partition_end_row("eoi", end_ts, new_long(1)));
        auto p3 = co_await pub.push(rt::reload_table, rt::reload_row("idb", new_symbol("p"), "asm1"));
        CHECK((p1 && p2 && p3));
        co_await s.join();
    };
    r.block_on(when_all(srv.serve(a, stop.get_token()), client()));
    std::filesystem::remove_all(dir);
    CHECK(bad_logs == std::vector<std::string>{"sym2026.01.06 2"});
    CHECK(got == std::vector<std::string>{
                     "1:1 trade ,1f",  // from message 1 of day one
                     "1:2 end 1",
                     "2:0 trade ,10f",
                     "2:1 trade ,11f",  // the torn third message is not delivered
                     "2:2 end 2",
                     "3:0 trade ,20f",
                     "3:1 trade ,99f",  // live from here
                     "3:2 prtnEnd eoi 1 1",
                     "3:3 reload idb `p asm1",
                 });
}
