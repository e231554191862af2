#include <qwire/core/when_all.hpp>
#include <qwire/proto/qwp/arrow.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>
#include <qwire/proto/qwp/test_sql.hpp>
#include <qwire/proto/qwp/zstd.hpp>

#include "qwp/server_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace qwire;
using namespace qwire::qwp;

namespace {

// Ingests `rows` quotes (sym, bid with every 7th NULL, size, note), then
// runs body(reader) against the same test server.
template <class Body>
void with_data(std::size_t rows, std::string reader_conf, Body body, test_server_options opt = {}) {
    reactor r;
    auto srv = test_server::start(opt);
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
        const std::size_t rows = co_await test::drain(rd);
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

task<answer> ask(reader& rd, std::string_view sql, const binds& b = binds()) {
    answer a;
    auto e = co_await rd.execute(sql, b);
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
        const auto junk = co_await ask(rd, "SELECT * FROM quotes GROUP BY sym");
        CHECK(junk.error.find("unexpected 'GROUP'") != std::string::npos);
        const auto nocol = co_await ask(rd, "SELECT * FROM quotes ORDER BY ts");
        CHECK(nocol.error == "Invalid column: ts");
        const auto open = co_await ask(rd, "SELECT * FROM quotes WHERE note = 'it''s");
        CHECK(open.error.find("unterminated string") != std::string::npos);
    });
}

// ---------------------------------------------------------------- zstd

TEST_CASE("qwp reader: compression=zstd gets every batch compressed and the same values as raw") {
    for (const char* conf : {"max_batch_rows=1000;compression=zstd;compression_level=3;",
                             "max_batch_rows=1000;compression=auto;"}) {
        INFO(conf);
        with_data(2500, conf, [](reader& rd, test_server& server) -> task<void> {
            auto e = co_await rd.execute("SELECT * FROM quotes");
            REQUIRE(e);
            std::size_t seen = 0;
            for (;;) {
                auto b = co_await rd.next();
                REQUIRE(b);
                if (!*b) break;
                const auto size = (*b)->column("size")->values<std::int64_t>();
                const auto& sym = *(*b)->column("sym");
                const auto& bid = *(*b)->column("bid");
                for (std::size_t i = 0; i < (*b)->rows(); ++i, ++seen) {
                    CHECK(size[i] == static_cast<std::int64_t>(seen));
                    CHECK(sym.text(i) == (seen % 3 == 0 ? "AAPL" : seen % 3 == 1 ? "MSFT" : "GOOG"));
                    CHECK(bid.is_null(i) == (seen % 7 == 3));
                    CHECK((*b)->column("note")->text(i) == "n" + std::to_string(seen));
                }
            }
            CHECK(seen == 2500);
            CHECK(server.stats().result_batches == 3);
            CHECK(server.stats().zstd_batches == 3);
        });
    }
    // A server that never compresses answers auto and zstd raw; a reader
    // that offers raw (the default) gets raw.
    test_server_options plain;
    plain.zstd = false;
    for (auto [conf, opt] : {std::pair{"compression=auto;", plain}, std::pair{"compression=zstd;", plain},
                             std::pair{"", test_server_options{}}}) {
        INFO(conf);
        with_data(10, conf, [](reader& rd, test_server& server) -> task<void> {
            auto e = co_await rd.execute("SELECT * FROM quotes");
            REQUIRE(e);
            auto b = co_await rd.next();
            REQUIRE(b);
            REQUIRE(*b);
            CHECK((*b)->rows() == 10);
            CHECK((*b)->column("note")->text(9) == "n9");
            CHECK(server.stats().result_batches == 1);
            CHECK(server.stats().zstd_batches == 0);
        }, opt);
    }
}

