// The bridge and the gateway with real peers on either side: javakdb
// (KX's Java client) as the q client of qwire-qgw, and QuestDB's own
// Python client as an independent reader (egress) of what qwire-bridge
// wrote into the QWP test server.
#include <qwire/proto/kdb/rt.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include <catch2/catch.hpp>

#include "bridge/status_line.hpp"
#include "peers/process.hpp"

#include <unistd.h>

#include <filesystem>
#include <charconv>

using namespace qwire;
using namespace qwire::kdb;

namespace {

std::vector<std::string> lines_of(test::child_process& p) {
    std::vector<std::string> out;
    for (std::string line; p.read_line(line);) out.push_back(line);
    return out;
}

std::string sym_of(std::int64_t id) { return id % 3 == 0 ? "AAPL" : id % 3 == 1 ? "MSFT" : "GOOG"; }
double price_of(std::int64_t id) { return 100.0 + static_cast<double>(id) / 4; }

// A float as Python's repr prints it: the shortest round trip, ".0" when whole.
std::string python_repr(double v) {
    char b[32];
    const auto end = std::to_chars(b, b + sizeof b, v).ptr;
    std::string s(b, end);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

}  // namespace

TEST_CASE("bridge peers: javakdb queries qwire-qgw, QuestDB's Python client reads what qwire-bridge wrote") {
    const auto dir = std::filesystem::temp_directory_path() / ("qwire-bridge-peers-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string line;
    test::child_process tp(std::string(QWIRE_KDB_SERVER) + " --feed-interval-ms 0 --port 0 --log " + dir.string());
    REQUIRE(tp.read_line(line));
    const int tp_port = test::port_after(line);
    REQUIRE(tp_port != 0);
    qwp::test_server_thread qs;
    const std::string conf = qs.server().conf();
    test::child_process bridge(std::string(QWIRE_BRIDGE) + " --tp 127.0.0.1:" + std::to_string(tp_port) + " --conf '" + conf +
                               "' --status-ms 0 --commit-ms 1 --batch-ms 1 2>&1");
    REQUIRE(bridge.read_line(line));
    test::child_process gw(std::string(QWIRE_QGW) + " --port 0 --user q:pw --conf '" + conf + "'");
    REQUIRE(gw.read_line(line));
    const int gw_port = test::port_after(line);
    REQUIRE(gw_port != 0);

    // 50 messages of 4 trades, ids 0..199.
    constexpr std::int64_t n = 200;
    reactor r;
    const std::int64_t next = r.block_on([](int port) -> task<std::int64_t> {
        rt::publisher pub((co_await connection::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(port))).value());
        for (std::int64_t id = 0; id < n; id += 4) {
            std::vector<std::string> syms;
            std::vector<double> prices;
            std::vector<std::int64_t> sizes;
            for (std::int64_t i = id; i < id + 4; ++i) {
                syms.push_back(sym_of(i));
                prices.push_back(price_of(i));
                sizes.push_back(i);
            }
            auto pushed = co_await pub.push("trade", new_list_of(new_symbol_list(syms), new_float_list(prices), new_long_list(sizes)));
            REQUIRE(pushed);
        }
        co_return (co_await pub.sync()).value();
    }(tp_port));
    test::wait_committed(bridge, next - 1);

    // javakdb, as a q client of the gateway (with the gateway's own credentials).
    test::child_process java("java -cp " QWIRE_JAVAKDB_CLASSPATH " KdbDriver rows " + std::to_string(gw_port) +
                             " q:pw 'select count(), sum(size) from trade' 'select sym, size, price from trade where size < 3'"
                             " 'select * from nope'");
    CHECK(lines_of(java) == std::vector<std::string>{"count sum", "200 19900", "sym size price", "AAPL 0 100.0", "MSFT 1 100.25",
                                                   "GOOG 2 100.5", "'table does not exist [table=nope]"});
    CHECK(java.wait() == 0);

    // QuestDB's Python client reading the table through its egress reader.
    test::child_process py(std::string(QWIRE_QUESTDB_PY) + " " + QWIRE_QUESTDB_PY_DRIVER + " " + std::to_string(qs.server().port()) + " trade");
    const auto rows = lines_of(py);
    REQUIRE(py.wait() == 0);
    qs.stop();
    std::vector<std::int64_t> stamps;
    for (const auto& b : qs.server().tables().at("trade").blocks)
        for (const auto& c : b.columns)
            if (c.name.empty())
                for (const auto v : c.values<std::int64_t>()) stamps.push_back(v);
    REQUIRE(stamps.size() == static_cast<std::size_t>(n));
    REQUIRE(rows.size() == static_cast<std::size_t>(n) + 1);
    CHECK(rows.back() == "done");
    for (std::int64_t i = 0; i < n; ++i) {
        // The client reads TIMESTAMP_NANOS at microseconds.
        const std::string want = sym_of(i) + " " + python_repr(price_of(i)) + " " + std::to_string(i) + " " +
                                 std::to_string(stamps[static_cast<std::size_t>(i)] / 1000 * 1000);
        CHECK(rows[static_cast<std::size_t>(i)] == want);
    }
    std::filesystem::remove_all(dir);
}
