// QuestDB's own client (the questdb Python package 6.0.0, a Rust core that
// speaks QWP over WebSocket; tools/questdb-py.sh installs it) against
// qwire's QWP test server: the reference encoder's bytes and values checked
// against qwire's encoder and decoder, and qwire's acks and error frames
// checked by the reference client's reactions.
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "peers/process.hpp"
#include "qwp/decode_support.hpp"
#include "qwp/server_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>
#include <sstream>
#include <future>
#include <thread>

using namespace qwire;
using namespace qwire::qwp;

namespace {

// The test server on its own reactor thread while a peer runs, recording
// every frame it receives.
struct server_thread {
    std::vector<std::vector<std::byte>> frames;
    test_server_thread t{{}, [this](test_server& s) {
                             s.on_frame = [this](std::span<const std::byte> f) { frames.emplace_back(f.begin(), f.end()); };
                         }};
    test_server* server = &t.server();
    void finish() { t.stop(); }
};

std::string run_peer(std::uint16_t port, const char* scenario) {
    test::child_process p(std::string(QWIRE_QUESTDB_PY) + " " + QWIRE_QUESTDB_PY_DRIVER + " " + std::to_string(port) +
                          " " + scenario);
    std::string out = p.read_all();
    REQUIRE(p.wait() == 0);
    return out;
}

std::string fixture(const char* name) { return test::first_line(std::string(QWIRE_QWP_FIXTURES) + "/" + name); }

std::vector<std::string> rows_json(const test_server& s, const std::string& table) {
    std::vector<std::string> out;
    for (const auto& b : s.tables().at(table).blocks)
        for (std::size_t i = 0; i < b.rows; ++i) out.push_back(row_json(b, i));
    return out;
}

}  // namespace

TEST_CASE("questdb client: its frame for the fixture rows is byte for byte qwire's") {
    server_thread st;
    CHECK(run_peer(st.server->port(), "m0") == "done\n");
    st.finish();
    // The reference client sends data frames only (its commit rides on the
    // data frame itself: no defer flag).
    REQUIRE(!st.frames.empty());
    CHECK(test::hex(st.frames[0]) == fixture("m0-equivalent-buffer.hex"));

    // And qwire's row buffer, fed the same rows, writes the same bytes.
    row_buffer rows;
    for (int i = 0; i < 10; ++i)
        rows.table("trades").symbol("sym", "SYM_00" + std::to_string(i)).column("qty", std::int64_t{i})
            .column("px", 100.0 + i).at(1700000000000000000LL + i);
    symbol_dict dict;
    message_builder b(dict);
    REQUIRE(rows.encode(b));
    CHECK(test::hex(b.finish_copy()) == test::hex(st.frames[0]));
}

TEST_CASE("questdb client: every type it has, with NULLs, decodes to the same values qwire encodes") {
    server_thread st;
    CHECK(run_peer(st.server->port(), "types") == "done\n");
    st.finish();
    const auto got = rows_json(*st.server, "all_types");
    REQUIRE(got.size() == 6);

    // The same rows through qwire's row buffer (NULLs as skipped columns, as
    // the Python client treats None).
    row_buffer rows;
    for (int i = 0; i < 6; ++i) {
        const bool null = i % 3 == 1;
        auto r = rows.table("all_types");
        if (null) r.null("sym", type::symbol);
        else r.symbol("sym", "k" + std::to_string(i % 2));
        r.column("b", i % 2 == 0);
        if (null) {
            r.null("l", type::long_).null("d", type::double_).null("s", type::varchar).null("dec", type::decimal64);
            r.null("ts", type::timestamp).null("u", type::uuid).null("ip", type::ipv4).null("bin", type::binary);
        } else {
            r.column("l", std::int64_t{i * 1000}).column("d", i + 0.25).column("s", "v\xC3\xA9" + std::to_string(i));
            const std::int64_t dec = i * 100 + 25;
            r.typed("dec", type::decimal64, &dec, 2);
            const std::int64_t ts = 1700000000000000 + i;
            r.typed("ts", type::timestamp, &ts);
            const std::uint64_t u[2] = {static_cast<std::uint64_t>(i), 0x1122334455667788ULL};
            r.typed("u", type::uuid, u);
            const std::uint32_t ip = (10u << 24) | static_cast<std::uint32_t>(i + 1);
            r.typed("ip", type::ipv4, &ip);
            const std::byte bin[] = {std::byte(i), std::byte{255}, std::byte{0}};
            r.binary("bin", bin);
        }
        const std::uint16_t ch = 'Z';
        r.typed("ch", type::char_, &ch);
        if (null) {
            r.null("dt", type::date).null("l256", type::long256).null("arr", type::double_array);
        } else {
            const std::int64_t dt = 1700000000000 + i;
            r.typed("dt", type::date, &dt);
            const std::uint64_t l256[4] = {static_cast<std::uint64_t>(i + 1), 0, 0, 0};
            r.typed("l256", type::long256, l256);
            const std::uint32_t dims[] = {2, 2};
            const double v[] = {1, 2, 3, static_cast<double>(i)};
            r.array("arr", dims, v);
        }
        r.at(1700000000000000000LL + i);
    }
    REQUIRE(!rows.error());
    const auto mine = test::decode_fresh(rows);
    for (std::size_t i = 0; i < 6; ++i) {
        INFO("row " << i);
        CHECK(row_json(mine.tables[0], i) == got[i]);
    }
    CHECK(got[0] ==
          R"({"sym":"k0","b":true,"l":0,"d":0.25,"s":"vé0","dec":"0.25","ts":1700000000000000,)"
          R"("u":"11223344556677880000000000000000","ip":"10.0.0.1","bin":"00ff00","ch":90,"dt":1700000000000,)"
          R"("l256":"0000000000000000000000000000000000000000000000000000000000000001",)"
          R"("arr":"020200000002000000000000000000f03f000000000000004000000000000008400000000000000000",)"
          R"("timestamp":1700000000000000000})");
}