TEST_CASE("qwp zstd: what a reader offers, and the unpacker refuses frames that lie") {
    CHECK(zstd_offered("raw") == 0);
    CHECK(zstd_offered("zstd") == 1);
    CHECK(zstd_offered("zstd;level=3, raw") == 3);
    CHECK(zstd_offered("ZSTD; level=22") == 9);  // clamped as QuestDB does
    CHECK(zstd_offered("raw, zstd;level=5") == 0);  // the first one this side speaks wins
    CHECK(zstd_offered("br, zstd;level=2") == 2);
    CHECK(zstd_offered("gzip") == 0);
    CHECK(zstd_selected("zstd;level=3").value());
    CHECK(!zstd_selected("raw").value());
    CHECK(!zstd_selected("").value());
    CHECK(!zstd_selected("identity").value());
    auto br = zstd_selected("br");
    REQUIRE(!br);
    CHECK(br.error() == qwp::errc::bad_compression);
    CHECK(br.error().message().find("'br'") != std::string::npos);

    // A real frame, packed the way the test server packs a batch.
    std::vector<std::byte> head(header_size), prefix(10, std::byte{7}), body(5000);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::byte>(i % 13);
    const const_buffer parts[] = {{head.data(), head.size()}, {prefix.data(), prefix.size()}, {body.data(), 3000},
                                  {body.data() + 3000, 2000}};
    zstd_packer packer(3);
    auto packed = packer.pack(parts, prefix.size());
    REQUIRE(packed);
    REQUIRE(packed->size() == 3);
    const auto* h = static_cast<const std::uint8_t*>((*packed)[0].data);
    CHECK((h[5] & flags::zstd) != 0);
    std::uint32_t len;
    std::memcpy(&len, h + 8, 4);
    CHECK(len == prefix.size() + (*packed)[2].size);
    CHECK((*packed)[2].size < body.size() / 4);
    const auto* z = static_cast<const std::byte*>((*packed)[2].data);
    const std::vector<std::byte> frame(z, z + (*packed)[2].size);
    zstd_unpacker unpacker;
    auto back = unpacker.unpack(frame);
    REQUIRE(back);
    CHECK(std::vector<std::byte>(back->begin(), back->end()) == body);

    auto refused = [&](std::vector<std::byte> f, std::size_t cap, const char* why) {
        auto r = unpacker.unpack(f, cap);
        REQUIRE(!r);
        CHECK(r.error() == qwp::errc::bad_compression);
        INFO(r.error().message());
        CHECK(r.error().message().find(why) != std::string::npos);
    };
    refused(frame, 4999, "over the bound of 4999");                                   // declares more than the cap
    refused(std::vector<std::byte>(frame.begin(), frame.end() - 3), 1 << 20, "zstd:");  // truncated
    refused(std::vector<std::byte>(16, std::byte{0x42}), 1 << 20, "not a zstd frame");  // not zstd at all
    refused({}, 1 << 20, "not a zstd frame");
    auto doubled = frame;
    doubled.insert(doubled.end(), frame.begin(), frame.end());  // two frames: more than the first declares
    refused(doubled, 1 << 20, "zstd:");
    auto flipped = frame;
    flipped[flipped.size() / 2] ^= std::byte{0x5a};  // a corrupted block (the checksum or the decoder sees it)
    auto f = unpacker.unpack(flipped);
    if (f) CHECK(std::vector<std::byte>(f->begin(), f->end()) != body);
    else CHECK(f.error() == qwp::errc::bad_compression);
}

TEST_CASE("qwp reader: a connection that drops before a query's first answer fails over, within its budget") {
    test_server_options drops;
    drops.chaos_drop_queries = 2;
    with_data(50, "failover_backoff_initial_ms=1;", [](reader& rd, test_server& server) -> task<void> {
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        const std::size_t rows = co_await test::drain(rd);
        CHECK(rows == 50);
        CHECK(rd.failovers() == 2);
        CHECK(server.stats().chaos_resets == 2);
        CHECK(server.stats().result_batches == 1);
    }, drops);

    // failover=off: the first drop is the query's error.
    drops.chaos_drop_queries = 1;
    with_data(5, "failover=off;", [](reader& rd, test_server&) -> task<void> {
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        auto b = co_await rd.next();
        REQUIRE(!b);
        CHECK(is_disconnect(b.error()));
        CHECK(rd.failovers() == 0);
    }, drops);

    // Three sends allowed, the server drops five: the third drop ends it.
    drops.chaos_drop_queries = 5;
    with_data(5, "failover_max_attempts=3;failover_backoff_initial_ms=0;", [](reader& rd, test_server& server) -> task<void> {
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        auto b = co_await rd.next();
        REQUIRE(!b);
        CHECK(is_disconnect(b.error()));
        CHECK(rd.failovers() == 2);
        CHECK(server.stats().chaos_resets == 3);
    }, drops);
}

