#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/io/unix_socket.hpp>

#include <catch2/catch.hpp>

#include "io/echo_support.hpp"

#include <unistd.h>

using namespace qwire;

namespace {

tls_context server_ctx() { return tls_context::server(test::cert("server.pem"), test::cert("server.key")).value(); }

tls_context client_ctx(const char* ca = "ca.pem") {
    auto c = tls_context::client().value();
    c.load_ca_file(test::cert(ca)).value();
    return c;
}

// Accepts one TCP connection, runs the TLS handshake and echoes. Reports the
// handshake error (if any) and the SNI name the client sent.
task<std::pair<std::error_code, std::string>> tls_echo_server(acceptor& a, const tls_context& ctx) {
    auto s = co_await a.accept();
    if (!s) co_return std::pair{s.error(), std::string()};
    auto t = co_await tls_stream<socket_stream>::accept(std::move(*s), ctx);
    if (!t) co_return std::pair{t.error(), std::string()};
    auto sni = t->requested_server_name();
    co_await test::echo(std::move(*t));
    co_return std::pair{std::error_code{}, sni};
}

struct client_result {
    std::error_code ec;
    std::string echoed;
    std::string version;
};

task<client_result> tls_client(std::uint16_t port, const tls_context& ctx, std::string host,
                               std::vector<std::byte> payload) {
    auto s = co_await connect_tcp("127.0.0.1", port);
    if (!s) co_return client_result{s.error(), {}, {}};
    auto t = co_await tls_stream<socket_stream>::connect(std::move(*s), ctx, host);
    if (!t) co_return client_result{t.error(), {}, {}};
    auto back = co_await test::round_trip(*t, payload);
    (void)co_await t->shutdown();
    co_return client_result{{}, test::text(back), std::string(t->version())};
}

// One TLS echo server and one client over loopback TCP; what each side saw.
std::pair<std::pair<std::error_code, std::string>, client_result> tls_pair(const tls_context& cctx, std::string host,
                                                                           std::vector<std::byte> payload) {
    reactor r;
    const auto sctx = server_ctx();
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto [srv, cli] = r.block_on(when_all(tls_echo_server(a, sctx), tls_client(port, cctx, std::move(host), std::move(payload))));
    return {srv, cli};
}

}  // namespace

TEST_CASE("tls: echo over TCP with verification, TLS 1.3 and SNI") {
    auto [srv, cli] = tls_pair(client_ctx(), "localhost", test::pattern(100));
    REQUIRE(!cli.ec);
    CHECK(cli.echoed == test::text(test::pattern(100)));
    CHECK(cli.version == "TLSv1.3");
    CHECK(!srv.first);
    CHECK(srv.second == "localhost");
}

TEST_CASE("tls: a large transfer, and a scatter-gather write") {
    const auto big = test::pattern(3 << 20);
    auto [srv, cli] = tls_pair(client_ctx(), "localhost", big);
    REQUIRE(!cli.ec);
    CHECK(cli.echoed == test::text(big));

    reactor r;
    auto sctx = server_ctx();
    auto cctx = client_ctx();

    auto a2 = tcp_listen("127.0.0.1", 0).value();
    const auto port2 = a2.local_endpoint().port();
    auto gather = [&](std::uint16_t port) -> task<std::string> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        auto t = (co_await tls_stream<socket_stream>::connect(std::move(s), cctx, "localhost")).value();
        const auto large = test::pattern(100'000);
        const const_buffer pieces[] = {buffer("head|"), buffer(std::span<const std::byte>(large)), buffer("|tail")};
        auto written = co_await t.write_all(std::span(pieces));
        REQUIRE(written);
        std::vector<std::byte> back(5 + large.size() + 5);
        auto read = co_await read_exact(t, std::span(back));
        REQUIRE(read);
        co_return test::text(back);
    };
    auto [_, got] = r.block_on(when_all(tls_echo_server(a2, sctx), gather(port2)));
    CHECK(got == "head|" + test::text(test::pattern(100'000)) + "|tail");
}

TEST_CASE("tls: verifying against the IP address in the certificate") {
    auto [srv, cli] = tls_pair(client_ctx(), "127.0.0.1", test::pattern(10));
    CHECK(!cli.ec);
    CHECK(srv.second.empty());  // no SNI for IP literals
}

TEST_CASE("tls: an untrusted CA is a clear error") {
    auto [srv, cli] = tls_pair(client_ctx("other-ca.pem"), "localhost", test::pattern(10));
    CHECK(cli.ec == tls_errc::certificate_untrusted);
    CHECK(cli.ec.category() == tls_category());
    CHECK(!cli.ec.message().empty());
    CHECK(srv.first);  // the server saw the handshake fail too
}

TEST_CASE("tls: a host name the certificate does not cover is a clear error") {
    auto [srv, cli] = tls_pair(client_ctx(), "questdb.example", test::pattern(10));
    CHECK(cli.ec == tls_errc::hostname_mismatch);
}

TEST_CASE("tls: missing certificate files are a configuration error") {
    auto bad = tls_context::server("/nonexistent.pem", "/nonexistent.key");
    CHECK(bad.error() == tls_errc::bad_configuration);
    auto c = tls_context::client().value();
    CHECK(c.load_ca_file("/nonexistent-ca.pem").error() == tls_errc::bad_configuration);
}

TEST_CASE("tls: a plaintext peer fails the handshake instead of hanging") {
    reactor r;
    auto cctx = client_ctx();
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto plain = [&]() -> task<void> {
        auto s = (co_await a.accept()).value();
        (void)co_await s.write_all(test::bytes("HTTP/1.1 400 Bad Request\r\n\r\n"));
        s.close();
    };
    auto [_, cli] = r.block_on(when_all(plain(), tls_client(port, cctx, "localhost", test::pattern(10))));
    CHECK(cli.ec);
}

TEST_CASE("tls: over a Unix socket and over the in-memory pipe") {
    reactor r;
    auto sctx = server_ctx();
    auto cctx = client_ctx();
    const auto path = "@qwire-tls-" + std::to_string(::getpid());
    auto a = unix_listen(path).value();
    auto server = [&]() -> task<void> {
        auto s = (co_await a.accept()).value();
        auto t = (co_await tls_stream<socket_stream>::accept(std::move(s), sctx)).value();
        co_await test::echo(std::move(t));
    };
    auto client = [&]() -> task<std::string> {
        auto s = (co_await connect_unix(path)).value();
        auto t = (co_await tls_stream<socket_stream>::connect(std::move(s), cctx, "localhost")).value();
        co_return test::text(co_await test::round_trip(t, test::bytes("tls over unix")));
    };
    auto [_, got] = r.block_on(when_all(server(), client()));
    CHECK(got == "tls over unix");

    auto [pc, ps] = pipe_stream::make_pair(4096);
    auto pserver = [&](pipe_stream s) -> task<void> {
        auto t = (co_await tls_stream<pipe_stream>::accept(std::move(s), sctx)).value();
        co_await test::echo(std::move(t));
    };
    auto pclient = [&](pipe_stream s) -> task<std::string> {
        auto t = (co_await tls_stream<pipe_stream>::connect(std::move(s), cctx, "localhost")).value();
        auto back = co_await test::round_trip(t, test::bytes("tls over memory"));
        t.next_layer().close();
        co_return test::text(back);
    };
    auto [__, pgot] = r.block_on(when_all(pserver(std::move(ps)), pclient(std::move(pc))));
    CHECK(pgot == "tls over memory");
}
