// kdb+ over TLS: the client verifies the server's certificate and name, and
// a failed TLS handshake leaves a log line on the server.
#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/log.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>


using namespace qwire;
using namespace qwire::kdb;

TEST_CASE("kdb over TLS: a certificate for another name or from an untrusted CA is refused at both ends") {
    test::captured_log log;
    reactor r;
    server srv;
    srv.on_sync([](peer&, k x) -> task<result<k>> { co_return x; });
    // The test certificate is for localhost and 127.0.0.1; 127.0.0.2 is
    // loopback too, under a name the certificate does not carry.
    auto other_ip = tcp_listen("127.0.0.2", 0).value();
    auto local = tcp_listen("127.0.0.1", 0).value();
    const auto other_port = other_ip.local_endpoint().port(), local_port = local.local_endpoint().port();
    auto sctx = tls_context::server(test::cert("server.pem"), test::cert("server.key")).value();
    auto trusting = tls_context::client().value();
    REQUIRE(trusting.load_ca_file(test::cert("ca.pem")));
    auto other_ca = tls_context::client().value();
    REQUIRE(other_ca.load_ca_file(test::cert("other-ca.pem")));
    std::stop_source stop;
    std::error_code mismatch, untrusted;
    std::string echoed;
    auto clients = [&]() -> task<void> {
        auto a = co_await connection::connect_tls("127.0.0.2", other_port, trusting);
        mismatch = a ? std::error_code() : a.error().code();
        auto b = co_await connection::connect_tls("localhost", local_port, other_ca);
        untrusted = b ? std::error_code() : b.error().code();
        auto good = co_await connection::connect_tls("localhost", local_port, trusting);
        REQUIRE(good);
        auto v = co_await good->query(new_symbol("ok"));
        echoed = to_string(v.value());
        stop.request_stop();
    };
    r.block_on(when_all(srv.serve_tls(other_ip, sctx, stop.get_token()), srv.serve_tls(local, sctx, stop.get_token()),
                        clients()));
    CHECK(mismatch == tls_errc::hostname_mismatch);
    CHECK(untrusted == tls_errc::certificate_untrusted);
    CHECK(echoed == "`ok");
    CHECK(log.has("refused: TLS handshake failed"));
}