TEST_CASE("qwp reader: bind values ($n) as QuestDB's reader sends them, ORDER BY, and the test server's checks") {
    with_data(100, "", [](reader& rd, test_server&) -> task<void> {
        // MSFT rows have i % 3 == 1; bid is 100 + i, NULL when i % 7 == 3.
        binds b1;
        b1.varchar("MSFT").long_(50).double_(160.5);
        auto a = co_await ask(rd, "SELECT size FROM quotes WHERE sym = $1 AND size >= $2 AND bid < $3", b1);
        REQUIRE(a.error.empty());
        std::vector<std::int64_t> want;
        for (int i = 50; i < 100; ++i)
            if (i % 3 == 1 && i % 7 != 3 && 100.0 + i < 160.5) want.push_back(i);
        REQUIRE(a.rows == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) CHECK(a.columns[0].values<std::int64_t>()[i] == want[i]);

        // The same bind twice, a timestamp, a boolean-free count.
        binds b2;
        b2.timestamp_nanos(1700000000000000010LL);
        auto t = co_await ask(rd, "SELECT count() FROM quotes WHERE timestamp >= $1 AND timestamp < $1", b2);
        REQUIRE(t.error.empty());
        CHECK(t.columns[0].values<std::int64_t>()[0] == 0);
        auto t2 = co_await ask(rd, "SELECT count() FROM quotes WHERE timestamp >= $1", b2);
        CHECK(t2.columns[0].values<std::int64_t>()[0] == 90);

        // A NULL bind matches nothing, as in SQL.
        binds b3;
        b3.null(type::long_);
        auto n = co_await ask(rd, "SELECT count() FROM quotes WHERE size = $1", b3);
        REQUIRE(n.error.empty());
        CHECK(n.columns[0].values<std::int64_t>()[0] == 0);

        // ORDER BY, descending, with LIMIT after the sort; NULLs first ascending.
        auto o = co_await ask(rd, "SELECT size FROM quotes ORDER BY size DESC LIMIT 3");
        REQUIRE(o.error.empty());
        REQUIRE(o.rows == 3);
        CHECK(o.columns[0].values<std::int64_t>()[0] == 99);
        CHECK(o.columns[0].values<std::int64_t>()[2] == 97);
        auto nb = co_await ask(rd, "SELECT size, bid FROM quotes ORDER BY bid LIMIT 15");
        REQUIRE(nb.rows == 15);
        for (std::size_t i = 0; i < 14; ++i) CHECK(nb.columns[1].is_null(i));
        CHECK(nb.columns[0].values<std::int64_t>()[14] == 0);
        auto st = co_await ask(rd, "SELECT sym FROM quotes ORDER BY sym ASC LIMIT 1");
        CHECK(st.columns[0].text(0) == "AAPL");

        // Errors name the bind.
        binds one;
        one.long_(1);
        auto missing = co_await ask(rd, "SELECT * FROM quotes WHERE size = $2", one);
        CHECK(missing.error == "bind $2 is not given (1 bind values)");
        binds text;
        text.varchar("x");
        auto mismatch = co_await ask(rd, "SELECT * FROM quotes WHERE size = $1", text);
        CHECK(mismatch.error == "column size is LONG: compare it with a number");
        binds uuid;
        uuid.long_(1).uuid(1, 2);
        auto cannot = co_await ask(rd, "SELECT * FROM quotes WHERE size = $1", uuid);
        CHECK(cannot.error == "bind $2: the test server cannot bind UUID");
        auto agg = co_await ask(rd, "SELECT count() FROM quotes ORDER BY size");
        CHECK(agg.error.find("ORDER BY with aggregates") != std::string::npos);

        // Misuse stays on this side.
        binds geo;
        geo.null(type::geohash);
        auto g = co_await rd.execute("SELECT * FROM quotes", geo);
        REQUIRE(!g);
        CHECK(g.error().message().find("bind $1: no NULL bind of GEOHASH") != std::string::npos);
        binds many;
        for (int i = 0; i < 1025; ++i) many.int_(i);
        auto m = co_await rd.execute("SELECT * FROM quotes", many);
        REQUIRE(!m);
        CHECK(m.error().message().find("1025 bind values") != std::string::npos);
        // The connection still serves.
        auto after = co_await ask(rd, "SELECT count() FROM quotes");
        CHECK(after.columns[0].values<std::int64_t>()[0] == 100);
    });
}

