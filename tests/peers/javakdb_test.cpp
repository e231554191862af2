// Cross-checks with KX's own Java client, javakdb (tools/javakdb.sh fetches
// it; javakdb 2.0 writes big-endian messages):
//  * its 226-object corpus decodes in qwire, compresses to the very same
//    bytes, and qwire's little-endian re-encoding (plain and compressed)
//    decodes in javakdb to the same values;
//  * a javakdb client queries examples/kdb_echo_server;
//  * qwire's client queries a javakdb server.
#include <qwire/core/when_all.hpp>
#include <qwire/proto/kdb/connection.hpp>

#include <catch2/catch.hpp>

#include "peers/process.hpp"
#include "support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace qwire::kdb;
using qwire::byte_buffer;
using qwire::reactor;
using qwire::task;
using qwire::test::hex;
using qwire::test::unhex;

namespace {

const std::string java = "java -cp " QWIRE_JAVAKDB_CLASSPATH " KdbDriver";

struct entry {
    std::string name;
    std::vector<std::byte> plain, zip;
};

const std::vector<entry>& corpus() {
    static const std::vector<entry> c = [] {
        qwire::test::child_process p(java + " corpus");
        std::vector<entry> out;
        std::string line;
        while (p.read_line(line)) {
            std::istringstream in(line);
            entry e;
            std::string plain, zip;
            std::getline(in, e.name, '\t');
            std::getline(in, plain, '\t');
            std::getline(in, zip, '\t');
            e.plain = unhex(plain);
            e.zip = unhex(zip);
            out.push_back(std::move(e));
        }
        REQUIRE(p.wait() == 0);
        return out;
    }();
    return c;
}

}  // namespace

TEST_CASE("javakdb: the corpus decodes, compresses identically, and comes back through javakdb") {
    const auto& c = corpus();
    REQUIRE(c.size() >= 200);
    const std::string lines_file = "javakdb-check-" + std::to_string(::getpid()) + ".tsv";
    std::ofstream lines(lines_file);
    int compressed_by_java = 0;
    for (const auto& e : c) {
        INFO(e.name);
        REQUIRE(static_cast<int>(e.plain[0]) == 0);  // javakdb 2.0 writes big-endian
        auto m = decode_message(e.plain);
        REQUIRE(m);
        auto mz = decode_message(e.zip);
        REQUIRE(mz);
        CHECK(mz->value == m->value);
        // qwire's compressor makes javakdb's choice and javakdb's bytes.
        // javakdb, like kdb+, compresses only messages over 2000 bytes.
        byte_buffer z;
        const bool compressed = e.plain.size() > 2000 && compress(e.plain, z);
        if (e.zip[2] == std::byte{1}) {
            ++compressed_by_java;
            REQUIRE(compressed);
            CHECK(hex(z.data()) == hex(e.zip));
        } else {
            CHECK_FALSE(compressed);
        }
        // Little-endian re-encodings, plain and compressed, for javakdb to read.
        byte_buffer le, lez;
        REQUIRE(encode_message(m->value, msg_type::sync, le));
        REQUIRE(encode_message(m->value, msg_type::sync, lez, true));
        lines << e.name << '\t' << hex(le.data()) << '\n' << e.name << '\t' << hex(lez.data()) << '\n';
    }
    lines.close();
    CHECK(compressed_by_java >= 5);
    qwire::test::child_process check(java + " check < " + lines_file);
    const std::string report = check.read_all();
    INFO(report);
    CHECK(check.wait() == 0);
    CHECK(report.find(std::to_string(2 * c.size()) + " ok 0 mismatched") != std::string::npos);
    ::unlink(lines_file.c_str());
}

TEST_CASE("javakdb: a javakdb client queries kdb_echo_server") {
    qwire::test::child_process server(std::string(QWIRE_KDB_ECHO_SERVER) + " --port 0 --user alice:secret");
    std::string banner;
    REQUIRE(server.read_line(banner));  // listening now
    CHECK(banner.find("kdb echo server") != std::string::npos);
    const int port = qwire::test::port_after(banner);
    REQUIRE(port != 0);
    CHECK(banner.find("@/tmp/kx." + std::to_string(port)) != std::string::npos);  // its Unix socket follows the port
    qwire::test::child_process client(java + " client " + std::to_string(port) + " alice:secret");
    const std::string report = client.read_all();
    INFO(report);
    CHECK(client.wait() == 0);
    CHECK(report.find(std::to_string(corpus().size()) + " ok 0 mismatched") != std::string::npos);
    CHECK(server.stop() == -SIGTERM);  // it was still serving
}

TEST_CASE("javakdb: qwire's client queries a javakdb server") {
    qwire::test::child_process server(java + " server");
    std::string port_line;
    REQUIRE(server.read_line(port_line));
    const auto port = static_cast<std::uint16_t>(std::stoi(port_line));
    reactor r;
    std::string failed;
    auto run = [&]() -> task<std::pair<int, std::string>> {
        auto conn = (co_await connection::connect_tcp("127.0.0.1", port)).value();
        int ok = 0;
        for (const auto& e : corpus()) {
            auto sent = decode_message(e.plain).value().value;
            auto back = co_await conn.query(sent, {qwire::after(std::chrono::seconds(5))});
            if (back && *back == sent)
                ++ok;
            else
                failed += e.name + (back ? " (differs) " : " (" + back.error().message() + ") ");
            if (!back && back.error() == std::errc::timed_out) {
                WARN("javakdb server stopped answering at " << e.name);
                break;
            }
        }
        auto err = co_await conn.query("fail", {qwire::after(std::chrono::seconds(5))});
        conn.close();
        co_return std::pair{ok, std::string(err.error().detail())};
    };
    auto [ok, error_text] = r.block_on(run());
    INFO(failed);
    CHECK(ok == static_cast<int>(corpus().size()));
    CHECK(error_text == "nope");
    CHECK(server.wait() == 0);
}
