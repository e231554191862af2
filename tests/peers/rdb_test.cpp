// The Data Access example end to end, as separate processes: a feed (this
// test) -> examples/kdb_server --rt (the stream) -> examples/rdb, with
// examples/sm_emulator as the Storage Manager, and javakdb (KX's Java
// client) as the q client that watches the RDB's counts.
#include <qwire/proto/kdb/rt.hpp>

#include <catch2/catch.hpp>

#include "peers/process.hpp"

#include <unistd.h>

#include <filesystem>

using namespace qwire::kdb;
using qwire::reactor;
using qwire::task;

namespace {

const std::string java = "java -cp " QWIRE_JAVAKDB_CLASSPATH " KdbDriver query ";

// javakdb's answers to queries of the RDB, one line each.
std::vector<std::string> ask(int port, std::vector<std::string> queries) {
    std::string command = java + std::to_string(port);
    for (auto& q : queries) command += " '" + q + "'";
    qwire::test::child_process p(command);
    std::vector<std::string> out;
    for (std::string line; p.read_line(line);) out.push_back(line);
    REQUIRE(p.wait() == 0);
    return out;
}

// Publishes trades and returns the stream position the next message will have.
std::int64_t publish(reactor& r, int tp_port, std::vector<std::string_view> syms) {
    return r.block_on([](int port, std::vector<std::string_view> syms) -> task<std::int64_t> {
        rt::publisher pub((co_await connection::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(port))).value());
        for (auto s : syms) {
            const k row = new_dict(new_symbol_list({"sym", "price", "size"}), new_list_of(new_symbol(s), new_float(1.5), new_long(10))).value();
            auto pushed = co_await pub.push("trade", row);
            REQUIRE(pushed);
        }
        co_return (co_await pub.sync()).value();
    }(tp_port, std::move(syms)));
}

std::string query(reactor& r, int port, std::string q) {
    return r.block_on([](int port, std::string q) -> task<std::string> {
        auto c = (co_await connection::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(port))).value();
        auto a = co_await c.query(q);
        co_return a ? std::string("ok") : std::string(a.error().detail());
    }(port, std::move(q)));
}

}  // namespace

TEST_CASE("rdb example: feed -> tickerplant -> RDB, an end of interval purges exactly the rows before endTS, kill -9 and restart keep the rows") {
    const auto dir = std::filesystem::temp_directory_path() / ("qwire-rdb-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    // Every server takes a free port and names it on its first line.
    std::string line;
    qwire::test::child_process tp(std::string(QWIRE_KDB_SERVER) + " --rt --feed-interval-ms 0 --port 0 --log " + dir.string());
    REQUIRE(tp.read_line(line));
    const int tp_port = qwire::test::port_after(line);
    REQUIRE(tp_port != 0);
    qwire::test::child_process sm(std::string(QWIRE_SM_EMULATOR) + " --port 0 --tp 127.0.0.1:" + std::to_string(tp_port));
    REQUIRE(sm.read_line(line));
    const int sm_port = qwire::test::port_after(line, "sm emulator on 127.0.0.1:");
    REQUIRE(sm_port != 0);
    const std::string rdb_command = std::string(QWIRE_RDB) + " --tp 127.0.0.1:" + std::to_string(tp_port) + " --sm 127.0.0.1:" +
                                    std::to_string(sm_port) + " --port ";
    auto rdb = std::make_unique<qwire::test::child_process>(rdb_command + "0");
    REQUIRE(rdb->read_line(line));
    CHECK(line.find("rdb: mount rdb registered") != std::string::npos);
    int rdb_port = qwire::test::port_after(line, "q clients on 127.0.0.1:");
    REQUIRE(rdb_port != 0);

    reactor r;
    const auto wait_for = [](std::int64_t next) { return ".rdb.wait " + std::to_string(next - 1); };
    std::int64_t next = publish(r, tp_port, {"IBM", "MSFT", "IBM"});
    CHECK(ask(rdb_port, {wait_for(next), "count trade", "select from trade where sym=`IBM"}) ==
          std::vector<std::string>{std::to_string(next - 1), "3", "table 2"});

    // The end of interval: these three rows are on disk now.
    CHECK(query(r, sm_port, ".sm.eoi[]") == "ok");
    next = publish(r, tp_port, {"IBM", "GOOG"});
    const std::vector<std::string> after{std::to_string(next - 1), "2", "table 1"};
    CHECK(ask(rdb_port, {wait_for(next), "count trade", "select from trade where sym=`IBM"}) == after);

    // kill -9, restart where SM says the rows it holds begin: the same rows.
    rdb.reset();
    rdb = std::make_unique<qwire::test::child_process>(rdb_command + "0");
    REQUIRE(rdb->read_line(line));
    rdb_port = qwire::test::port_after(line, "q clients on 127.0.0.1:");
    CHECK(ask(rdb_port, {wait_for(next), "count trade", "select from trade where sym=`IBM"}) == after);
    // And from the start of the day: the stream's own _reload rows purge as SM's callback did.
    rdb.reset();
    const auto today = rt::position_day(next);
    rdb = std::make_unique<qwire::test::child_process>(rdb_command + "0 --from " + std::to_string(rt::position(today, 0)));
    REQUIRE(rdb->read_line(line));
    rdb_port = qwire::test::port_after(line, "q clients on 127.0.0.1:");
    CHECK(ask(rdb_port, {wait_for(next), "count trade", "select from trade where sym=`IBM", "nonsense"}) ==
          std::vector<std::string>{std::to_string(next - 1), "2", "table 1",
                                   "'nyi: this RDB answers count T, select from T [where sym=`S], tables[], .rdb.pos, .rdb.wait P"});
    rdb.reset();
    std::filesystem::remove_all(dir);
}
