#include <qwire/core/asio_bridge.hpp>
#include <qwire/core/timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <latch>
#include <thread>

using namespace qwire;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

task<int> slow_answer() {
    (void)co_await sleep_for(5ms);
    co_return 42;
}

task<int> failing() {
    (void)co_await sleep_for(1ms);
    throw std::runtime_error("qwire side failed");
}

}  // namespace

TEST_CASE("asio bridge: an Asio coroutine awaits a qwire task on a reactor hosted in the io_context") {
    for (auto mode : {reactor::setup::plain, reactor::setup::defer_taskrun}) {
        net::io_context ioc;
        reactor::options o;
        o.mode = mode;
        reactor r(o);
        asio::reactor_host host(ioc, r);
        int got = 0;
        std::string error;
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                got = co_await asio::async_run(r, slow_answer(), net::use_awaitable);
                // Interleave with an Asio timer to show both loops make progress.
                net::steady_timer t(ioc, 1ms);
                co_await t.async_wait(net::use_awaitable);
                try {
                    co_await asio::async_run(r, failing(), net::use_awaitable);
                } catch (const std::runtime_error& e) {
                    error = e.what();
                }
            },
            net::detached);
        ioc.run();
        CHECK(got == 42);
        CHECK(error == "qwire side failed");
    }
}

TEST_CASE("asio bridge: an Asio coroutine awaits a qwire task on a reactor in another thread") {
    net::io_context ioc;
    std::unique_ptr<reactor> r;
    std::optional<reactor::work_guard> guard;
    std::latch ready(1);
    std::thread qwire_thread([&] {
        r = std::make_unique<reactor>();
        guard.emplace(*r);
        ready.count_down();
        r->run();
        r.reset();
    });
    ready.wait();
    int got = 0;
    std::thread::id ran_on;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            auto t = [](std::thread::id& id) -> task<int> {
                id = std::this_thread::get_id();
                co_return co_await slow_answer();
            };
            got = co_await asio::async_run(*r, t(ran_on), net::use_awaitable);
            // Release the guard on the reactor's own thread.
            r->post([&] { guard.reset(); });
        },
        net::detached);
    const auto qwire_id = qwire_thread.get_id();
    ioc.run();
    qwire_thread.join();
    CHECK(got == 42);
    CHECK(ran_on == qwire_id);
}

TEST_CASE("asio bridge: qwire coroutines run inside an Asio application") {
    // The reactor is driven only by the io_context: no run() of its own.
    net::io_context ioc;
    reactor r;
    asio::reactor_host host(ioc, r);
    int ticks = 0;
    bool asio_side = false;
    r.spawn([](int& t) -> task<void> {
        for (int i = 0; i < 5; ++i) {
            (void)co_await sleep_for(1ms);
            ++t;
        }
    }(ticks));
    net::steady_timer timer(ioc, 2ms);
    timer.async_wait([&](auto) { asio_side = true; });
    // run() returns when the Asio side has no more work: the qwire timers
    // keep it busy through the ring fd wait only while they are pending, so
    // drive until both are done, bounded.
    const auto start = clock::now();
    while ((ticks < 5 || !asio_side) && clock::now() - start < 10s) ioc.run_one_for(100ms);
    CHECK(ticks == 5);
    CHECK(asio_side);
}
