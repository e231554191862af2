#include <qwire/core/when_all.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::qwp;

namespace {

// Ingests `rows` quotes (sym, bid with every 7th NULL, size, note), then
// runs body(reader) against the same test server.
template <class Body>
void with_data(std::size_t rows, std::string reader_conf, Body body) {
    reactor r;
    auto srv = test_server::start();
    REQUIRE(srv);
    auto& server = **srv;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf());
        REQUIRE(s);
        row_buffer buf;
        for (std::size_t i = 0; i < rows; ++i) {
            auto row = buf.table("quotes");
            row.symbol("sym", i % 3 == 0 ? "AAPL" : i % 3 == 1 ? "MSFT" : "GOOG");
            if (i % 7 == 3) row.null("bid", type::double_);
            else row.column("bid", 100.0 + static_cast<double>(i));
            row.column("size", static_cast<std::int64_t>(i)).column("note", "n" + std::to_string(i));
            row.at(1700000000000000000LL + static_cast<std::int64_t>(i));
        }
        auto f = co_await s->flush(buf);
        REQUIRE(f);
        auto y = co_await s->sync();
        REQUIRE(y);
        auto rd = co_await reader::connect(server.conf() + reader_conf);
        REQUIRE(rd);
        co_await body(*rd, server);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
}

}  // namespace

TEST_CASE("qwp reader: a query comes back in batches with every value") {
    with_data(2500, "max_batch_rows=1000;", [](reader& rd, test_server&) -> task<void> {
        CHECK(rd.server().node_id == "test-server");
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        std::size_t seen = 0, batches = 0;
        for (;;) {
            auto b = co_await rd.next();
            REQUIRE(b);
            if (!*b) break;
            const result_batch& batch = **b;
            CHECK(batch.seq == batches);
            ++batches;
            REQUIRE(batch.column("sym"));
            REQUIRE(batch.column("bid"));
            REQUIRE(batch.column("size"));
            REQUIRE(batch.column("timestamp"));
            REQUIRE(batch.column("note"));
            CHECK(batch.column("no such column") == nullptr);
            CHECK(batch.column(99) == nullptr);
            const auto& sym = *batch.column("sym");
            const auto& bid = *batch.column("bid");
            const auto size = batch.column("size")->values<std::int64_t>();
            const auto ts = batch.column("timestamp")->values<std::int64_t>();
            REQUIRE(size.size() == batch.rows());
            for (std::size_t i = 0; i < batch.rows(); ++i, ++seen) {
                CHECK(size[i] == static_cast<std::int64_t>(seen));
                CHECK(ts[i] == 1700000000000000000LL + static_cast<std::int64_t>(seen));
                CHECK(sym.text(i) == (seen % 3 == 0 ? "AAPL" : seen % 3 == 1 ? "MSFT" : "GOOG"));
                CHECK(bid.is_null(i) == (seen % 7 == 3));
                if (seen % 7 != 3) CHECK(bid.values<double>()[i] == 100.0 + static_cast<double>(seen));
                CHECK(batch.column("note")->text(i) == "n" + std::to_string(seen));
            }
        }
        CHECK(seen == 2500);
        CHECK(batches == 3);
        CHECK(rd.total_rows() == 2500);

        // The connection serves the next query; symbols are already known.
        auto e2 = co_await rd.execute("select * from quotes limit 5");
        REQUIRE(e2);
        auto b = co_await rd.next();
        REQUIRE(b);
        REQUIRE(*b);
        CHECK((*b)->rows() == 5);
        CHECK((*b)->column("sym")->text(4) == "MSFT");
        auto end = co_await rd.next();
        REQUIRE(end);
        CHECK(!*end);
    });
}

TEST_CASE("qwp reader: credit flow control, errors, empty results") {
    with_data(3000, "max_batch_rows=500;initial_credit=1;", [](reader& rd, test_server&) -> task<void> {
        // One byte of credit: every batch needs the reader's grant first.
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        std::size_t rows = 0;
        for (;;) {
            auto b = co_await rd.next();
            REQUIRE(b);
            if (!*b) break;
            rows += (*b)->rows();
        }
        CHECK(rows == 3000);

        auto bad = co_await rd.execute("SELECT * FROM missing");
        REQUIRE(bad);
        auto err = co_await rd.next();
        REQUIRE(!err);
        CHECK(err.error() == qwp::errc::parse_error);
        CHECK(rd.error_text() == "table does not exist [table=missing]");

        auto empty = co_await rd.execute("SELECT * FROM quotes LIMIT 0");
        REQUIRE(empty);
        auto b0 = co_await rd.next();
        INFO((b0 ? std::string("ok") : b0.error().message()));
        REQUIRE(b0);
        REQUIRE(*b0);  // batch 0 carries the schema even with no rows
        CHECK((*b0)->rows() == 0);
        CHECK((*b0)->table.columns.size() == 5);
        auto end = co_await rd.next();
        REQUIRE(end);
        CHECK(!*end);
    });
}

