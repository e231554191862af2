#include <qwire/core/reactor.hpp>
#include <qwire/core/scope.hpp>
#include <qwire/core/timer.hpp>

#include <catch2/catch.hpp>

#include "support.hpp"

#include <ctime>
#include <thread>

using namespace qwire;
using namespace std::chrono_literals;

TEST_CASE("reactor: both ring setups work") {
    {
        reactor r(test::mode_options(reactor::setup::plain));
        CHECK_FALSE(r.defer_taskrun());
        CHECK(r.block_on([]() -> task<int> { co_return 7; }()) == 7);
    }
    {
        // The kernels we support (>= 6.1) take SINGLE_ISSUER|DEFER_TASKRUN;
        // the explicit mode fails loudly where they don't.
        reactor r(test::mode_options(reactor::setup::defer_taskrun));
        CHECK(r.defer_taskrun());
        auto t = []() -> task<result<void>> { co_return co_await sleep_for(1ms); };
        CHECK(r.block_on(t()));
    }
    {
        reactor r;  // automatic: the fast setup when available
        CHECK(r.defer_taskrun());
    }
}

TEST_CASE("reactor: automatic setup falls back to a plain ring when the kernel refuses the fast flags") {
    reactor::options o;
    o.fast_setup_flags |= 1u << 31;  // no kernel knows this flag: io_uring_setup fails with EINVAL
    reactor r(o);
    CHECK_FALSE(r.defer_taskrun());
    auto t = []() -> task<result<void>> { co_return co_await sleep_for(1ms); };
    CHECK(r.block_on(t()));

    o.mode = reactor::setup::defer_taskrun;  // asked for explicitly: a loud failure instead
    CHECK_THROWS_AS(reactor(o), std::system_error);
}

TEST_CASE("reactor: run returns when there is no work") {
    reactor r;
    r.run();
    CHECK_FALSE(r.run_once());
    CHECK(r.poll() == 0);
}

TEST_CASE("reactor: spawned tasks run on run()") {
    for (auto mode : {reactor::setup::plain, reactor::setup::defer_taskrun}) {
        reactor r(test::mode_options(mode));
        int done = 0;
        for (int i = 0; i < 10; ++i)
            r.spawn([](int& d) -> task<void> {
                (void)co_await sleep_for(1ms);
                ++d;
            }(done));
        CHECK(done == 0);  // spawn starts nothing by itself
        r.run();
        CHECK(done == 10);
    }
}

TEST_CASE("reactor: poll never blocks and eventually completes work") {
    reactor r;
    bool done = false;
    r.spawn([](bool& d) -> task<void> {
        (void)co_await sleep_for(20ms);
        d = true;
    }(done));
    // poll() must return at once while the timer is pending; loop until it fires.
    const auto start = clock::now();
    std::size_t polls = 0;
    while (!done && clock::now() - start < 10s) {
        r.poll();
        ++polls;
    }
    CHECK(done);
    CHECK(polls > 1);
}

TEST_CASE("reactor: stop() from another thread ends run()") {
    reactor r;
    reactor::work_guard guard(r);  // without it run() would return at once
    std::thread t([&] { r.stop(); });
    r.run();
    t.join();
    SUCCEED("run() returned");
}

namespace {
// A function post()ed from another thread runs on r's thread (and stops it).
void check_post_from_another_thread(reactor& r) {
    reactor::work_guard guard(r);
    std::thread::id ran_on;
    std::thread t([&] {
        r.post([&] {
            ran_on = std::this_thread::get_id();
            r.stop();
        });
    });
    r.run();
    t.join();
    CHECK(ran_on == std::this_thread::get_id());
}
}  // namespace

TEST_CASE("reactor: post() from another thread runs on the reactor thread") {
    reactor r;
    check_post_from_another_thread(r);
}

namespace {
std::chrono::nanoseconds thread_cpu() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}
}  // namespace

TEST_CASE("reactor: busy_poll finds timers and post()s from other threads while it spins") {
    reactor::options o;
    o.busy_poll = 60s;  // a spin that missed a completion would wait this out
    reactor r(o);
    const auto start = std::chrono::steady_clock::now();
    // A timer's completion is found by spinning: the reactor polled (a
    // reactor that slept would not have), and did not wait the window out.
    auto t = []() -> task<result<void>> { co_return co_await sleep_for(50ms); };
    CHECK(r.block_on(t()));
    CHECK(r.spin_polls() > 0);
    // So is the eventfd write of a post() from another thread.
    check_post_from_another_thread(r);
    CHECK(std::chrono::steady_clock::now() - start < 30s);
}

