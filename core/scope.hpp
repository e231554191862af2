// scope: structured concurrency. Tasks spawned into a scope run concurrently;
// join() waits for all of them. If one throws, the scope requests stop (so the
// others can wind down through their stop tokens) and join() rethrows.
//
//     qwire::scope s;
//     for (auto& c : clients) s.spawn(serve(c, s.token()));
//     co_await s.join();
//
// A scope destroyed before join() requests stop; its remaining tasks stay
// with the reactor, which destroys them at the latest when it is destroyed.
#pragma once

#include <qwire/core/reactor.hpp>

#include <memory>
#include <stop_token>

namespace qwire {

class scope {
private:
    struct state {
        reactor* r = nullptr;
        std::size_t active = 0;
        std::stop_source stop;
        std::coroutine_handle<> joiner{};
        std::exception_ptr error{};
    };

public:
    explicit scope(reactor& r) : s_(std::make_shared<state>()) { s_->r = &r; }
    scope() : scope(*reactor::current()) {}
    ~scope() {
        if (s_->active > 0) s_->stop.request_stop();
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

    void spawn(task<void> t) {
        ++s_->active;
        s_->r->spawn(child(std::move(t), s_));
    }

    std::stop_token token() const noexcept { return s_->stop.get_token(); }
    void request_stop() noexcept { s_->stop.request_stop(); }
    std::size_t active() const noexcept { return s_->active; }

    struct join_awaiter {
        std::shared_ptr<void> keep;
        state* s;
        bool await_ready() const noexcept { return s->active == 0; }
        void await_suspend(std::coroutine_handle<> h) noexcept { s->joiner = h; }
        void await_resume() const {
            if (s->error) std::rethrow_exception(std::exchange(s->error, nullptr));
        }
    };
    join_awaiter join() { return {s_, s_.get()}; }

private:
    static task<void> child(task<void> t, std::shared_ptr<state> s) {
        try {
            co_await std::move(t);
        } catch (...) {
            if (!s->error) s->error = std::current_exception();
            s->stop.request_stop();
        }
        if (--s->active == 0 && s->joiner) s->r->schedule(std::exchange(s->joiner, {}));
    }

    std::shared_ptr<state> s_;
};

}  // namespace qwire
