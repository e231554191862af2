// qwire-q driven as a user would: lines on standard input, and a session
// on a pseudo-terminal (script(1)), against kdb_server and against a
// server in this process that answers with a million-row table.
#include "peers/process.hpp"

#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/server.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

using namespace qwire;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// A file holding the console's input, removed with the test.
struct input_file {
    std::string path;
    explicit input_file(const std::string& text)
        : path((std::filesystem::temp_directory_path() / ("qwire-q-" + std::to_string(::getpid()) + "-" +
                                                          std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".in"))
                   .string()) {
        std::ofstream(path) << text;
    }
    ~input_file() { std::filesystem::remove(path); }
};

// kdb_server on a free port, and that port.
struct tickerplant {
    qwire::test::child_process proc{std::string(QWIRE_KDB_SERVER) + " --port 0 --feed-interval-ms 0"};
    int port = 0;
    tickerplant() {
        std::string banner;
        REQUIRE(proc.read_line(banner));
        port = qwire::test::port_after(banner);
        REQUIRE(port != 0);
    }
};

}  // namespace

TEST_CASE("qwire-q: lines from standard input against kdb_server, q's answers and errors, console size and timing") {
    tickerplant tp;
    input_file in(".u.i\n\n.u.d\nnonsense\n\\c\n\\c 5 5\n\\c\n\\c 30 100\n\\c\n\\t .u.i\n\\\\\n.u.i\n");
    qwire::test::child_process q(std::string(QWIRE_Q) + " :127.0.0.1:" + std::to_string(tp.port) + " < " + in.path);
    const auto out = lines_of(q.read_all());
    CHECK(q.wait() == 0);
    REQUIRE(out.size() == 7);  // nothing after \\ runs
    CHECK(out[0] == "0");
    CHECK(out[1].size() == 10);  // today, 2026.12.03
    CHECK(out[1][4] == '.');
    CHECK(out[2] == "'nyi");
    CHECK(out[3] == "25 80");   // not a terminal, no LINES/COLUMNS: q's default
    CHECK(out[4] == "10 10");   // brought inside 10..2000, as q does
    CHECK(out[5] == "30 100");
    CHECK(out[6].find_first_not_of("0123456789") == std::string::npos);  // \t: milliseconds
    CHECK_FALSE(out[6].empty());
}

TEST_CASE("qwire-q: a million-row table is cut to the console's size, and so are long lines") {
    // A server in this process, on its own reactor thread.
    const std::size_t n = 1'000'000;
    kdb::k syms = kdb::new_symbol_list(std::vector<std::string>(n, "IBM")), sizes = kdb::new_vector(kdb::qtype::long_, n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t v = static_cast<std::int64_t>(i);
        std::memcpy(sizes.node().data.data() + i * 8, &v, 8);
    }
    const kdb::k big = kdb::new_table({"sym", "size"}, {syms, sizes}).value();
    std::vector<std::int64_t> til100(100);
    for (std::int64_t i = 0; i < 100; ++i) til100[static_cast<std::size_t>(i)] = i;
    reactor* server_reactor = nullptr;
    std::stop_source stop;
    std::promise<std::uint16_t> up;
    std::thread server_thread([&] {
        reactor r;
        server_reactor = &r;
        auto listener = tcp_listen("127.0.0.1", 0).value();
        kdb::server srv;
        srv.on_sync([&](kdb::peer&, kdb::k x) -> task<result<kdb::k>> {
            const auto text = x.get_string();
            const std::string q = text ? std::string(*text) : std::string();
            if (q == "big") co_return big;
            if (q == "til 100") co_return kdb::new_long_list(til100);
            co_return kdb::remote_error("nyi");
        });
        up.set_value(listener.local_endpoint().port());
        r.block_on(srv.serve(listener, stop.get_token()));
    });
    const auto port = up.get_future().get();

    input_file in("big\n\\c 10 20\ntil 100\nbig\n\\\\\n");
    qwire::test::child_process q(std::string(QWIRE_Q) + " -c 25 80 127.0.0.1:" + std::to_string(port) + " < " + in.path);
    const auto out = lines_of(q.read_all());
    CHECK(q.wait() == 0);
    server_reactor->post([&] { stop.request_stop(); });
    server_thread.join();

    // 25x80: inside 24 lines, the 24th "..": header, rule, 21 rows.
    REQUIRE(out.size() >= 24);
    CHECK(out[0] == "sym size");
    CHECK(out[1] == "--------");
    CHECK(out[2] == "IBM 0   ");
    CHECK(out[22] == "IBM 20  ");
    CHECK(out[23] == "..");
    // 10x20: lines inside 19 characters.
    REQUIRE(out.size() == 24 + 1 + 9);
    CHECK(out[24] == "0 1 2 3 4 5 6 7 8..");
    CHECK(out[25] == "sym size");
    CHECK(out[27] == "IBM 0   ");
    CHECK(out[32] == "IBM 5   ");
    CHECK(out[33] == "..");
}

TEST_CASE("qwire-q: on a terminal it prompts q) and answers (a pseudo-terminal through script)") {
    tickerplant tp;
    input_file in(".u.i\nnonsense\n\\\\\n");
    qwire::test::child_process q("script -qec \"" + std::string(QWIRE_Q) + " -c 25 80 127.0.0.1:" + std::to_string(tp.port) +
                                 "\" /dev/null < " + in.path);
    std::string out = q.read_all();
    CHECK(q.wait() == 0);
    std::erase(out, '\r');
    INFO(out);
    CHECK(out.find("q).u.i\n0\n") != std::string::npos);
    CHECK(out.find("q)nonsense\n'nyi\n") != std::string::npos);
    CHECK(out.find("q)\\\\\n") != std::string::npos);
}
