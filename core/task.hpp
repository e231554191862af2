// task<T>: a lazy coroutine that produces a T when awaited.
//
// A task does nothing until it is awaited (or handed to reactor::spawn /
// block_on). Control passes between a task and its awaiter through the
// trampoline (see trampoline.hpp), so chains of synchronous completions run
// in constant stack. Exceptions thrown inside a task propagate to the awaiter;
// qwire's own I/O calls return result<T> and never throw.
#pragma once

#include <qwire/core/frame_allocator.hpp>
#include <qwire/core/trampoline.hpp>

#include <coroutine>
#include <exception>
#include <utility>
#include <variant>

namespace qwire {

template <class T = void>
class task;

namespace detail {

struct promise_base {
    std::coroutine_handle<> continuation{};

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> h) noexcept {
            if (auto c = h.promise().continuation) transfer(c);
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    static void* operator new(std::size_t n) { return allocate_frame(n); }
    static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }
};

template <class T>
struct task_promise : promise_base {
    std::variant<std::monostate, T, std::exception_ptr> value;

    task<T> get_return_object() noexcept;
    void unhandled_exception() noexcept { value.template emplace<2>(std::current_exception()); }
    template <class U>
    void return_value(U&& v) { value.template emplace<1>(std::forward<U>(v)); }

    T take() {
        if (value.index() == 2) std::rethrow_exception(std::get<2>(value));
        return std::move(std::get<1>(value));
    }
};

template <>
struct task_promise<void> : promise_base {
    std::exception_ptr error;

    task<void> get_return_object() noexcept;
    void unhandled_exception() noexcept { error = std::current_exception(); }
    void return_void() noexcept {}
    void take() {
        if (error) std::rethrow_exception(error);
    }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    task() noexcept = default;
    explicit task(handle_type h) noexcept : h_(h) {}
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_) h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_) h_.destroy();
    }

    bool valid() const noexcept { return static_cast<bool>(h_); }
    bool done() const noexcept { return h_ && h_.done(); }

    struct awaiter {
        handle_type h;
        bool await_ready() const noexcept { return h.done(); }
        void await_suspend(std::coroutine_handle<> cont) noexcept {
            h.promise().continuation = cont;
            detail::transfer(h);
        }
        T await_resume() { return h.promise().take(); }
    };
    awaiter operator co_await() && noexcept { return awaiter{h_}; }
    awaiter operator co_await() & noexcept { return awaiter{h_}; }

    // For the runtime: the raw handle, and the result once done().
    handle_type handle() const noexcept { return h_; }
    handle_type release() noexcept { return std::exchange(h_, {}); }
    T result() { return h_.promise().take(); }

private:
    handle_type h_{};
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace qwire
