#include <qwire/core/reactor.hpp>
#include <qwire/core/scope.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace qwire;
using namespace std::chrono_literals;

namespace {

task<int> one() { co_return 1; }

task<long> add_up(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await one();
    co_return sum;
}

task<int> nested(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await nested(depth - 1);
}

task<std::string> later(std::string s, std::chrono::milliseconds d) {
    (void)co_await sleep_for(d);
    co_return s;
}

task<void> thrower() {
    throw std::runtime_error("from a task");
    co_return;
}

}  // namespace

TEST_CASE("task: a chain of tasks returns its value") {
    reactor r;
    CHECK(r.block_on(nested(100)) == 100);
}

TEST_CASE("task: a million synchronous completions run in constant stack") {
    // Without the trampoline each co_await of a task that completes at once
    // would nest a frame; at -O0 or under ASan this overflows the stack.
    reactor r;
    CHECK(r.block_on(add_up(1'000'000)) == 1'000'000);
}

TEST_CASE("task: deep recursion of awaits") {
    reactor r;
    CHECK(r.block_on(nested(100'000)) == 100'000);
}

TEST_CASE("task: exceptions propagate to the awaiter") {
    reactor r;
    auto t = []() -> task<std::string> {
        try {
            co_await thrower();
        } catch (const std::runtime_error& e) {
            co_return std::string(e.what());
        }
        co_return std::string("not thrown");
    };
    CHECK(r.block_on(t()) == "from a task");
}

TEST_CASE("task: a task never awaited is destroyed without running") {
    bool ran = false;
    {
        auto t = [](bool& r) -> task<void> {
            r = true;
            co_return;
        }(ran);
    }
    CHECK_FALSE(ran);
}

TEST_CASE("when_all: waits for every child and keeps their order") {
    reactor r;
    auto [a, b, c] = r.block_on(when_all(later("a", 30ms), later("b", 10ms), later("c", 20ms)));
    CHECK(a == "a");
    CHECK(b == "b");
    CHECK(c == "c");
}

TEST_CASE("when_all: children that complete synchronously") {
    reactor r;
    auto [x, y] = r.block_on(when_all(one(), add_up(10)));
    CHECK(x == 1);
    CHECK(y == 10);
}

TEST_CASE("when_all: void children and a vector of tasks") {
    reactor r;
    int count = 0;
    auto bump = [](int& c) -> task<void> {
        (void)co_await sleep_for(1ms);
        ++c;
    };
    std::vector<task<void>> ts;
    for (int i = 0; i < 50; ++i) ts.push_back(bump(count));
    auto out = r.block_on(when_all(std::move(ts)));
    CHECK(out.size() == 50);
    CHECK(count == 50);

    std::vector<task<int>> ints;
    for (int i = 0; i < 5; ++i) ints.push_back(nested(i));
    CHECK(r.block_on(when_all(std::move(ints))) == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("when_all: the first exception is rethrown after all finish") {
    reactor r;
    bool other_finished = false;
    auto slow = [](bool& f) -> task<void> {
        (void)co_await sleep_for(10ms);
        f = true;
    };
    CHECK_THROWS_WITH(r.block_on(when_all(thrower(), slow(other_finished))), "from a task");
    CHECK(other_finished);
}

TEST_CASE("scope: join waits for all spawned tasks") {
    reactor r;
    auto t = []() -> task<int> {
        int done = 0;
        scope s;
        for (int i = 0; i < 20; ++i)
            s.spawn([](int& d, int i) -> task<void> {
                (void)co_await sleep_for(std::chrono::milliseconds(i % 5));
                ++d;
            }(done, i));
        co_await s.join();
        co_return done;
    };
    CHECK(r.block_on(t()) == 20);
}

TEST_CASE("scope: join on an empty scope returns at once") {
    reactor r;
    auto t = []() -> task<void> {
        scope s;
        co_await s.join();
    };
    r.block_on(t());
    SUCCEED();
}

TEST_CASE("scope: a failing task stops its siblings and join rethrows") {
    reactor r;
    auto t = []() -> task<std::error_code> {
        std::error_code sibling;
        scope s;
        s.spawn([](std::stop_token st, std::error_code& out) -> task<void> {
            auto rc = co_await sleep_for(1h, st);
            out = rc.error();
        }(s.token(), sibling));
        s.spawn([]() -> task<void> {
            (void)co_await sleep_for(1ms);
            throw std::runtime_error("child failed");
        }());
        try {
            co_await s.join();
        } catch (const std::runtime_error&) {
            co_return sibling;
        }
        co_return std::error_code{};
    };
    CHECK(r.block_on(t()) == std::errc::operation_canceled);
}
