// QWP over wss: the sender verifies the server's name, not only its CA.
#include <qwire/core/when_all.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::qwp;

TEST_CASE("qwp over wss: a certificate for another name is refused with hostname_mismatch") {
    test_server_options so;
    so.host = "127.0.0.2";  // loopback, but not a name the test certificate carries
    so.tls_cert = test::cert("server.pem");
    so.tls_key = test::cert("server.key");
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    std::error_code got;
    auto body = [&]() -> task<void> {
        auto s = co_await sender::connect("wss::addr=127.0.0.2:" + std::to_string(server.port()) + ";tls_roots=" +
                                          test::cert("ca.pem") + ";reconnect_max_duration_millis=0;");
        got = s ? std::error_code() : s.error().code();
        server.stop();
    };
    r.block_on(when_all(server.run(), body()));
    CHECK(got == tls_errc::hostname_mismatch);
}
