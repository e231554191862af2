// qwire-bridge as a process between a tickerplant (examples/kdb_server, its
// logs on disk) and the QWP test server (in this process, to count rows):
// killed with -9 mid-stream and restarted, every row arrives once; against
// a slow server its memory stays bounded and every row still arrives.
#include <qwire/proto/kdb/rt.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include <catch2/catch.hpp>

#include "bridge/status_line.hpp"
#include "peers/process.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace qwire;
using namespace qwire::kdb;
using qwire::test::committed_through;
using qwire::test::wait_committed;

namespace {

// Under AddressSanitizer (-O0) every program runs several times slower and
// its memory is the sanitizer's to account: the same checks on less data,
// and the memory bound only where RSS is the program's own.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t scale = 10;
constexpr bool rss_is_the_programs = false;
#else
constexpr std::size_t scale = 1;
constexpr bool rss_is_the_programs = true;
#endif

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / ("qwire-" + name + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// A tickerplant with no feed of its own, logging to dir; its port.
std::unique_ptr<test::child_process> start_tickerplant(const temp_dir& dir, int& port, const std::string& extra = "") {
    auto tp = std::make_unique<test::child_process>(std::string(QWIRE_KDB_SERVER) + " --feed-interval-ms 0 --port 0 --log " +
                                                    dir.path.string() + " " + extra);
    std::string line;
    REQUIRE(tp->read_line(line));
    port = test::port_after(line);
    REQUIRE(port != 0);
    return tp;
}

// Publishes `messages` trades of `rows` rows each, size = a unique id from
// `first_id` on; the position the tickerplant's next message will have.
std::int64_t publish(int port, std::int64_t first_id, std::size_t messages, std::size_t rows) {
    reactor r;
    return r.block_on([](int port, std::int64_t id, std::size_t messages, std::size_t rows) -> task<std::int64_t> {
        rt::publisher pub((co_await connection::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(port))).value());
        std::vector<std::string_view> syms(rows);
        std::vector<double> prices(rows);
        std::vector<std::int64_t> sizes(rows);
        for (std::size_t m = 0; m < messages; ++m) {
            for (std::size_t i = 0; i < rows; ++i, ++id) {
                syms[i] = id % 3 == 0 ? "AAPL" : id % 3 == 1 ? "MSFT" : "GOOG";
                prices[i] = 100.0 + static_cast<double>(id % 1000) / 4;
                sizes[i] = id;
            }
            auto pushed = co_await pub.push("trade", new_list_of(new_symbol_list(syms), new_float_list(prices), new_long_list(sizes)));
            REQUIRE(pushed);
        }
        co_return (co_await pub.sync()).value();
    }(port, first_id, messages, rows));
}

// How many times each trade id arrived, from the server's committed rows.
std::map<std::int64_t, int> ids_seen(const qwp::test_server& s) {
    std::map<std::int64_t, int> seen;
    for (const auto& b : s.tables().at("trade").blocks)
        for (const auto& c : b.columns)
            if (c.name == "size")
                for (const auto v : c.values<std::int64_t>()) ++seen[v];
    return seen;
}

std::string bridge_command(int tp_port, const std::string& conf, const std::string& more) {
    return std::string(QWIRE_BRIDGE) + " --tp 127.0.0.1:" + std::to_string(tp_port) + " --conf '" + conf +
           "' --status-ms 0 " + more + " 2>&1";
}

std::size_t peak_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
    return 0;
}

}  // namespace

TEST_CASE("qwire-bridge: killed with -9 mid-stream and restarted twice, the target holds every row once") {
    temp_dir dir("bridge-kill");
    int tp_port = 0;
    auto tp = start_tickerplant(dir, tp_port);
    qwp::test_server_thread qs;
    const std::string conf = qs.server().conf();
    // Small batches and frequent commits: many commits to die between.
    const std::string command = bridge_command(tp_port, conf, "--state " + (dir.path / "state").string() +
                                                                  " --batch-rows 200 --batch-ms 1 --commit-ms 2");
    constexpr std::size_t messages = 1500 / scale, rows = 10;

    auto bridge = std::make_unique<test::child_process>(command);
    std::string line;
    REQUIRE(bridge->read_line(line));
    CHECK(line.find("from position") != std::string::npos);
    // Published while the bridge follows live; killed at its third commit.
    std::int64_t next = publish(tp_port, 0, messages, rows);
    for (int commits = 0; commits < 3;) {
        REQUIRE(bridge->read_line(line));
        if (committed_through(line) != null_long) ++commits;
    }
    bridge.reset();  // kill -9

    // Published while it is down; the restart replays them from the log and
    // is killed again as it catches up.
    next = publish(tp_port, static_cast<std::int64_t>(messages * rows), messages, rows);
    bridge = std::make_unique<test::child_process>(command);
    REQUIRE(bridge->read_line(line));
    const std::int64_t resumed = committed_through("committed through " + line.substr(line.find("from position ") + 14));
    CHECK(resumed > rt::position(rt::position_day(next), 0));  // not from the start: from where it was killed
    CHECK(resumed < next);
    REQUIRE(bridge->read_line(line));
    bridge.reset();

    bridge = std::make_unique<test::child_process>(command);
    next = publish(tp_port, static_cast<std::int64_t>(2 * messages * rows), messages, rows);
    wait_committed(*bridge, next - 1);
    bridge.reset();
    qs.stop();

    const auto seen = ids_seen(qs.server());
    CHECK(seen.size() == 3 * messages * rows);
    std::size_t twice = 0;
    for (const auto& [id, n] : seen) twice += n != 1;
    CHECK(twice == 0);
    CHECK(seen.begin()->first == 0);
    CHECK(seen.rbegin()->first == static_cast<std::int64_t>(3 * messages * rows - 1));
    // Every commit carried its progress row.
    CHECK(qs.server().tables().count("qwire_bridge_progress") == 1);
}

TEST_CASE("qwire-bridge: a slow QWP server slows the bridge down, its memory stays bounded, and every row arrives") {
    temp_dir dir("bridge-slow");
    int tp_port = 0;
    // The tickerplant waits for the slow subscriber instead of dropping it.
    auto tp = start_tickerplant(dir, tp_port, "--slow-peer block --max-send-queue-bytes 1048576");
    qwp::test_server_options so;
    so.ack_delay = std::chrono::milliseconds(2);
    qwp::test_server_thread qs(so);
    const std::string conf = qs.server().conf() + "in_flight_window=4;";
    auto bridge = std::make_unique<test::child_process>(
        bridge_command(tp_port, conf, "--batch-bytes 65536 --commit-ms 1"));
    std::string line;
    REQUIRE(bridge->read_line(line));
    // 1000 messages of 2000 rows: about 56 MB through the tickerplant.
    constexpr std::size_t messages = 1000 / scale, rows = 2000;
    const std::int64_t next = publish(tp_port, 0, messages, rows);
    wait_committed(*bridge, next - 1);
    const std::size_t peak = peak_rss_kib(bridge->pid());
    INFO("bridge peak RSS " << peak << " KiB");
    // What the tickerplant sent is 56 MB; the bridge holds a few batches and
    // max_inbox (64) messages of 56 KB at most.
    CHECK(peak > 0);
    if (rss_is_the_programs) CHECK(peak < 40 * 1024);
    bridge.reset();
    qs.stop();
    const auto seen = ids_seen(qs.server());
    CHECK(seen.size() == messages * rows);
}
