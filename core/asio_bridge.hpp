// Boost.Asio interoperation, both ways:
//
//  * reactor_host runs a qwire reactor inside an Asio io_context: Asio waits
//    on an eventfd registered with the ring (signalled for every completion)
//    and then polls the reactor, so one thread serves both.
//
//  * async_run(reactor, task, token) lets Asio code await a qwire task:
//        int v = co_await qwire::asio::async_run(r, compute(), boost::asio::use_awaitable);
//    The task runs on the reactor (whichever thread runs it; post() is
//    thread-safe) and the result comes back through the handler's executor.
//
// Header-only; include it only where Boost.Asio is wanted.
#pragma once

#include <qwire/core/reactor.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <unistd.h>

#include <exception>
#include <memory>
#include <optional>

namespace qwire::asio {

namespace net = boost::asio;

class reactor_host {
public:
    reactor_host(net::io_context& ioc, reactor& r) : ioc_(ioc), r_(r), sd_(ioc, ::dup(r.notify_fd().value())) {
        r_.set_wakeup_hook([this, alive = std::weak_ptr<int>(alive_)] {
            net::post(ioc_, [this, alive] {
                if (alive.lock()) turn();
            });
        });
        turn();
    }
    ~reactor_host() {
        r_.set_wakeup_hook({});
        alive_.reset();
        boost::system::error_code ec;
        sd_.cancel(ec);
        sd_.close(ec);
    }
    reactor_host(const reactor_host&) = delete;
    reactor_host& operator=(const reactor_host&) = delete;

private:
    // Polls the reactor, then waits for its next completion, unless it is
    // idle: then the pending wait would keep io_context::run() from ever
    // returning. New work wakes us through the wakeup hook.
    void turn() {
        r_.poll();
        if (waiting_ || r_.idle()) return;
        waiting_ = true;
        sd_.async_wait(net::posix::stream_descriptor::wait_read,
                       [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
                           if (ec || !alive.lock()) return;
                           waiting_ = false;
                           std::uint64_t drained;
                           [[maybe_unused]] auto n = ::read(sd_.native_handle(), &drained, sizeof drained);
                           turn();
                       });
    }

    net::io_context& ioc_;
    reactor& r_;
    net::posix::stream_descriptor sd_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    bool waiting_ = false;
};

namespace detail {

template <class T>
T placeholder() {
    if constexpr (std::is_default_constructible_v<T>)
        return T{};
    else {
        static_assert(std::is_constructible_v<T, std::error_code>, "async_run needs a T it can make for errors");
        return T(std::make_error_code(std::errc::operation_canceled));
    }
}

template <class T, class Handler>
task<void> run_and_complete(task<T> t, Handler handler) {
    auto ex = net::get_associated_executor(handler);
    auto work = net::make_work_guard(ex);
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        try {
            co_await std::move(t);
        } catch (...) {
            error = std::current_exception();
        }
        net::post(ex, [h = std::move(handler), error, work = std::move(work)]() mutable { std::move(h)(error); });
    } else {
        std::optional<T> value;
        try {
            value.emplace(co_await std::move(t));
        } catch (...) {
            error = std::current_exception();
        }
        if (!value) {
            // The value is not looked at when an exception is passed, but the
            // signature needs one.
            net::post(ex, [h = std::move(handler), error, work = std::move(work)]() mutable {
                std::move(h)(error, placeholder<T>());
            });
        } else {
            net::post(ex, [h = std::move(handler), error, v = std::move(*value), work = std::move(work)]() mutable {
                std::move(h)(error, std::move(v));
            });
        }
    }
}

template <class T>
struct signature {
    using type = void(std::exception_ptr, T);
};
template <>
struct signature<void> {
    using type = void(std::exception_ptr);
};

}  // namespace detail

// Runs t on reactor r and completes token with its result (the exception it
// threw, if any, as the first argument: use_awaitable rethrows it).
template <class T, class CompletionToken>
auto async_run(reactor& r, task<T> t, CompletionToken&& token) {
    return net::async_initiate<CompletionToken, typename detail::signature<T>::type>(
        [&r](auto handler, task<T> t) {
            r.post([&r, t = std::move(t), handler = std::move(handler)]() mutable {
                r.spawn(detail::run_and_complete(std::move(t), std::move(handler)));
            });
        },
        token, std::move(t));
}

}  // namespace qwire::asio
