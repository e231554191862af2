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

    // Suspends until notify_all(), o.stop or o.deadline. Without a stop
    // token or a deadline nothing is allocated: the waiter lives in this
    // coroutine's frame.
    task<result<void>> wait(op_options o = {}) {
        if (!o.stop.stop_possible() && !o.deadline) {
            waiter w;
            w.r = reactor::current();
            add(w);
            co_await suspend{&w};
            co_return result<void>{};
        }
        // A stop callback or a timer may fire after this frame is gone: they
        // share the waiter.
        auto w = std::make_shared<waiter>();
        w->r = reactor::current();
        w->timer.emplace();
        add(*w);
        std::optional<std::stop_callback<stopper>> on_stop;
        if (o.stop.stop_possible()) on_stop.emplace(o.stop, stopper{w, w->r->get_mailbox()});
        if (o.deadline) w->r->spawn(expire(w, *o.deadline));
        co_await suspend{w.get()};
        w->timer->request_stop();
        if (w->ec) co_return w->ec;
        co_return result<void>{};
    }

    void notify_all() {
        // Into a second list that keeps its capacity: waking never allocates.
        firing_.swap(waiters_);
        for (waiter* w : firing_) fire(*w, {});
        firing_.clear();
    }

    bool has_waiters() const noexcept { return !waiters_.empty(); }

private:
    struct waiter {
        reactor* r = nullptr;
        notifier* owner = nullptr;  // while listed there
        std::coroutine_handle<> h;
        bool done = false;
        std::error_code ec;
        std::optional<std::stop_source> timer;  // for the deadline's sleep
        waiter() = default;
        waiter(const waiter&) = delete;
        waiter& operator=(const waiter&) = delete;
        // A frame destroyed while it waits (its task destroyed) leaves the list.
        ~waiter() {
            if (!done && owner) owner->remove(*this);
        }
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

    void add(waiter& w) {
        w.owner = this;
        waiters_.push_back(&w);
    }
    void remove(waiter& w) noexcept {
        for (std::size_t i = 0; i < waiters_.size(); ++i)
            if (waiters_[i] == &w) {
                waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
                break;
            }
        w.owner = nullptr;
    }

    static void fire(waiter& w, std::error_code ec) {
        if (w.done) return;
        // A stop or a timeout takes the waiter off the list; notify_all took
        // the whole list already.
        if (ec && w.owner) w.owner->remove(w);
        w.owner = nullptr;
        w.done = true;
        w.ec = ec;
        if (w.h) w.r->schedule(std::exchange(w.h, {}));
    }

    static task<void> expire(std::shared_ptr<waiter> w, clock::time_point deadline) {
        auto slept = co_await sleep_until(deadline, w->timer->get_token());
        if (slept) fire(*w, make_error_code(std::errc::timed_out));
    }

    std::vector<waiter*> waiters_;
    std::vector<waiter*> firing_;
};

}  // namespace qwire
