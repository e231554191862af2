// The kdb+ <-> QWP type mapping: every kdb+ type through a table_batch into
// the QWP test server and back out through the egress reader and to_k,
// compared value by value (nulls and infinities included), by reference
// (one update) and converted (several); what cannot be mapped is an error
// naming the table and column.
#include <qwire/core/when_all.hpp>
#include <qwire/proto/bridge/mapping.hpp>
#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace qwire;
using namespace qwire::kdb;
using bridge::table_batch;

namespace {

constexpr std::int64_t W = inf_long, N = null_long;
constexpr std::int64_t WI = inf_int, NI = null_int;

k temporal(type_t t, std::initializer_list<std::int64_t> v) { return new_temporal_list(t, std::vector<std::int64_t>(v)); }

k guids() {
    std::vector<guid> g(4);
    for (std::size_t i = 0; i < 16; ++i) g[0][i] = static_cast<std::uint8_t>(i + 1), g[2][i] = static_cast<std::uint8_t>(0xF0 + i);
    g[3].fill(0xAB);  // g[1]: 0Ng
    return new_guid_list(g);
}

k datetimes(std::initializer_list<double> v) {
    k out = new_vector(qtype::datetime, v.size());
    std::copy(v.begin(), v.end(), out.data<double>().begin());
    return out;
}

k strings(std::initializer_list<std::string_view> v) {
    std::vector<k> items;
    for (auto s : v) items.push_back(new_string(s));
    return new_list(std::move(items));
}

const std::chrono::sys_days day = std::chrono::sys_days(std::chrono::year(2026) / 12 / 3);

// Every mappable kdb+ type, four rows with nulls and infinities.
k all_types() {
    const bool bools[] = {true, false, true, true};
    const std::uint8_t bytes[] = {0x00, 0xFF, 0x7F, 0x80};
    const std::int16_t shorts[] = {1, null_short, inf_short, -inf_short};
    const std::int32_t ints[] = {1, null_int, inf_int, -inf_int};
    const float reals[] = {1.5F, null_real, inf_real, -inf_real};
    const double floats[] = {2.5, null_float, inf_float, -inf_float};
    const std::int64_t ts_2024 = 757'479'845'123'456'789LL;  // 2024.01.02D03:04:05.123456789
    return new_table({"time", "sym", "b", "g", "x", "h", "i", "j", "e", "f", "c", "s", "p", "m", "d", "z", "n", "u", "v", "t"},
                     {temporal(qtype::timespan, {32'400'000'000'000LL, 32'401'000'000'000LL, 32'402'000'000'000LL, 32'403'000'000'000LL}),
                      new_symbol_list({"a", "", "bb", "a"}),
                      new_bool_list(bools), guids(), new_byte_list(bytes), new_short_list(shorts), new_int_list(ints),
                      new_long_list({1, N, W, -W}), new_real_list(reals), new_float_list(floats), new_string("ab c"),
                      strings({"hello", "", "\xcf\x80 ok", "x"}),
                      temporal(qtype::timestamp, {ts_2024, N, W, -W}),
                      temporal(qtype::month, {290, NI, WI, 0}),
                      temporal(qtype::date, {8767, NI, WI, -1}),
                      datetimes({8767.128, null_float, inf_float, 0.5}),
                      temporal(qtype::timespan, {3'723'000'000'004LL, N, W, -W}),
                      temporal(qtype::minute, {570, NI, WI, 0}),
                      temporal(qtype::second, {34215, NI, WI, 0}),
                      temporal(qtype::time, {34'215'123, NI, WI, 0})})
        .value();
}

// What comes back for each column (the right-hand side of the mapping).
std::vector<std::pair<std::string, k>> expected_back() {
    const auto ts = [](std::chrono::sys_days d, std::int64_t ns) { return to_kdb_timestamp(d) + ns; };
    using namespace std::chrono;
    const k orig = all_types();
    auto col = [&](const char* n) { return orig.column(n).value(); };
    const std::int64_t day_ns = ts(day, 0);
    return {
        {"sym", col("sym")}, {"b", col("b")}, {"g", col("g")}, {"x", col("x")}, {"h", col("h")}, {"i", col("i")},
        {"j", col("j")}, {"e", col("e")}, {"f", col("f")}, {"c", col("c")}, {"s", col("s")},
        {"p", temporal(qtype::timestamp, {757'479'845'123'456'789LL, N, N, N})},
        {"m", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 3 / 1), 0), N, N, ts(sys_days(year(2000) / 1 / 1), 0)})},
        {"d", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 1 / 2), 0), N, N, ts(sys_days(year(1999) / 12 / 31), 0)})},
        {"z", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 1 / 2), 11'059'200'000'000LL), N, N, ts(sys_days(year(2000) / 1 / 1), 43'200'000'000'000LL)})},
        {"n", new_long_list({3'723'000'000'004LL, N, W, -W})},
        {"u", new_int_list({570, NI, WI, 0})},
        {"v", new_int_list({34215, NI, WI, 0})},
        {"t", new_int_list({34'215'123, NI, WI, 0})},
        {"timestamp", temporal(qtype::timestamp, {day_ns + 32'400'000'000'000LL, day_ns + 32'401'000'000'000LL,
                                                  day_ns + 32'402'000'000'000LL, day_ns + 32'403'000'000'000LL})},
    };
}

