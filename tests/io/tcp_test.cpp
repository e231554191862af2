#include <qwire/core/scope.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>

#include <catch2/catch.hpp>

#include "io/echo_support.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

using namespace qwire;
using namespace std::chrono_literals;

namespace {

// A listener whose accept queue is full, so that a new connect hangs in
// SYN_SENT (the kernel drops its SYNs) until a deadline or cancel ends it.
struct full_listener {
    acceptor a;
    std::vector<int> fillers;
    std::uint16_t port = 0;
    full_listener() {
        a = tcp_listen("127.0.0.1", 0, 0).value();
        port = a.local_endpoint().port();
        auto ep = endpoint::ip("127.0.0.1", port).value();
        for (int i = 0; i < 4; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            ::connect(fd, ep.data(), ep.size());
            fillers.push_back(fd);
        }
    }
    ~full_listener() {
        for (int fd : fillers) ::close(fd);
    }
};

}  // namespace

TEST_CASE("tcp: echo over loopback on both ring setups") {
    for (auto mode : {reactor::setup::plain, reactor::setup::defer_taskrun}) {
        reactor r(test::mode_options(mode));
        auto a = tcp_listen("127.0.0.1", 0).value();
        const auto port = a.local_endpoint().port();
        auto client = [](std::uint16_t port) -> task<std::string> {
            auto s = (co_await connect_tcp("127.0.0.1", port)).value();
            auto back = co_await test::round_trip(s, test::bytes("hello, qwire"));
            co_return test::text(back);
        };
        auto [_, got] = r.block_on(when_all(test::echo_server(a, 1), client(port)));
        CHECK(got == "hello, qwire");
    }
}

TEST_CASE("tcp: connect by name and over IPv6 loopback") {
    reactor r;
    auto a = tcp_listen("::1", 0).value();
    const auto port = a.local_endpoint().port();
    auto client = [](std::uint16_t port) -> task<std::string> {
        auto s = (co_await connect_tcp("::1", port)).value();
        co_return test::text(co_await test::round_trip(s, test::bytes("v6")));
    };
    auto [_, got] = r.block_on(when_all(test::echo_server(a, 1), client(port)));
    CHECK(got == "v6");

    auto a4 = tcp_listen("127.0.0.1", 0).value();
    const auto port4 = a4.local_endpoint().port();
    auto by_name = [](std::uint16_t port) -> task<std::string> {
        // "localhost" may resolve to ::1 first, where nothing listens: the
        // connect walks on to 127.0.0.1.
        auto s = (co_await connect_tcp("localhost", port)).value();
        co_return test::text(co_await test::round_trip(s, test::bytes("by name")));
    };
    auto [__, got4] = r.block_on(when_all(test::echo_server(a4, 1), by_name(port4)));
    CHECK(got4 == "by name");
}

TEST_CASE("tcp: large transfers and scatter-gather writes arrive intact") {
    reactor r;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    const auto payload = test::pattern(8 << 20);
    auto client = [&](std::uint16_t port) -> task<bool> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        // Write in three pieces through one sendmsg, read back concurrently.
        const std::span<const std::byte> p(payload);
        const const_buffer pieces[] = {buffer(p.first(3)), buffer(p.subspan(3, 1 << 20)),
                                       buffer(p.subspan(3 + (1 << 20)))};
        std::vector<std::byte> back(payload.size());
        auto writer = [&]() -> task<result<void>> { co_return co_await s.write_all(std::span(pieces)); };
        auto reader = [&]() -> task<result<void>> { co_return co_await read_exact(s, std::span(back)); };
        auto [w, rd] = co_await when_all(writer(), reader());
        co_return w && rd && back == payload;
    };
    auto [_, ok] = r.block_on(when_all(test::echo_server(a, 1), client(port)));
    CHECK(ok);
}

TEST_CASE("tcp: a peer closing mid-read gives a clean eof") {
    reactor r;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto server = [&]() -> task<void> {
        auto s = (co_await a.accept()).value();
        (void)co_await s.write_all(test::bytes("partial"));
        s.close();
    };
    auto client = [](std::uint16_t port) -> task<std::pair<std::string, std::error_code>> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        auto [got, ec] = co_await test::read_to_end(s, 100);
        co_return std::pair{test::text(got), ec};
    };
    auto [_, res] = r.block_on(when_all(server(), client(port)));
    CHECK(res.first == "partial");
    CHECK(res.second == errc::eof);
}

TEST_CASE("tcp: writing to a closed peer fails instead of raising SIGPIPE") {
    reactor r;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto server = [&]() -> task<void> { (void)co_await a.accept(); };  // accepts and closes at once
    auto client = [](std::uint16_t port) -> task<std::error_code> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        std::vector<std::byte> buf(1);
        (void)co_await s.read_some(buf);  // eof: the server is gone
        const auto big = test::pattern(1 << 20);
        for (int i = 0; i < 64; ++i)
            if (auto w = co_await s.write_all(big); !w) co_return w.error();
        co_return std::error_code{};
    };
    auto [_, ec] = r.block_on(when_all(server(), client(port)));
    CHECK((ec == std::errc::broken_pipe || ec == std::errc::connection_reset));
}