TEST_CASE("reactor: busy_poll spins at most that long, then sleeps") {
    {
        reactor sleeper;  // no busy_poll: never polls
        auto t = []() -> task<result<void>> { co_return co_await sleep_for(1ms); };
        CHECK(sleeper.block_on(t()));
        CHECK(sleeper.spin_polls() == 0);
    }
    reactor::options o;
    o.busy_poll = 2ms;
    reactor r(o);
    const auto before = thread_cpu();
    auto t = []() -> task<result<void>> { co_return co_await sleep_for(300ms); };
    CHECK(r.block_on(t()));
    // A reactor that kept spinning would have burnt the whole 300 ms.
    CHECK(thread_cpu() - before < 150ms);
}

TEST_CASE("reactor: releasing the last work_guard wakes run()") {
    reactor r;
    auto guard = std::make_unique<reactor::work_guard>(r);
    std::thread t([&] { guard.reset(); });
    r.run();  // returns once the guard is gone
    t.join();
    SUCCEED();
}

TEST_CASE("reactor: a thread inside post() while the reactor is destroyed touches it no more") {
    // The posted function ends the reactor's last work, so run() returns and
    // the reactor is destroyed while the posting thread may still be inside
    // post(). Many rounds, to meet the window; ASan and TSan see any touch.
    for (int round = 0; round < 200; ++round) {
        auto r = std::make_unique<reactor>();
        auto guard = std::make_unique<reactor::work_guard>(*r);
        std::thread t([&r, &guard] { r->post([&guard] { guard.reset(); }); });
        r->run();
        r.reset();
        t.join();
    }
    SUCCEED();
}

TEST_CASE("reactor: a guard released from another thread as the reactor finishes touches it no more") {
    for (int round = 0; round < 200; ++round) {
        auto r = std::make_unique<reactor>();
        auto guard = std::make_unique<reactor::work_guard>(*r);
        std::thread t([&guard] { guard.reset(); });
        r->run();
        r.reset();
        t.join();
    }
    SUCCEED();
}

TEST_CASE("reactor: exceptions escaping spawned tasks surface from run()") {
    reactor r;
    r.spawn([]() -> task<void> {
        throw std::runtime_error("boom");
        co_return;
    }());
    CHECK_THROWS_WITH(r.run(), "boom");
}

TEST_CASE("reactor: block_on reports a task that can never finish") {
    reactor r;
    struct never {
        bool await_ready() { return false; }
        void await_suspend(std::coroutine_handle<>) {}
        void await_resume() {}
    };
    auto t = []() -> task<void> { co_await never{}; };
    CHECK_THROWS_AS(r.block_on(t()), std::system_error);
}

TEST_CASE("reactor: destroying it cancels pending work and frees detached tasks") {
    std::error_code seen;
    bool finished = false;
    {
        reactor r;
        r.spawn([](std::error_code& ec, bool& f) -> task<void> {
            auto rc = co_await sleep_for(1h);
            ec = rc.error();
            f = true;
        }(seen, finished));
        r.poll();  // start it: the timer is now in the kernel
        CHECK(r.in_flight() == 1);
    }
    // The sleeping task was resumed with the shutdown error (not leaked:
    // ASan would report its frame).
    CHECK(finished);
    CHECK(seen == errc::shutting_down);
}

TEST_CASE("reactor: a detached task suspended forever is destroyed with the reactor") {
    struct flag_on_destroy {
        bool* f;
        ~flag_on_destroy() { *f = true; }
    };
    struct never {
        bool await_ready() { return false; }
        void await_suspend(std::coroutine_handle<>) {}
        void await_resume() {}
    };
    bool destroyed = false;
    {
        reactor r;
        r.spawn([](bool* d) -> task<void> {
            flag_on_destroy guard{d};
            co_await never{};
        }(&destroyed));
        r.run();
        CHECK_FALSE(destroyed);
    }
    CHECK(destroyed);
}

TEST_CASE("reactor: a tiny ring with thousands of operations at once runs them all (no throw, none lost)") {
    // 8 SQ entries and 16 CQ entries: submissions outrun the queue and
    // completions the CQ many times over before anyone reaps; the kernel
    // then refuses submissions until its completions are read.
    for (auto mode : {reactor::setup::plain, reactor::setup::defer_taskrun}) {
        auto o = test::mode_options(mode);
        o.entries = 8;
        reactor r(o);
        int done = 0;
        auto one = [](int& n) -> task<void> {
            auto s = co_await sleep_for(0ns);
            (void)s;
            ++n;
        };
        auto all = [&]() -> task<void> {
            scope s;
            for (int i = 0; i < 5000; ++i) s.spawn(one(done));
            co_await s.join();
        };
        r.block_on(all());
        CHECK(done == 5000);
    }
}
