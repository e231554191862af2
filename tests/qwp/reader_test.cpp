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
