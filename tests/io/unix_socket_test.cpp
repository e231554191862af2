#include <qwire/core/when_all.hpp>
#include <qwire/io/unix_socket.hpp>

#include <catch2/catch.hpp>

#include "io/echo_support.hpp"

#include <sys/stat.h>
#include <unistd.h>

using namespace qwire;

namespace {

std::string scratch_path(const char* tag) {
    return "/tmp/qwire-test-" + std::to_string(::getpid()) + "-" + tag;
}

task<std::string> talk(std::string path, std::string msg) {
    auto s = co_await connect_unix(path);
    if (!s) co_return "connect failed: " + s.error().message();
    co_return test::text(co_await test::round_trip(*s, test::bytes(msg)));
}

}  // namespace

TEST_CASE("unix: echo over a filesystem socket") {
    reactor r;
    const auto path = scratch_path("fs");
    auto a = unix_listen(path).value();
    auto [_, got] = r.block_on(when_all(test::echo_server(a, 1), talk(path, "over a path")));
    CHECK(got == "over a path");
    a.close();
    ::unlink(path.c_str());
}

TEST_CASE("unix: echo over a Linux abstract name") {
    reactor r;
    const auto name = "@" + scratch_path("abstract");
    auto a = unix_listen(name).value();
    CHECK(a.local_endpoint().to_string() == name);
    auto [_, got] = r.block_on(when_all(test::echo_server(a, 1), talk(name, "abstract")));
    CHECK(got == "abstract");
    struct stat st{};
    CHECK(::stat(name.c_str() + 1, &st) != 0);  // no file was made
}

TEST_CASE("unix: a stale socket file is replaced, a live one is not") {
    reactor r;
    const auto path = scratch_path("stale");
    {
        auto first = unix_listen(path).value();
        auto second = unix_listen(path);
        CHECK(second.error() == std::errc::address_in_use);
    }  // closed, but the file stays behind
    auto again = unix_listen(path);
    CHECK(again);
    ::unlink(path.c_str());
}

TEST_CASE("unix: connecting where nothing listens") {
    reactor r;
    auto rc = r.block_on(connect_unix(scratch_path("nobody")));
    CHECK(rc.error() == std::errc::no_such_file_or_directory);
}
