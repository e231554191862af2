// when_all: await several tasks started together; resumes when the last one
// is done. The first exception any child threw is rethrown after all are done.
#pragma once

#include <qwire/core/task.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <vector>

namespace qwire {
namespace detail {

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

struct join_counter {
    std::size_t remaining = 0;
    std::coroutine_handle<> parent{};
    std::exception_ptr error{};
};

// Runs one child of a join and tells the counter when it is done.
struct join_child {
    struct promise_type {
        join_counter* counter;
        template <class... A>
        promise_type(task<void>&, join_counter& c, A&&...) : counter(&c) {}
        join_child get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                join_counter* c = h.promise().counter;
                if (--c->remaining == 0) transfer(c->parent);
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept {
            if (!counter->error) counter->error = std::current_exception();
        }
        static void* operator new(std::size_t n) { return allocate_frame(n); }
        static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }
    };

    join_child(std::coroutine_handle<promise_type> h) noexcept : h(h) {}
    join_child(join_child&& o) noexcept : h(std::exchange(o.h, {})) {}
    ~join_child() {
        if (h) h.destroy();
    }
    std::coroutine_handle<promise_type> h;
};

inline join_child run_child(task<void> t, join_counter&) { co_await std::move(t); }

template <class T>
task<void> store_result(task<T> t, std::optional<stored_t<T>>& out) {
    if constexpr (std::is_void_v<T>) {
        co_await std::move(t);
        out.emplace();
    } else {
        out.emplace(co_await std::move(t));
    }
}

// Starts every child, then suspends the parent until the last one is done.
struct join_awaiter {
    join_counter& counter;
    std::vector<join_child>& children;
    bool await_ready() const noexcept { return children.empty(); }
    bool await_suspend(std::coroutine_handle<> parent) {
        counter.parent = parent;
        counter.remaining = children.size() + 1;
        for (auto& c : children) resume(c.h);
        return --counter.remaining != 0;
    }
    void await_resume() const noexcept {}
};

}  // namespace detail

template <class... Ts>
task<std::tuple<detail::stored_t<Ts>...>> when_all(task<Ts>... ts) {
    std::tuple<std::optional<detail::stored_t<Ts>>...> results;
    detail::join_counter counter;
    std::vector<detail::join_child> children;
    children.reserve(sizeof...(Ts));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (children.push_back(detail::run_child(detail::store_result(std::move(ts), std::get<I>(results)), counter)),
         ...);
    }(std::index_sequence_for<Ts...>{});
    co_await detail::join_awaiter{counter, children};
    if (counter.error) std::rethrow_exception(counter.error);
    co_return std::apply([](auto&... r) { return std::tuple<detail::stored_t<Ts>...>(std::move(*r)...); }, results);
}

template <class T>
task<std::vector<detail::stored_t<T>>> when_all(std::vector<task<T>> ts) {
    std::vector<std::optional<detail::stored_t<T>>> results(ts.size());
    detail::join_counter counter;
    std::vector<detail::join_child> children;
    children.reserve(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i)
        children.push_back(detail::run_child(detail::store_result(std::move(ts[i]), results[i]), counter));
    co_await detail::join_awaiter{counter, children};
    if (counter.error) std::rethrow_exception(counter.error);
    std::vector<detail::stored_t<T>> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(std::move(*r));
    co_return out;
}

}  // namespace qwire