TEST_CASE("qwp test server: binds that lie are a QUERY_ERROR naming the bind, never a crash") {
    using test_sql::decode_binds;
    auto decode = [](std::vector<std::uint8_t> raw, std::uint64_t count) {
        std::vector<std::byte> b(raw.size());
        if (!raw.empty()) std::memcpy(b.data(), raw.data(), raw.size());
        std::span<const std::byte> in = b;
        return decode_binds(in, count);
    };
    CHECK(decode({0x05, 0x00, 1, 0, 0, 0, 0, 0, 0, 0}, 1).value()[0].value == "1");  // LONG 1
    CHECK(decode({0x05, 0x01, 0x01}, 1).value()[0].kind == test_sql::param::null);
    const std::pair<std::vector<std::uint8_t>, const char*> bad[] = {
        {{0x05, 0x00, 1, 0, 0}, "bind $1: truncated"},
        {{0x05}, "bind $1: truncated"},
        {{0x7f, 0x00}, "bind $1: unknown type code 127"},
        {{0x0f, 0x00, 0, 0, 0, 0, 200, 0, 0, 0, 'a'}, "bind $1: bad VARCHAR offsets 0, 200"},
        {{0x0f, 0x00, 1, 0, 0, 0, 1, 0, 0, 0, 'a'}, "bind $1: bad VARCHAR offsets 1, 1"},
        {{0x05, 0x01, 0x01}, "bind $2: truncated"},  // two promised, one given
    };
    for (const auto& [raw, why] : bad) {
        auto r = decode(raw, raw.size() == 3 ? 2 : 1);
        REQUIRE(!r);
        CHECK(std::string(r.error().detail()) == why);
    }
    auto many = decode({}, 1025);
    REQUIRE(!many);
    CHECK(std::string(many.error().detail()).find("over the 1024") != std::string::npos);
}

