#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>

#include <catch2/catch.hpp>

#include "io/echo_support.hpp"

using namespace qwire;
using namespace std::chrono_literals;

namespace {

struct connected_pair {
    socket_stream a, b;
};

task<connected_pair> make_pair() {
    auto l = tcp_listen("127.0.0.1", 0).value();
    const auto port = l.local_endpoint().port();
    auto accept = [](acceptor& l) -> task<result<socket_stream>> { co_return co_await l.accept(); };
    auto [acc, con] = co_await when_all(accept(l), connect_tcp("127.0.0.1", port));
    co_return connected_pair{std::move(acc).value(), std::move(con).value()};
}

}  // namespace

TEST_CASE("multishot: a stream larger than the buffer ring arrives intact") {
    for (auto mode : {reactor::setup::plain, reactor::setup::defer_taskrun}) {
        reactor r(test::mode_options(mode));
        auto p = r.block_on(make_pair());
        // 4 buffers of 4 KiB: the ring runs dry many times over 4 MiB and the
        // receive must be re-armed each time.
        REQUIRE(p.b.enable_multishot_receive(4, 4096));
        const auto payload = test::pattern(4 << 20);
        auto writer = [&]() -> task<result<void>> { co_return co_await p.a.write_all(payload); };
        // Odd read size: reads straddle the provided buffers.
        auto reader = [&]() -> task<std::vector<std::byte>> {
            co_return (co_await test::read_to_end(p.b, 3000, payload.size())).first;
        };
        auto [w, got] = r.block_on(when_all(writer(), reader()));
        CHECK(w);
        CHECK(got == payload);
    }
}

TEST_CASE("multishot: eof, cancel and deadline") {
    reactor r;
    auto p = r.block_on(make_pair());
    REQUIRE(p.b.enable_multishot_receive());
    std::vector<std::byte> buf(100);

    std::stop_source src;
    auto reader = [&]() -> task<std::error_code> {
        co_return (co_await p.b.read_some(buf, {src.get_token()})).error();
    };
    auto stopper = [&]() -> task<void> {
        (void)co_await test::next_turn();
        src.request_stop();
    };
    auto [cancelled, _] = r.block_on(when_all(reader(), stopper()));
    CHECK(cancelled == std::errc::operation_canceled);

    auto timed = r.block_on([&]() -> task<std::error_code> {
        co_return (co_await p.b.read_some(buf, {after(20ms)})).error();
    }());
    CHECK(timed == std::errc::timed_out);

    // Data that arrived before the close is still read, then eof.
    auto ends = r.block_on([&]() -> task<std::pair<std::string, std::error_code>> {
        (void)co_await p.a.write_all(test::bytes("last words"));
        p.a.close();
        auto [got, ec] = co_await test::read_to_end(p.b);
        co_return std::pair{test::text(got), ec};
    }());
    CHECK(ends.first == "last words");
    CHECK(ends.second == errc::eof);
}

TEST_CASE("multishot: closing the stream while a receive is armed") {
    reactor r;
    auto p = r.block_on(make_pair());
    REQUIRE(p.b.enable_multishot_receive());
    r.poll();  // the multishot receive is now in the kernel
    CHECK(r.in_flight() == 1);
    p.b.close();
    r.run();  // runs until the kernel has given the receive back
    CHECK(r.in_flight() == 0);
}