TEST_CASE("questdb client: qwire's SCHEMA_MISMATCH frame reaches it with the server's text") {
    server_thread st;
    const std::string out = run_peer(st.server->port(), "reject");
    st.finish();
    INFO("the client printed: " << out);
    CHECK(out.rfind("error: ", 0) == 0);
    // The driver waits for the LONG row's OK before the second connection
    // sends its DOUBLE: that one is refused.
    CHECK(out.find("column 'v' of table 'mixed' is LONG, not DOUBLE") != std::string::npos);
    CHECK(st.server->tables().at("mixed").rows == 1);
}

TEST_CASE("questdb client: reads back through qwire's egress, value for value, what it wrote") {
    server_thread st;
    CHECK(run_peer(st.server->port(), "query") == "done\n");
}

TEST_CASE("questdb client: asks for zstd, qwire's test server compresses every batch, values intact") {
    server_thread st;
    CHECK(run_peer(st.server->port(), "query-zstd") == "done\n");
    st.finish();
    CHECK(st.server->stats().result_batches > 0);
    CHECK(st.server->stats().zstd_batches == st.server->stats().result_batches);
}

TEST_CASE("qwire's reader reads what the questdb client wrote") {
    server_thread st;
    CHECK(run_peer(st.server->port(), "types") == "done\n");
    reactor r;
    const auto got = r.block_on(test::rows_via_reader(st.server->conf(), "SELECT * FROM all_types"));
    st.finish();
    CHECK(got == rows_json(*st.server, "all_types"));
    REQUIRE(got.size() == 6);
    CHECK(got[1].find(R"("l":null,"d":null,"s":null)") != std::string::npos);
}

TEST_CASE("PyArrow imports qwire's Arrow export (C Data Interface), validates it, and reads every value") {
    server_thread st;
    {
        reactor r;
        auto write = [&]() -> task<result<void>> {
            auto s = co_await sender::connect(st.server->conf());
            if (!s) co_return s.error();
            row_buffer rows;
            for (int i = 0; i < 4; ++i) {
                const bool null = i == 2;
                auto row = rows.table("arrow");
                row.column("b", i % 2 == 0).symbol("sym", i % 2 ? "MSFT" : "AAPL");
                if (null) row.null("l", type::long_).null("d", type::double_).null("v", type::varchar).null("bin", type::binary);
                else {
                    row.column("l", std::int64_t{i} * 1000).column("d", i + 0.25).column("v", "v\xC3\xA9" + std::to_string(i));
                    const std::byte bin[] = {std::byte(i), std::byte{0xff}};
                    row.binary("bin", bin);
                }
                const std::int32_t n32 = i * -7;
                row.typed("i", type::int_, &n32);
                const std::uint64_t u[2] = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL + static_cast<std::uint64_t>(i)};
                row.typed("u", type::uuid, u);
                const std::int64_t ts = 1700000000000000 + i;
                row.typed("ts", type::timestamp, &ts);
                row.at(1700000000000000000LL + i);
            }
            auto f = co_await s->flush(rows);
            if (!f) co_return f;
            co_return co_await s->sync();
        };
        REQUIRE(r.block_on(write()));
    }
    test::child_process p(std::string(QWIRE_ARROW_ENV) + QWIRE_QUESTDB_PY + " " + QWIRE_ARROW_READ + " " + QWIRE_ARROW_PROBE + " '" +
                          st.server->conf() + "' 'SELECT * FROM arrow'");
    const std::string out = p.read_all();
    CHECK(p.wait() == 0);
    st.finish();
    CHECK(out ==
          "b bool 0: True|False|True|False\n"
          "sym string 0: 'AAPL'|'MSFT'|'AAPL'|'MSFT'\n"
          "l int64 1: 0|1000|None|3000\n"
          "d double 1: 0.25|1.25|None|3.25\n"
          "v string 1: 'vé0'|'vé1'|None|'vé3'\n"
          "bin binary 1: '00ff'|'01ff'|None|'03ff'\n"
          "i int32 0: 0|-7|-14|-21\n"
          "u fixed_size_binary[16] 0: '99aabbccddeeff001122334455667788'|'99aabbccddeeff011122334455667788'|"
          "'99aabbccddeeff021122334455667788'|'99aabbccddeeff031122334455667788'\n"
          "ts timestamp[us] 0: 1700000000000000|1700000000000001|1700000000000002|1700000000000003\n"
          "timestamp timestamp[ns] 0: 1700000000000000000|1700000000000000001|1700000000000000002|1700000000000000003\n"
          "rows 4\n");
}
