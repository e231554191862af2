#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>

#include <catch2/catch.hpp>

#include "io/echo_support.hpp"

using namespace qwire;
using namespace std::chrono_literals;

TEST_CASE("pipe: echo through an in-memory pair") {
    reactor r;
    auto [client, server] = pipe_stream::make_pair();
    auto talk = [](pipe_stream& s) -> task<std::string> {
        auto back = co_await test::round_trip(s, test::bytes("through memory"));
        s.close();
        co_return test::text(back);
    };
    auto [_, got] = r.block_on(when_all(test::echo(std::move(server)), talk(client)));
    CHECK(got == "through memory");
}

TEST_CASE("pipe: a writer waits while the buffer is full") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair(1024);
    const auto payload = test::pattern(1 << 20);
    auto writer = [&]() -> task<result<void>> {
        auto rc = co_await a.write_all(payload);
        a.shutdown_write();
        co_return rc;
    };
    auto reader = [&]() -> task<std::vector<std::byte>> { co_return (co_await test::read_to_end(b, 777)).first; };
    auto [w, got] = r.block_on(when_all(writer(), reader()));
    CHECK(w);
    CHECK(got == payload);
}

TEST_CASE("pipe: close, broken pipe, cancel and deadline") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair(16);
    std::vector<std::byte> buf(8);

    auto timed = r.block_on(b.read_some(buf, {after(10ms)}));
    CHECK(timed.error() == std::errc::timed_out);

    std::stop_source src;
    auto reader = [&]() -> task<std::error_code> { co_return (co_await b.read_some(buf, {src.get_token()})).error(); };
    auto stopper = [&]() -> task<void> {
        (void)co_await test::next_turn();
        src.request_stop();
    };
    auto [cancelled, _] = r.block_on(when_all(reader(), stopper()));
    CHECK(cancelled == std::errc::operation_canceled);

    b.close();
    auto w = r.block_on(a.write_all(test::bytes("nobody reads")));
    CHECK(w.error() == std::errc::broken_pipe);
    auto rd = r.block_on(a.read_some(buf));
    CHECK(rd.error() == errc::eof);
    CHECK(r.in_flight() == 0);
}
