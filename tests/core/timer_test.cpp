#include <qwire/core/reactor.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>

#include <catch2/catch.hpp>

#include "support.hpp"

#include <latch>
#include <thread>

using namespace qwire;
using namespace std::chrono_literals;

TEST_CASE("timer: sleep_for waits at least the duration") {
    reactor r;
    const auto start = clock::now();
    auto rc = r.block_on([]() -> task<result<void>> { co_return co_await sleep_for(20ms); }());
    CHECK(rc);
    CHECK(clock::now() - start >= 20ms);
}

TEST_CASE("timer: sleep_until in the past completes at once") {
    reactor r;
    auto rc = r.block_on([]() -> task<result<void>> { co_return co_await sleep_until(clock::now() - 1s); }());
    CHECK(rc);
}

TEST_CASE("timer: timers fire in deadline order") {
    reactor r;
    std::vector<int> order;
    auto at = [](std::vector<int>& o, int id, std::chrono::milliseconds d) -> task<void> {
        (void)co_await sleep_for(d);
        o.push_back(id);
    };
    r.block_on(when_all(at(order, 3, 30ms), at(order, 1, 10ms), at(order, 2, 20ms)));
    CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("timer: a stop token cancels a pending sleep in the kernel") {
    reactor r;
    std::stop_source src;
    auto sleeper = [](std::stop_token st) -> task<result<void>> { co_return co_await sleep_for(1h, st); };
    auto stopper = [](std::stop_source& s) -> task<void> {
        (void)co_await test::next_turn();
        s.request_stop();
    };
    auto [rc, _] = r.block_on(when_all(sleeper(src.get_token()), stopper(src)));
    CHECK(rc.error() == std::errc::operation_canceled);
    CHECK(r.in_flight() == 0);
}

TEST_CASE("timer: a stop token already stopped completes without submitting") {
    reactor r;
    std::stop_source src;
    src.request_stop();
    auto rc = r.block_on([](std::stop_token st) -> task<result<void>> { co_return co_await sleep_for(1h, st); }(
        src.get_token()));
    CHECK(rc.error() == std::errc::operation_canceled);
}

TEST_CASE("timer: stop requested from another thread") {
    reactor r;
    std::stop_source src;
    std::latch sleeping(1);
    std::thread t([&] {
        sleeping.wait();
        src.request_stop();  // the callback runs here and posts the cancel
    });
    auto sleeper = [](std::stop_token st) -> task<result<void>> { co_return co_await sleep_for(1h, st); };
    auto signal = [](std::latch& l) -> task<void> {
        // Completes on the turn after the sleeper's SQE was submitted.
        (void)co_await sleep_for(0ms);
        l.count_down();
    };
    reactor::work_guard guard(r);
    auto [rc, _] = r.block_on(when_all(sleeper(src.get_token()), signal(sleeping)));
    t.join();
    CHECK(rc.error() == std::errc::operation_canceled);
}