// Sends the batch's chunk, commits, and reads the table back as K columns.
std::vector<std::pair<std::string, k>> round_trip(table_batch& batch) {
    reactor r;
    auto srv = qwp::test_server::start();
    REQUIRE(srv);
    auto& server = **srv;
    std::vector<std::pair<std::string, k>> out;
    auto client = [&]() -> task<void> {
        auto s = co_await qwp::sender::connect(server.conf());
        REQUIRE(s);
        auto c = batch.chunk();
        REQUIRE(c);
        auto f = co_await s->flush(*c);
        INFO((f ? "" : f.error().message()));
        REQUIRE(f);
        REQUIRE(co_await s->sync());
        auto rd = co_await qwp::reader::connect(server.conf() + "max_batch_rows=3;");
        REQUIRE(rd);
        auto ex = co_await rd->execute("SELECT * FROM " + batch.table());
        INFO((ex ? "" : ex.error().message() + " " + std::string(ex.error().detail())));
        REQUIRE(ex);
        std::vector<qwp::decoded_column> pieces;  // batches of 3 rows: each column comes in two pieces
        std::size_t columns = 0;
        for (;;) {
            auto b = co_await rd->next();
            REQUIRE(b);
            if (!*b) break;
            columns = (*b)->table.columns.size();
            for (const auto& c2 : (*b)->table.columns) pieces.push_back(c2);
        }
        for (std::size_t i = 0; i < columns; ++i) {
            std::vector<const qwp::decoded_column*> of;
            for (std::size_t p = i; p < pieces.size(); p += columns) of.push_back(&pieces[p]);
            auto x = bridge::to_k(of);
            INFO(pieces[i].name);
            REQUIRE(x);
            out.emplace_back(pieces[i].name, *x);
        }
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    return out;
}

void check_back(const std::vector<std::pair<std::string, k>>& got) {
    const auto want = expected_back();
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(want[i].first << ": got " << to_string(got[i].second) << ", want " << to_string(want[i].second));
        CHECK(got[i].first == want[i].first);
        CHECK(got[i].second == want[i].second);
    }
}

}  // namespace

TEST_CASE("bridge mapping: every kdb+ type to QWP and back, one update by reference") {
    table_batch batch("all_types");
    REQUIRE(batch.append(all_types(), day));
    CHECK(batch.rows() == 4);
    check_back(round_trip(batch));
}

TEST_CASE("bridge mapping: every kdb+ type to QWP and back, updates joined") {
    table_batch batch("all_types");
    const k t = all_types();
    const std::size_t first[] = {0}, rest[] = {1, 2, 3};
    REQUIRE(batch.append(take(t, first).value(), day));
    REQUIRE(batch.append(take(t, rest).value(), day));
    CHECK(batch.rows() == 4);
    check_back(round_trip(batch));
    // The batch is reused: the same rows again give the same answer.
    batch.clear();
    REQUIRE(batch.append(take(t, first).value(), day));
    REQUIRE(batch.append(take(t, rest).value(), day));
    check_back(round_trip(batch));
}

TEST_CASE("bridge mapping: what cannot be mapped is an error naming the table and column") {
    table_batch batch("trade");
    auto longs = new_table({"time", "nested"}, {temporal(qtype::timespan, {1}), new_list({new_long_list({1, 2})})}).value();
    auto e = batch.append(longs, day);
    REQUIRE(!e);
    CHECK(e.error() == bridge::errc::unmappable);
    CHECK(e.error().detail() == "table trade, column nested: a general list of anything but strings has no QuestDB column");
    CHECK(batch.rows() == 0);

    auto latin1 = new_table({"time", "note"}, {temporal(qtype::timespan, {1, 2}), strings({"ok", "caf\xe9"})}).value();
    e = batch.append(latin1, day);
    REQUIRE(!e);
    CHECK(e.error().detail() == "table trade, column note, row 1: the string is not UTF-8, which VARCHAR needs");

    auto null_time = new_table({"time", "px"}, {temporal(qtype::timespan, {1, N}), new_float_list({1.0, 2.0})}).value();
    e = batch.append(null_time, day);
    REQUIRE(!e);
    CHECK(e.error() == bridge::errc::bad_timestamp);
    CHECK(e.error().detail() == "table trade, column time, row 1: the designated timestamp is null or infinite");

    auto good = new_table({"time", "px"}, {temporal(qtype::timespan, {1}), new_float_list({1.0})}).value();
    REQUIRE(batch.append(good, day));
    auto other = new_table({"time", "px"}, {temporal(qtype::timespan, {1}), new_long_list({1})}).value();
    e = batch.append(other, day);
    REQUIRE(!e);
    CHECK(e.error() == bridge::errc::schema_changed);
    CHECK(e.error().detail() == "table trade, column px: not the column the table's first update had there");
    CHECK(batch.rows() == 1);

    table_batch required("quote", bridge::timestamp_source{"ts", false});
    e = required.append(good, day);
    REQUIRE(!e);
    CHECK(e.error().detail() == "table quote has no column ts for the designated timestamp");
}
