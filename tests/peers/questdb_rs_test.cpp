// QuestDB's Rust client (crates.io questdb-rs 7.2.1, the core of its Python
// package; tools/questdb-rs.sh builds tests/peers/questdb-rs once) against
// qwire: its column sender and row sender into qwire's test server, values
// compared; its egress reader reading what qwire wrote (binds, several
// batches, zstd); qwire's reader reading what it wrote; auth both ways.
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "peers/process.hpp"
#include "qwp/server_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>

using namespace qwire;
using namespace qwire::qwp;

namespace {

std::string run_peer(const std::string& args, int want_rc = 0) {
    test::child_process p(std::string(QWIRE_QUESTDB_RS) + " " + args);
    std::string out = p.read_all();
    INFO(out);
    CHECK(p.wait() == want_rc);
    return out;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The one block of table t the server committed (the peer sends one frame).
const decoded_table& only_block(const test_server& s, const std::string& t) {
    const auto& blocks = s.tables().at(t).blocks;
    REQUIRE(blocks.size() == 1);
    return blocks[0];
}

const decoded_column& col(const decoded_table& t, std::string_view name) {
    for (const auto& c : t.columns)
        if (c.name == name) return c;
    FAIL("no column " << name);
    return t.columns[0];
}

}  // namespace

TEST_CASE("questdb-rs column sender: every type it sends, NULLs included, lands value for value") {
    test_server_thread t;
    CHECK(run_peer("chunk " + quoted(t.server().conf())) == "done\n");
    t.stop();
    const auto& b = only_block(t.server(), "rs_chunk");
    REQUIRE(b.rows == 10);
    CHECK(col(b, "b").type == type::byte);
    CHECK(col(b, "s").type == type::short_);
    CHECK(col(b, "i").type == type::int_);
    CHECK(col(b, "l").type == type::long_);
    CHECK(col(b, "f").type == type::float_);
    CHECK(col(b, "d").type == type::double_);
    CHECK(col(b, "flag").type == type::boolean);
    CHECK(col(b, "sym").type == type::symbol);
    CHECK(col(b, "v").type == type::varchar);
    CHECK(col(b, "ts").type == type::timestamp);
    CHECK(col(b, "").type == type::timestamp_nanos);
    CHECK(col(b, "dec").type == type::decimal64);
    CHECK(col(b, "dec").scale == 2);
    CHECK(col(b, "arr").type == type::double_array);
    CHECK(col(b, "u").type == type::uuid);
    CHECK(col(b, "l256").type == type::long256);
    CHECK(col(b, "ip").type == type::ipv4);
    CHECK(col(b, "dt").type == type::date);
    CHECK(col(b, "bin").type == type::binary);
    CHECK(col(b, "venue").type == type::symbol);
    CHECK(col(b, "big").type == type::varchar);
    for (std::size_t i = 0; i < 10; ++i) {
        INFO("row " << i);
        const auto n = static_cast<std::int64_t>(i);
        CHECK(std::to_integer<std::int8_t>(col(b, "b").fixed[i]) == n - 5);
        CHECK(col(b, "s").get<std::int16_t>(i) == n * -300);
        CHECK(col(b, "i").get<std::int32_t>(i) == n * 100000);
        CHECK(col(b, "l").is_null(i) == (i == 3));
        if (i != 3) CHECK(col(b, "l").get<std::int64_t>(i) == n * 1000000007);
        CHECK(col(b, "f").get<float>(i) == static_cast<float>(i) + 0.5f);
        CHECK(col(b, "d").is_null(i) == (i == 5));
        if (i != 5) CHECK(col(b, "d").get<double>(i) == static_cast<double>(i) * 1.25);
        CHECK((std::to_integer<int>(col(b, "flag").fixed[i]) != 0) == (i % 2 == 0));
        CHECK(col(b, "sym").text(i) == (i % 2 ? "MSFT" : "AAPL"));
        CHECK(col(b, "v").is_null(i) == (i == 7));
        if (i != 7) CHECK(col(b, "v").text(i) == "v\xC3\xA9" + std::to_string(i));
        CHECK(col(b, "ts").get<std::int64_t>(i) == 1700000000000000 + n);
        CHECK(col(b, "").get<std::int64_t>(i) == 1700000000000000000 + n);
        CHECK(col(b, "dec").get<std::int64_t>(i) == n * 100 + 25);
        // A 2x2 DOUBLE array: dimensions, then the values row-major.
        std::string arr;
        arr.push_back(2);
        for (std::uint32_t d : {2u, 2u}) arr.append(reinterpret_cast<const char*>(&d), 4);
        for (double v : {static_cast<double>(i), 0.5, -1.0, 2.0 * static_cast<double>(i)}) arr.append(reinterpret_cast<const char*>(&v), 8);
        CHECK(col(b, "arr").text(i) == arr);
        // The RFC bytes 00 01 .. 0e i as QWP's two little-endian halves.
        std::uint64_t lo, hi;
        std::memcpy(&lo, col(b, "u").fixed.data() + i * 16, 8);
        std::memcpy(&hi, col(b, "u").fixed.data() + i * 16 + 8, 8);
        CHECK(lo == (0x08090a0b0c0d0e00ULL | i));
        CHECK(hi == 0x0001020304050607ULL);
        CHECK(std::to_integer<int>(col(b, "l256").fixed[i * 32]) == static_cast<int>(i) + 1);
        CHECK(std::to_integer<int>(col(b, "l256").fixed[i * 32 + 31]) == 0x80);
        CHECK(col(b, "ip").get<std::uint32_t>(i) == 0x0a000001u + i);
        CHECK(col(b, "dt").get<std::int64_t>(i) == 1700000000000 + n);
        CHECK(col(b, "bin").text(i) == std::string{static_cast<char>(i), '\xff'});
        CHECK(col(b, "venue").text(i) == (i % 3 == 0 ? "XNAS" : i % 3 == 1 ? "XLON" : "XTKS"));
        CHECK(col(b, "big").text(i) == "big" + std::to_string(i));
    }
}

TEST_CASE("questdb-rs row sender: its rows land value for value") {
    test_server_thread t;
    CHECK(run_peer("rows " + quoted(t.server().conf())) == "done\n");
    t.stop();
    std::size_t row = 0;
    for (const auto& b : t.server().tables().at("rs_rows").blocks) {
        for (std::size_t i = 0; i < b.rows; ++i, ++row) {
            INFO("row " << row);
            const auto n = static_cast<std::int64_t>(row);
            CHECK(col(b, "sym").text(i) == (row % 2 ? "BTC" : "ETH"));
            CHECK(col(b, "qty").get<std::int64_t>(i) == n * 10);
            CHECK(col(b, "px").get<double>(i) == 100.0 + static_cast<double>(n) / 4.0);
            CHECK((std::to_integer<int>(col(b, "up").fixed[i]) != 0) == (row % 2 == 1));
            CHECK(col(b, "note").text(i) == "n" + std::to_string(row));
            CHECK(col(b, "").get<std::int64_t>(i) == 1700000000000000000 + n);
        }
    }
    CHECK(row == 5);
}

TEST_CASE("questdb-rs reader reads what qwire wrote: binds, several batches, zstd") {
    test_server_thread t;
    // qwire writes 60 rows: id, px, sym, a note NULL every 5th row.
    {
        reactor r;
        auto write = [&]() -> task<result<void>> {
            auto s = co_await sender::connect(t.server().conf());
            if (!s) co_return s.error();
            row_buffer rows;
            for (int i = 0; i < 60; ++i) {
                auto row = rows.table("q");
                row.column("id", std::int64_t{i}).column("px", i + 0.5).symbol("sym", i % 3 ? "MSFT" : "AAPL");
                if (i % 5 == 0) row.null("note", type::varchar);
                else row.column("note", "n" + std::to_string(i));
                row.at(1700000000000000000LL + i);
            }
            auto f = co_await s->flush(rows);
            if (!f) co_return f;
            co_return co_await s->sync();
        };
        REQUIRE(r.block_on(write()));
    }
    const std::string out = run_peer("read " + quoted(t.server().conf() + "max_batch_rows=7;compression=zstd;") +
                                     " 'SELECT id, px, sym, note FROM q WHERE id >= $1 AND sym = $2' long:10 varchar:MSFT");
    std::ostringstream want;
    std::size_t n = 0;
    for (int i = 10; i < 60; ++i) {
        if (i % 3 == 0) continue;
        want << i << "\t" << i << ".5\tMSFT\t" << (i % 5 == 0 ? std::string("null") : "n" + std::to_string(i)) << "\n";
        ++n;
    }
    want << "rows " << n << "\n";
    CHECK(out == want.str());
    // The same with one byte of initial credit: every batch after the
    // first waits for the reader's CREDIT, and the rows are the same.
    const std::string credited = run_peer("read " + quoted(t.server().conf() + "max_batch_rows=7;") +
                                          " 'SELECT id, px, sym, note FROM q WHERE id >= $1 AND sym = $2' long:10 varchar:MSFT credit:1");
    CHECK(credited == want.str());
    t.stop();
    CHECK(t.server().stats().result_batches >= 2 * (n / 7));
    CHECK(t.server().stats().zstd_batches * 2 == t.server().stats().result_batches);  // the first read's
}

TEST_CASE("qwire's reader reads what questdb-rs wrote") {
    test_server_thread t;
    CHECK(run_peer("chunk " + quoted(t.server().conf())) == "done\n");
    reactor r;
    const auto got = r.block_on(test::rows_via_reader(t.server().conf() + "compression=auto;", "SELECT * FROM rs_chunk"));
    t.stop();
    const auto& b = only_block(t.server(), "rs_chunk");
    REQUIRE(got.size() == b.rows);
    for (std::size_t i = 0; i < b.rows; ++i) CHECK(got[i] == row_json(b, i));
}

TEST_CASE("questdb-rs against qwire's auth: Basic and Bearer accepted when right, refused when wrong") {
    test_server_options basic;
    basic.username = "ingest";
    basic.password = "s3cret";
    test_server_thread t(basic);
    const std::string conf = t.server().conf();
    CHECK(run_peer("rows " + quoted(conf + "username=ingest;password=s3cret;")) == "done\n");
    const std::string bad = run_peer("rows " + quoted(conf + "username=ingest;password=nope;"), 1);
    CHECK(bad.rfind("error: ", 0) == 0);
    CHECK(bad.find("401") != std::string::npos);
    CHECK(run_peer("read " + quoted(conf + "username=ingest;password=s3cret;") + " 'SELECT count() FROM rs_rows'") ==
          "5\nrows 1\n");
    t.stop();

    test_server_options bearer;
    bearer.token = "tok-123";
    test_server_thread u(bearer);
    CHECK(run_peer("rows " + quoted(u.server().conf() + "token=tok-123;")) == "done\n");
    const std::string refused = run_peer("read " + quoted(u.server().conf() + "token=wrong;") + " 'SELECT * FROM rs_rows'", 1);
    CHECK(refused.find("401") != std::string::npos);
    u.stop();
}
