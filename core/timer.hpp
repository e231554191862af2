// Timers: co_await sleep_for(d) / sleep_until(t), with IORING_OP_TIMEOUT.
// They return result<void>: success when the time came, operation_canceled
// when the stop token fired first.
#pragma once

#include <qwire/core/operation.hpp>

namespace qwire {

class sleep_op : public uring_op<sleep_op> {
public:
    sleep_op(reactor& r, clock::time_point when, std::stop_token st)
        : uring_op(r, op_options(std::move(st))), ts_(to_timespec(when)) {}

    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_timeout(sqe, &ts_, 0, IORING_TIMEOUT_ABS); }

    result<void> await_resume() noexcept {
        finish();
        if (res_ == -ETIME) return {};
        return error();
    }

private:
    __kernel_timespec ts_;
};

inline sleep_op sleep_until(clock::time_point when, std::stop_token st = {}) {
    return sleep_op(*reactor::current(), when, std::move(st));
}

template <class Rep, class Period>
sleep_op sleep_for(std::chrono::duration<Rep, Period> d, std::stop_token st = {}) {
    return sleep_until(clock::now() + std::chrono::duration_cast<clock::duration>(d), std::move(st));
}

}  // namespace qwire