TEST_CASE("qwp reader: next_arrow hands each batch out as an Arrow record batch, and append_arrow takes it back") {
    with_data(2500, "max_batch_rows=1000;", [](reader& rd, test_server& server) -> task<void> {
        auto s = co_await sender::connect(server.conf());
        REQUIRE(s);
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        std::size_t batches = 0, rows = 0;
        for (;;) {
            ArrowSchema schema{};
            ArrowArray array{};
            auto got = co_await rd.next_arrow(&schema, &array);
            REQUIRE(got);
            if (!*got) break;
            ++batches;
            REQUIRE(std::string(schema.format) == "+s");
            REQUIRE(schema.n_children == 5);
            REQUIRE(array.n_children == 5);
            std::vector<std::string> formats;
            for (std::int64_t i = 0; i < schema.n_children; ++i)
                formats.push_back(std::string(schema.children[i]->name) + ":" + schema.children[i]->format);
            CHECK(formats == std::vector<std::string>{"sym:u", "bid:g", "size:l", "note:u", "timestamp:tsn:"});
            // bid is NULL every 7th row: Arrow's validity says so.
            const ArrowArray& bid = *array.children[1];
            std::int64_t nulls = 0;
            for (std::int64_t r = 0; r < bid.length; ++r) {
                const std::size_t row = rows + static_cast<std::size_t>(r);
                const bool valid = (static_cast<const std::uint8_t*>(bid.buffers[0])[r >> 3] >> (r & 7)) & 1;
                CHECK(valid == (row % 7 != 3));
                if (valid) CHECK(static_cast<const double*>(bid.buffers[1])[r] == 100.0 + static_cast<double>(row));
                nulls += !valid;
            }
            CHECK(bid.null_count == nulls);
            // Back in through the ingest side, as table copy.
            auto c = chunk_from_arrow("copy", schema, array, "timestamp");
            REQUIRE(c);
            auto f = co_await s->flush(*c);
            REQUIRE(f);
            rows += static_cast<std::size_t>(array.length);
            array.release(&array);
            schema.release(&schema);
            CHECK(array.release == nullptr);
        }
        CHECK(batches == 3);
        CHECK(rows == 2500);
        auto y = co_await s->sync();
        REQUIRE(y);
        const auto& a = server.tables().at("quotes");
        const auto& b = server.tables().at("copy");
        CHECK(b.rows == a.rows);
        std::vector<std::string> want, got;
        for (const auto& blk : a.blocks)
            for (std::size_t i = 0; i < blk.rows; ++i) want.push_back(row_json(blk, i));
        for (const auto& blk : b.blocks)
            for (std::size_t i = 0; i < blk.rows; ++i) got.push_back(row_json(blk, i));
        CHECK(got == want);
    });

    // A type without an Arrow export names its column; nothing is exported.
    decoded_table t;
    t.rows = 1;
    decoded_column g;
    g.name = "where";
    g.type = type::geohash;
    g.rows = 1;
    g.fixed.resize(8);
    t.columns.push_back(g);
    ArrowSchema schema{};
    ArrowArray array{};
    auto e = export_arrow(std::move(t), &schema, &array);
    REQUIRE(!e);
    CHECK(e.error().message().find("column 'where' (GEOHASH): no Arrow export") != std::string::npos);
    CHECK(array.release == nullptr);
}

TEST_CASE("qwp reader: query_timeout_ms goes to the server, which ends a slower query, and is refused where not offered") {
    test_server_options slow;
    slow.query_delay = std::chrono::milliseconds(200);
    with_data(10, "query_timeout_ms=20;", [](reader& rd, test_server&) -> task<void> {
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(e);
        auto b = co_await rd.next();
        REQUIRE(!b);
        CHECK(b.error() == qwp::errc::limit_exceeded);
        CHECK(b.error().message() == "QWP: LIMIT_EXCEEDED: timeout, query aborted [timeout=20ms]");
        CHECK(rd.error_text() == "timeout, query aborted [timeout=20ms]");
    }, slow);
    // Within its timeout the query answers.
    with_data(10, "query_timeout_ms=5000;", [](reader& rd, test_server&) -> task<void> {
        auto e = co_await rd.execute("SELECT count() FROM quotes");
        REQUIRE(e);
        auto b = co_await rd.next();
        REQUIRE(b);
        REQUIRE(*b);
        CHECK((*b)->column("count")->values<std::int64_t>()[0] == 10);
    }, slow);
    test_server_options old;
    old.query_timeouts = false;
    with_data(10, "query_timeout_ms=20;", [](reader& rd, test_server&) -> task<void> {
        auto e = co_await rd.execute("SELECT * FROM quotes");
        REQUIRE(!e);
        CHECK(e.error().message().find("no CAP_QUERY_TIMEOUT") != std::string::npos);
    }, old);
}

