#include <qwire/io/address.hpp>

#include <catch2/catch.hpp>

using namespace qwire;

TEST_CASE("endpoint: numeric addresses") {
    auto v4 = endpoint::ip("127.0.0.1", 5001);
    REQUIRE(v4);
    CHECK(v4->family() == AF_INET);
    CHECK(v4->to_string() == "127.0.0.1:5001");
    auto v6 = endpoint::ip("[::1]", 80);
    REQUIRE(v6);
    CHECK(v6->family() == AF_INET6);
    CHECK(v6->to_string() == "[::1]:80");
    CHECK(endpoint::ip("localhost", 1).error() == errc::invalid_argument);
    CHECK(endpoint::ip("300.1.1.1", 1).error() == errc::invalid_argument);
    CHECK(endpoint::ip(std::string(200, '1'), 1).error() == errc::invalid_argument);
}

TEST_CASE("endpoint: Unix paths and abstract names") {
    auto p = endpoint::unix_socket("/tmp/kx.5001");
    REQUIRE(p);
    CHECK(p->to_string() == "/tmp/kx.5001");
    auto a = endpoint::unix_socket("@qwire-test");
    REQUIRE(a);
    CHECK(a->to_string() == "@qwire-test");
    CHECK(endpoint::unix_socket("").error() == errc::invalid_argument);
    CHECK(endpoint::unix_socket(std::string(200, 'x')).error() == errc::invalid_argument);
}

TEST_CASE("resolve: numeric inline, names off the reactor thread") {
    reactor r;
    auto numeric = r.block_on(resolve("127.0.0.1", 9000));
    REQUIRE(numeric);
    CHECK(numeric->size() == 1);

    auto local = r.block_on(resolve("localhost", 9000));
    REQUIRE(local);
    REQUIRE(!local->empty());
    for (auto& e : *local) CHECK(e.port() == 9000);

    auto missing = r.block_on(resolve("no-such-host.invalid", 1));
    CHECK(missing.error() == errc::no_such_host);
}

TEST_CASE("resolve: a stop token abandons a lookup") {
    reactor r;
    std::stop_source src;
    src.request_stop();
    auto rc = r.block_on(resolve("localhost", 1, {src.get_token()}));
    CHECK(rc.error() == std::errc::operation_canceled);
}
