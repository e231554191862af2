#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/tick.hpp>

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
