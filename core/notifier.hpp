// notifier: coroutines wait until something they care about may have
// changed. notify_all() wakes every waiter; each re-checks its own condition.
//
//     while (!acked(seq)) {
//         auto w = co_await changed.wait(o);   // o: stop token and/or deadline
//         if (!w) co_return w.error();         // operation_canceled / timed_out
//     }
//
// A notifier belongs to one reactor's thread, like the reactor itself; a stop
// token may fire on any thread (the wake-up is posted).
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/core/reactor.hpp>
#include <qwire/core/task.hpp>
#include <qwire/core/timer.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

namespace qwire {

class notifier {
public:
    notifier() = default;
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;
    // Movable while nobody waits (objects holding one are moved before use).
    notifier(notifier&&) noexcept = default;
    notifier& operator=(notifier&&) noexcept = default;
    ~notifier() { notify_all(); }

    // Suspends until notify_all(), o.stop or o.deadline.
    task<result<void>> wait(op_options o = {}) {
        auto w = std::make_shared<waiter>();
        w->r = reactor::current();
        waiters_.push_back(w);
        std::optional<std::stop_callback<stopper>> on_stop;
        if (o.stop.stop_possible()) on_stop.emplace(o.stop, stopper{w, w->r->get_mailbox()});
        if (o.deadline) w->r->spawn(expire(w, *o.deadline));
        co_await suspend{w.get()};
        w->timer.request_stop();
        if (w->ec) co_return w->ec;
        co_return result<void>{};
    }

    void notify_all() {
        for (auto& w : std::exchange(waiters_, {})) fire(*w, {});
    }

    bool has_waiters() const noexcept { return !waiters_.empty(); }

private:
    struct waiter {
        reactor* r = nullptr;
        std::coroutine_handle<> h;
        bool done = false;
        std::error_code ec;
        std::stop_source timer;
    };
    struct suspend {
        waiter* w;
        bool await_ready() const noexcept { return w->done; }
        void await_suspend(std::coroutine_handle<> h) noexcept { w->h = h; }
        void await_resume() const noexcept {}
    };
    struct stopper {
        std::shared_ptr<waiter> w;
        std::shared_ptr<reactor::mailbox> r;
        void operator()() {
            r->post([w = w] { fire(*w, make_error_code(std::errc::operation_canceled)); });
        }
    };

    static void fire(waiter& w, std::error_code ec) {
        if (w.done) return;
        w.done = true;
        w.ec = ec;
        if (w.h) w.r->schedule(std::exchange(w.h, {}));
    }

    static task<void> expire(std::shared_ptr<waiter> w, clock::time_point deadline) {
        auto slept = co_await sleep_until(deadline, w->timer.get_token());
        if (slept) fire(*w, make_error_code(std::errc::timed_out));
    }

    std::vector<std::shared_ptr<waiter>> waiters_;
};

}  // namespace qwire
