#include <qwire/proto/kdb/address.hpp>
#include <qwire/proto/kdb/error.hpp>
#include <qwire/proto/kdb/server.hpp>

#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/core/when_all.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace qwire;
using namespace qwire::kdb;

TEST_CASE("kdb address: every form q's hopen takes, and what it refuses") {
    auto a = parse_address("db1:5001");
    REQUIRE(a);
    CHECK(a->kind == transport::tcp);
    CHECK(a->host == "db1");
    CHECK(a->port == 5001);
    CHECK(a->credentials.empty());
    CHECK(a->to_string() == "db1:5001");

    a = parse_address(":db1:5001:alice:se:cret");  // the password may hold ':'
    REQUIRE(a);
    CHECK(a->host == "db1");
    CHECK(a->credentials == "alice:se:cret");
    CHECK(a->to_string() == "db1:5001:alice");  // never the password

    a = parse_address("`::5001");  // a symbol, the host left out: this host
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 5001);

    a = parse_address(":unix://5010:bob:pw");
    REQUIRE(a);
    CHECK(a->kind == transport::unix_socket);
    CHECK(a->port == 5010);
    CHECK(a->credentials == "bob:pw");
    CHECK(a->to_string() == ":unix://5010:bob");

    a = parse_address(":tcps://localhost:5443");
    REQUIRE(a);
    CHECK(a->kind == transport::tls);
    CHECK(a->host == "localhost");
    CHECK(a->to_string() == ":tcps://localhost:5443");

    const std::pair<const char*, const char*> bad[] = {
        {"db1", "no port"},
        {"db1:", "no port"},
        {"db1:50x1", "port '50x1' is not a number"},
        {"db1:70000", "port 70000 is outside 1..65535"},
        {"db1:0", "port 0 is outside 1..65535"},
        {"db1:99999999999999999999", "is not a number"},
        {":http://db1:80", "unknown scheme 'http'"},
        {":unix://", "no port"},
        {"", "no port"},
    };
    for (const auto& [text, why] : bad) {
        INFO(text);
        auto r = parse_address(text);
        REQUIRE_FALSE(r);
        CHECK(r.error() == kdb::errc::bad_address);
        const std::string detail(r.error().detail());
        CHECK(detail.find(why) != std::string::npos);
        CHECK(detail.find(std::string("'") + text + "'") == 0);  // it names the address
    }
}

TEST_CASE("kdb address: connect() reaches a server over TCP and over kdb+'s Unix socket, with the address's credentials") {
    reactor r;
    server srv;
    std::string seen_user;
    srv.on_login([&](std::string_view user, std::string_view password) {
        seen_user = std::string(user);
        return password == "pw";
    });
    srv.on_sync([](peer&, k x) -> task<result<k>> { co_return x; });
    auto tcp = tcp_listen("127.0.0.1", 0).value();
    const std::uint16_t port = tcp.local_endpoint().port();
    auto uds = unix_listen(unix_socket_name(port)).value();
    std::stop_source stop;
    auto clients = [&]() -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        std::vector<std::string> texts;
        texts.push_back("127.0.0.1:" + std::to_string(port) + ":alice:pw");
        texts.push_back(":unix://" + std::to_string(port) + ":bob:pw");
        texts.push_back("127.0.0.1:" + std::to_string(port) + ":eve:wrong");
        for (const auto& text : texts) {
            auto c = co_await connect(parse_address(text).value());
            if (!c) {
                got.push_back("refused");
                continue;
            }
            auto v = co_await c->query("x");
            got.push_back(seen_user + (v ? " ok" : " failed"));
        }
        stop.request_stop();
        co_return got;
    };
    auto [a, b, got] = r.block_on(when_all(srv.serve(tcp, stop.get_token()), srv.serve(uds, stop.get_token()), clients()));
    CHECK(got == std::vector<std::string>{"alice ok", "bob ok", "refused"});
}
