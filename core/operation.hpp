// uring_op: the base of every awaitable io_uring operation.
//
// The awaiter lives in the awaiting coroutine's frame, so nothing is
// allocated per operation. A derived class supplies
//   void prepare(io_uring_sqe*)            fill in the SQE
//   bool on_result(int res, uint32_t fl)   optional: return true to keep
//                                          going (it resubmitted), false to
//                                          resume the awaiter
// Cancellation through op_options::stop submits IORING_OP_ASYNC_CANCEL for
// the SQE; a deadline rides along as an IORING_OP_LINK_TIMEOUT. Either way
// the awaiter resumes only once the kernel has let go of its buffers.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/core/reactor.hpp>
#include <qwire/core/trampoline.hpp>

#include <atomic>
#include <coroutine>
#include <optional>
#include <stop_token>

namespace qwire {

inline __kernel_timespec to_timespec(clock::time_point t) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    __kernel_timespec ts{};
    if (ns > 0) {
        ts.tv_sec = ns / 1'000'000'000;
        ts.tv_nsec = ns % 1'000'000'000;
    }
    return ts;
}

template <class Derived>
class uring_op : public completion {
public:
    uring_op(reactor& r, op_options opts) noexcept : r_(r), opts_(std::move(opts)) {
        complete = &uring_op::on_complete;
    }
    uring_op(const uring_op&) = delete;
    uring_op& operator=(const uring_op&) = delete;

    bool await_ready() noexcept {
        if (r_.shutting_down()) {
            res_ = -ECANCELED;
            return true;
        }
        if (opts_.stop.stop_requested()) {
            cancelled_.store(true, std::memory_order_relaxed);
            res_ = -ECANCELED;
            return true;
        }
        return false;
    }

    void await_suspend(std::coroutine_handle<> h) {
        waiter_ = h;
        submit();
        if (opts_.stop.stop_possible()) stop_cb_.emplace(opts_.stop, canceller{this});
    }

protected:
    // The outcome as an error_code; {} for success (res >= 0).
    std::error_code error() const noexcept {
        if (res_ >= 0) return {};
        if (res_ == -ECANCELED) {
            if (r_.shutting_down()) return errc::shutting_down;
            if (cancelled_.load(std::memory_order_relaxed)) return std::make_error_code(std::errc::operation_canceled);
            if (opts_.deadline) return std::make_error_code(std::errc::timed_out);
            return std::make_error_code(std::errc::operation_canceled);
        }
        return errno_code(res_);
    }

    // Call at the start of await_resume().
    void finish() noexcept { stop_cb_.reset(); }

    // Submits (again) the SQE built by Derived::prepare.
    void submit() {
        io_uring_sqe* sqe = r_.get_sqe(opts_.deadline ? 2 : 1);
        static_cast<Derived*>(this)->prepare(sqe);
        io_uring_sqe_set_data(sqe, static_cast<completion*>(this));
        if (opts_.deadline) {
            sqe->flags |= IOSQE_IO_LINK;
            deadline_ts_ = to_timespec(*opts_.deadline);
            io_uring_sqe* t = io_uring_get_sqe(r_.ring());
            io_uring_prep_link_timeout(t, &deadline_ts_, IORING_TIMEOUT_ABS);
            io_uring_sqe_set_data64(t, 0);
        }
        r_.op_started();
    }

    bool cancel_requested() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

    // Default: one CQE completes the operation.
    bool on_result(int, std::uint32_t) noexcept { return false; }

    reactor& r_;
    op_options opts_;
    int res_ = 0;

private:
    struct canceller {
        uring_op* op;
        void operator()() const noexcept { op->request_cancel(); }
    };

    void request_cancel() noexcept {
        cancelled_.store(true, std::memory_order_relaxed);
        if (r_.on_owner_thread()) {
            r_.cancel(static_cast<completion*>(this));
        } else {
            // Only the address travels: the operation may be gone by the time
            // the reactor runs this, and then the cancel finds nothing.
            const void* key = static_cast<completion*>(this);
            reactor* r = &r_;
            r->post([r, key] { r->cancel(key); });
        }
    }

    static void on_complete(completion* c, int res, std::uint32_t flags) noexcept {
        auto* self = static_cast<Derived*>(c);
        if (!(flags & IORING_CQE_F_MORE)) self->r_.op_finished();
        if (self->on_result(res, flags)) return;
        self->res_ = res;
        detail::resume(self->waiter_);
    }

    std::coroutine_handle<> waiter_{};
    std::atomic<bool> cancelled_{false};
    __kernel_timespec deadline_ts_{};
    std::optional<std::stop_callback<canceller>> stop_cb_;
};

}  // namespace qwire