TEST_CASE("tcp: connect refused") {
    reactor r;
    std::uint16_t port;
    {
        auto a = tcp_listen("127.0.0.1", 0).value();
        port = a.local_endpoint().port();
    }  // closed: nothing listens there now
    auto rc = r.block_on(connect_tcp("127.0.0.1", port));
    CHECK(rc.error() == std::errc::connection_refused);
}

TEST_CASE("tcp: connect deadline expiring") {
    reactor r;
    full_listener l;
    const auto start = clock::now();
    auto rc = r.block_on(connect_tcp("127.0.0.1", l.port, {after(200ms)}));
    CHECK(rc.error() == std::errc::timed_out);
    CHECK(clock::now() - start >= 200ms);
    CHECK(r.in_flight() == 0);
}

TEST_CASE("tcp: cancelling a pending connect") {
    reactor r;
    full_listener l;
    std::stop_source src;
    auto connector = [&]() -> task<std::error_code> {
        auto s = co_await connect_tcp("127.0.0.1", l.port, {src.get_token()});
        co_return s.error();
    };
    auto canceller = [&]() -> task<void> {
        (void)co_await test::next_turn();
        src.request_stop();
    };
    auto [ec, _] = r.block_on(when_all(connector(), canceller()));
    CHECK(ec == std::errc::operation_canceled);
    CHECK(r.in_flight() == 0);
}

TEST_CASE("tcp: cancelling a pending recv, and a recv deadline") {
    reactor r;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    std::stop_source src;
    auto server = [&]() -> task<void> {
        auto s = (co_await a.accept()).value();
        std::vector<std::byte> buf(10);
        (void)co_await s.read_some(buf);  // until the client leaves
    };
    auto client = [&]() -> task<std::pair<std::error_code, std::error_code>> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        std::vector<std::byte> buf(10);
        auto stopper = [&]() -> task<void> {
            (void)co_await test::next_turn();
            src.request_stop();
        };
        auto reader = [&]() -> task<std::error_code> {
            co_return (co_await s.read_some(buf, {src.get_token()})).error();
        };
        auto [cancelled, _] = co_await when_all(reader(), stopper());
        auto timed = co_await s.read_some(buf, {after(20ms)});
        co_return std::pair{cancelled, timed.error()};
    };
    auto [_, res] = r.block_on(when_all(server(), client()));
    CHECK(res.first == std::errc::operation_canceled);
    CHECK(res.second == std::errc::timed_out);
    CHECK(r.in_flight() == 0);
}

TEST_CASE("tcp: a thousand concurrent connections on one reactor") {
    reactor r;
    constexpr std::size_t n = 1000;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto client = [](std::uint16_t port, std::size_t i) -> task<bool> {
        auto s = co_await connect_tcp("127.0.0.1", port);
        if (!s) co_return false;
        const auto payload = test::pattern(100 + i, static_cast<unsigned>(i));
        auto sent = co_await s->write_all(payload);
        if (!sent) co_return false;
        std::vector<std::byte> back(payload.size());
        auto got = co_await read_exact(*s, std::span(back));
        if (!got) co_return false;
        co_return back == payload;
    };
    std::vector<task<bool>> clients;
    for (std::size_t i = 0; i < n; ++i) clients.push_back(client(port, i));
    auto [_, results] = r.block_on(when_all(test::echo_server(a, n), when_all(std::move(clients))));
    CHECK(std::count(results.begin(), results.end(), true) == static_cast<long>(n));
}

TEST_CASE("tcp: closing a stream cancels its pending read") {
    reactor r;
    auto a = tcp_listen("127.0.0.1", 0).value();
    const auto port = a.local_endpoint().port();
    auto server = [&]() -> task<void> {
        auto s = (co_await a.accept()).value();
        std::vector<std::byte> buf(10);
        (void)co_await s.read_some(buf);
    };
    auto client = [&]() -> task<std::error_code> {
        auto s = (co_await connect_tcp("127.0.0.1", port)).value();
        std::vector<std::byte> buf(10);
        auto reader = [&]() -> task<std::error_code> { co_return (co_await s.read_some(buf)).error(); };
        auto closer = [&]() -> task<void> {
            (void)co_await test::next_turn();
            s.close();
        };
        auto [ec, _] = co_await when_all(reader(), closer());
        co_return ec;
    };
    auto [_, ec] = r.block_on(when_all(server(), client()));
    CHECK(ec == std::errc::operation_canceled);
}

TEST_CASE("socket: close() ends the connection at once, even with a read in flight") {
    // The ring holds the socket for a cancelled read until the reactor's next
    // turn; the peer must see the end of the stream before that.
    reactor r;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    socket_stream s(fds[0], r);
    std::vector<std::byte> buf(16);
    r.spawn([](socket_stream& s, std::vector<std::byte>& b) -> task<void> { (void)co_await s.read_some(b); }(s, buf));
    r.poll();  // the read is now in the kernel
    REQUIRE(r.in_flight() == 1);
    s.close();
    char c;
    CHECK(::recv(fds[1], &c, 1, MSG_DONTWAIT) == 0);  // eof, without another turn of the reactor
    r.run();
    ::close(fds[1]);
}
