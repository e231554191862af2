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

#include "bridge/all_types.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace qwire;
using namespace qwire::kdb;
using bridge::table_batch;
using namespace qwire::test::all_types;

namespace {

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
        auto synced = co_await s->sync();
        REQUIRE(synced);
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

    // Times QuestDB's timestamps cannot hold, either way.
    auto far = new_table({"time", "p"}, {temporal(qtype::timespan, {1}), temporal(qtype::timestamp, {inf_long - 1})}).value();
    table_batch far_batch("far");
    e = far_batch.append(far, day);
    REQUIRE(!e);
    CHECK(e.error().detail() == "table far, column p, row 0: the time is outside what QuestDB's timestamps hold");
    qwp::decoded_column micros;
    micros.name = "ts";
    micros.type = qwp::type::timestamp;
    micros.rows = 1;
    const std::int64_t huge = inf_long / 10;
    micros.fixed.resize(8);
    std::memcpy(micros.fixed.data(), &huge, 8);
    auto back = bridge::to_k(micros);
    REQUIRE(!back);
    CHECK(back.error().detail() == "column ts: TIMESTAMP at row 0 is outside what a kdb+ timestamp holds");

    table_batch required("quote", bridge::timestamp_source{"ts", false});
    e = required.append(good, day);
    REQUIRE(!e);
    CHECK(e.error().detail() == "table quote has no column ts for the designated timestamp");
}

TEST_CASE("bridge mapping: symbols keep their names through the dictionary, many names and look-alikes") {
    // Names whose packed words agree and only their lengths differ ("ab" and
    // "abb", "ABCDE" and "ABCDBCDE"), names past 8 bytes, nulls, and enough
    // distinct names that the index grows several times.
    std::vector<std::string> names = {"ab", "abb", "a", "aa", "aaa", "ABCDE", "ABCDBCDE", "ABCD", "ABCDEFGH", "ABCDEFGHI",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ", ""};
    for (int i = 0; i < 3000; ++i) names.push_back("S" + std::to_string(i * 7919 % 10007));
    std::vector<std::string> rows;
    for (std::size_t i = 0; i < 9000; ++i) rows.push_back(names[(i * 31) % names.size()]);
    table_batch batch("syms");
    std::vector<k> want;
    for (std::size_t from = 0; from < rows.size(); from += 3000) {
        std::vector<std::string_view> part(rows.begin() + static_cast<std::ptrdiff_t>(from),
                                           rows.begin() + static_cast<std::ptrdiff_t>(from + 3000));
        std::vector<std::int64_t> t(part.size());
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::int64_t>(from + i);
        auto u = new_table({"time", "sym"}, {new_temporal_list(qtype::timespan, t), new_symbol_list(part)}).value();
        REQUIRE(batch.append(u, day));
    }
    const auto back = round_trip(batch);
    REQUIRE(back.size() == 2);
    REQUIRE(back[0].first == "sym");  // the designated timestamp comes last
    const auto got = back[0].second.get_symbol_list().value();
    REQUIRE(got.size() == rows.size());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) wrong += got[i] != rows[i];
    CHECK(wrong == 0);
}