namespace {

// The whole result of sql as one batch's columns (the test results are small).
struct answer {
    std::vector<decoded_column> columns;
    std::size_t rows = 0;
    std::string error;
};

task<answer> ask(reader& rd, std::string_view sql) {
    answer a;
    auto e = co_await rd.execute(sql);
    REQUIRE(e);
    for (;;) {
        auto b = co_await rd.next();
        if (!b) {
            a.error = rd.error_text();
            co_return a;
        }
        if (!*b) co_return a;
        REQUIRE(a.columns.empty());  // one batch: the results here are small
        a.columns = (*b)->table.columns;
        a.rows = (*b)->rows();
    }
}

}  // namespace

TEST_CASE("qwp test server: the SQL subset (columns, WHERE, aggregates, LIMIT) and its errors") {
    with_data(100, "", [](reader& rd, test_server&) -> task<void> {
        auto a = co_await ask(rd, "SELECT count(), avg(bid), sum(size), min(size) lo, max(bid) AS hi FROM quotes");
        REQUIRE(a.error.empty());
        REQUIRE(a.rows == 1);
        REQUIRE(a.columns.size() == 5);
        CHECK(a.columns[0].name == "count");
        CHECK(a.columns[0].type == type::long_);
        CHECK(a.columns[0].values<std::int64_t>()[0] == 100);
        // bid is 100 + i, NULL when i % 7 == 3 (14 rows: 3, 10, ..., 94).
        double sum = 0;
        int n = 0;
        for (int i = 0; i < 100; ++i)
            if (i % 7 != 3) sum += 100.0 + i, ++n;
        CHECK(a.columns[1].name == "avg");
        CHECK(a.columns[1].values<double>()[0] == Approx(sum / n));
        CHECK(a.columns[2].type == type::long_);
        CHECK(a.columns[2].values<std::int64_t>()[0] == 4950);
        CHECK(a.columns[3].name == "lo");
        CHECK(a.columns[3].values<std::int64_t>()[0] == 0);
        CHECK(a.columns[4].name == "hi");
        CHECK(a.columns[4].values<double>()[0] == 199.0);

        auto w = co_await ask(rd, "select size, sym from quotes where sym = 'MSFT' and size >= 50 and bid != 0 limit 3");
        REQUIRE(w.error.empty());
        REQUIRE(w.rows == 3);
        REQUIRE(w.columns.size() == 2);
        // MSFT rows have i % 3 == 1: 52, 55, 58 (bid is NULL for none of them; 52 % 7 == 3 is, so it drops out).
        CHECK(w.columns[0].values<std::int64_t>()[0] == 55);
        CHECK(w.columns[0].values<std::int64_t>()[1] == 58);
        CHECK(w.columns[0].values<std::int64_t>()[2] == 61);
        CHECK(w.columns[1].text(0) == "MSFT");

        // Large LONGs: the sum wraps (as QuestDB's does), max is exact.
        auto big = co_await ask(rd, "SELECT max(timestamp), sum(timestamp) FROM quotes");
        REQUIRE(big.error.empty());
        CHECK(big.columns[0].values<std::int64_t>()[0] == 1700000000000000099LL);
        auto none = co_await ask(rd, "SELECT count() FROM quotes WHERE size > 1000");
        REQUIRE(none.error.empty());
        CHECK(none.columns[0].values<std::int64_t>()[0] == 0);
        auto empty_max = co_await ask(rd, "SELECT max(bid) FROM quotes WHERE size > 1000");
        REQUIRE(empty_max.rows == 1);
        CHECK(empty_max.columns[0].is_null(0));

        // Each awaited outside CHECK: g++ 12 may run a co_await inside Catch's macro more than once.
        const std::vector<std::pair<std::string, std::string>> bad{
            {"SELECT nope FROM quotes", "Invalid column: nope"},
            {"SELECT avg(sym) FROM quotes", "avg(sym): SYMBOL is not a number"},
            {"SELECT * FROM quotes WHERE sym = 3", "column sym is SYMBOL: compare it with 'text'"},
            {"SELECT sym, count() FROM quotes", "the test server has no GROUP BY: aggregates cannot be mixed with columns"},
        };
        for (const auto& [sql, text] : bad) {
            const auto a = co_await ask(rd, sql);
            CHECK(a.error == text);
        }
        const auto junk = co_await ask(rd, "SELECT * FROM quotes ORDER BY ts");
        CHECK(junk.error.find("unexpected 'ORDER'") != std::string::npos);
        const auto open = co_await ask(rd, "SELECT * FROM quotes WHERE note = 'it''s");
        CHECK(open.error.find("unterminated string") != std::string::npos);
    });
}