TEST_CASE("qwp reader: every type with an Arrow layout goes out through next_arrow and back in unchanged") {
    reactor r;
    auto srv = test_server::start();
    REQUIRE(srv);
    auto& server = **srv;
    auto client = [&]() -> task<void> {
        auto s = co_await sender::connect(server.conf());
        REQUIRE(s);
        row_buffer rows;
        for (int i = 0; i < 5; ++i) {
            const bool null = i == 3;
            auto row = rows.table("all");
            row.column("flag", i % 2 == 0);
            const std::int8_t b = static_cast<std::int8_t>(i - 2);
            const std::int16_t sh = static_cast<std::int16_t>(i * -100);
            const std::uint16_t ch = static_cast<std::uint16_t>('A' + i);
            row.typed("b", type::byte, &b).typed("sh", type::short_, &sh).typed("ch", type::char_, &ch);
            if (null) {
                row.null("i", type::int_).null("f", type::float_).null("u", type::uuid).null("l256", type::long256);
                row.null("ip", type::ipv4).null("dt", type::date).null("ts", type::timestamp).null("bin", type::binary);
                row.null("sym", type::symbol).null("v", type::varchar);
            } else {
                const std::int32_t n = i * 1000;
                const float f = static_cast<float>(i) + 0.5f;
                const std::uint64_t u[2] = {0x1122334455667788ULL + static_cast<std::uint64_t>(i), 0x99aabbccddeeff00ULL};
                const std::uint64_t l256[4] = {static_cast<std::uint64_t>(i), 2, 3, 4};
                const std::uint32_t ip = 0x0a000001u + static_cast<std::uint32_t>(i);
                const std::int64_t dt = 1700000000000 + i, ts = 1700000000000000 + i;
                const std::byte bin[] = {std::byte(i), std::byte{0xfe}};
                row.typed("i", type::int_, &n).typed("f", type::float_, &f).typed("u", type::uuid, u);
                row.typed("l256", type::long256, l256).typed("ip", type::ipv4, &ip).typed("dt", type::date, &dt);
                row.typed("ts", type::timestamp, &ts).binary("bin", bin);
                row.symbol("sym", i % 2 ? "B" : "A").column("v", "v" + std::to_string(i));
            }
            row.at(1700000000000000000LL + i);
        }
        auto f = co_await s->flush(rows);
        REQUIRE(f);
        auto y = co_await s->sync();  // committed before the query runs
        REQUIRE(y);
        auto rd = co_await reader::connect(server.conf());
        REQUIRE(rd);
        auto e = co_await rd->execute("SELECT * FROM all");
        REQUIRE(e);
        ArrowSchema schema{};
        ArrowArray array{};
        auto got = co_await rd->next_arrow(&schema, &array);
        REQUIRE(got);
        REQUIRE(*got);
        // UUID goes out in RFC byte order: the high half first, big-endian.
        for (std::int64_t k = 0; k < schema.n_children; ++k) {
            if (std::string_view(schema.children[k]->name) != "u") continue;
            CHECK(std::string_view(schema.children[k]->format) == "w:16");
            const auto* u0 = static_cast<const std::uint8_t*>(array.children[k]->buffers[1]);
            CHECK(u0[0] == 0x99);
            CHECK(u0[7] == 0x00);
            CHECK(u0[8] == 0x11);
            CHECK(u0[15] == 0x88);
        }
        auto c = chunk_from_arrow("copy", schema, array, "timestamp");
        REQUIRE(c);
        auto f2 = co_await s->flush(*c);
        REQUIRE(f2);
        auto y2 = co_await s->sync();
        REQUIRE(y2);
        array.release(&array);
        schema.release(&schema);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    std::vector<std::string> want, got;
    for (const auto& blk : server.tables().at("all").blocks)
        for (std::size_t i = 0; i < blk.rows; ++i) want.push_back(row_json(blk, i));
    for (const auto& blk : server.tables().at("copy").blocks)
        for (std::size_t i = 0; i < blk.rows; ++i) got.push_back(row_json(blk, i));
    REQUIRE(want.size() == 5);
    CHECK(got == want);
}
