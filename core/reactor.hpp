// The reactor: one io_uring ring per thread, driving qwire's coroutines.
//
// Operations put their state in the awaiting coroutine's frame and submit an
// SQE whose user_data points at it (a `completion`); the reactor batches
// submissions, reaps completions and resumes the coroutines through the
// trampoline. Nothing is allocated per operation.
//
// Thread rules: a reactor belongs to the thread that created it. Only post()
// and stop() may be called from other threads.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/core/task.hpp>
#include <qwire/core/unique_function.hpp>

#include <liburing.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

namespace qwire {

using clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as io_uring's absolute timeouts

// What every in-flight ring operation starts with; its address is the SQE's
// user_data. complete() is called once per CQE (several times for multishot
// operations, whose last CQE lacks IORING_CQE_F_MORE).
struct completion {
    void (*complete)(completion* self, int res, std::uint32_t flags) noexcept = nullptr;
};

// Per-operation controls: a stop token that cancels the operation in the
// kernel, and an absolute deadline enforced with a linked timeout.
//
//     co_await s.read_some(buf, {token});
//     co_await s.read_some(buf, {after(250ms)});
//     co_await s.read_some(buf, {token, after(250ms)});
//
// Deliberately not an aggregate: g++ 12 destroys an aggregate temporary twice
// when it is an argument of a coroutine call inside co_await (the
// designated-initializer form `{t}` would hit exactly that).
struct op_options {
    std::stop_token stop{};
    std::optional<clock::time_point> deadline{};

    op_options() noexcept = default;
    op_options(std::stop_token s) noexcept : stop(std::move(s)) {}
    op_options(clock::time_point d) noexcept : deadline(d) {}
    op_options(std::stop_token s, clock::time_point d) noexcept : stop(std::move(s)), deadline(d) {}

    // The same options with the deadline no later than t.
    op_options cut_to(clock::time_point t) const {
        op_options o = *this;
        o.deadline = deadline ? std::min(*deadline, t) : t;
        return o;
    }
};

// A deadline d from now.
template <class Rep, class Period>
clock::time_point after(std::chrono::duration<Rep, Period> d) {
    return clock::now() + std::chrono::duration_cast<clock::duration>(d);
}

class reactor {
public:
    // How the ring is set up. automatic tries SINGLE_ISSUER|DEFER_TASKRUN and
    // falls back to a plain ring when the kernel refuses them.
    enum class setup { automatic, defer_taskrun, plain };

    struct options {
        unsigned entries = 256;
        setup mode = setup::automatic;
        bool sqpoll = false;  // off by default: it does not pay off on few cores
        unsigned sqpoll_idle_ms = 1000;
        // The flags automatic/defer_taskrun ask for. Tests set a bit the kernel
        // rejects to exercise the fallback.
        unsigned fast_setup_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        // When a turn would sleep, first ask the kernel for completions
        // without sleeping for up to this long. A thread that sleeps pays a
        // wake-up per event (on a VM an inter-processor interrupt, several
        // microseconds); one that spins finds the event as it lands, for a
        // core's worth of CPU while it waits. 0 (the default): sleep at once.
        std::chrono::nanoseconds busy_poll{0};
    };

    reactor();
    explicit reactor(const options& opts);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    // The reactor the calling thread runs (the last one created on it, or the
    // one whose run()/poll() is on the stack). Null if none.
    static reactor* current() noexcept;

    // Runs until stop() or until nothing can make progress (no operation in
    // flight, nothing ready, no work_guard). Rethrows the first exception a
    // spawned task let escape.
    void run();
    // Waits for and handles at least one event unless something is already
    // ready. Returns false if there was nothing to wait for.
    bool run_once();
    // Handles whatever is ready without blocking; for services that drive
    // the reactor from their own busy-spin loop. Returns events handled.
    std::size_t poll();
    // Makes run() return. Any thread.
    void stop();
    // Polls made while spinning (options::busy_poll) so far: how much of the
    // spin finds nothing, for tuning it.
    std::uint64_t spin_polls() const noexcept { return spin_polls_; }

    // Runs the reactor until t completes and returns its value.
    template <class T>
    T block_on(task<T> t);

    // Starts t detached on the next turn. It is destroyed with the reactor if
    // still running then (after its in-flight operations were cancelled).
    void spawn(task<void> t);

    // Runs fn on the reactor thread on a later turn. Any thread.
    void post(unique_function<void()> fn);

    // A handle for threads that may outlive the reactor: post() through it
    // returns false once the reactor is gone.
    class mailbox {
    public:
        bool post(unique_function<void()> fn) {
            std::lock_guard lock(m_);
            if (!r_) return false;
            r_->post(std::move(fn));
            return true;
        }
    private:
        friend class reactor;
        std::mutex m_;
        reactor* r_;
    };
    std::shared_ptr<mailbox> get_mailbox() const { return mailbox_; }

    // Resumes h on the next turn. Reactor thread only.
    void schedule(std::coroutine_handle<> h) { ready_.push_back(h); wake_host(); }

    // Keeps run() from returning for lack of work while external code
    // (another thread, an Asio loop) may still post.
    class work_guard {
    public:
        explicit work_guard(reactor& r) : r_(&r) { r_->guards_.fetch_add(1); }
        work_guard(work_guard&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
        work_guard(const work_guard&) = delete;
        ~work_guard() { reset(); }
        void reset() {
            if (r_) std::exchange(r_, nullptr)->release_guard();
        }
    private:
        reactor* r_;
    };

    // For operations. get_sqe(n) guarantees n free slots in a row (a linked
    // timeout must be submitted with its operation) and returns the first.
    io_uring_sqe* get_sqe(unsigned n = 1);
    void op_started() noexcept { ++in_flight_; wake_host(); }
    void op_finished() noexcept { --in_flight_; }
    // Asks the kernel to cancel the operation whose user_data is c.
    void cancel(const void* user_data);
    // Closes fd, first cancelling every request the ring holds on it (closing
    // alone would leave them pending).
    void close_fd(int fd) noexcept;
    bool shutting_down() const noexcept { return shutting_down_; }
    bool on_owner_thread() const noexcept { return std::this_thread::get_id() == owner_; }

    // What the ring got.
    bool defer_taskrun() const noexcept { return defer_taskrun_; }
    int ring_fd() const noexcept { return ring_.ring_fd; }
    // An eventfd registered with the ring: it becomes readable whenever a
    // completion is posted (or, with DEFER_TASKRUN, is waiting to be). A
    // host event loop waits on it, reads it, then calls poll(). Created on
    // first use.
    result<int> notify_fd();
    unsigned features() const noexcept { return ring_.features; }
    io_uring* ring() noexcept { return &ring_; }
    unsigned in_flight() const noexcept { return in_flight_; }
    // Nothing in flight, ready, posted or guarded, and no detached task alive.
    bool idle() const noexcept;
    std::uint16_t allocate_buffer_group() noexcept { return next_bgid_++; }

    // Called (at most once between two turns) when work is queued while the
    // reactor is not turning; a host loop (the Asio bridge) uses it to
    // schedule a poll().
    void set_wakeup_hook(unique_function<void()> hook) { wakeup_hook_ = std::move(hook); }

    // For the detached-task machinery.
    struct detached_node {
        detached_node* prev = nullptr;
        detached_node* next = nullptr;
        std::coroutine_handle<> handle{};
    };
    void link(detached_node* n) noexcept;
    void unlink(detached_node* n) noexcept;
    void report(std::exception_ptr e) noexcept {
        if (!failure_) failure_ = e;
    }

private:
    struct wake_completion : completion {
        reactor* self;
    };

    bool has_work() const noexcept;
    std::size_t turn(bool may_block);
    // Spins for up to busy_poll_ until a completion is ready; whether one is.
    bool spin_for_completions();
    std::size_t run_ready();
    std::size_t reap();
    // Copies the completions out of the CQ without running them, for a
    // kernel that will not take more submissions until the CQ is read.
    void stash_completions();
    // What io_uring_enter said when it failed: transient errors are tried
    // again; any other means the ring cannot be used, which is fatal.
    void check_enter(int rc, const char* what);
    void run_posted();
    void wake_locked() noexcept;  // post_mutex_ held
    void arm_wake();
    void release_guard();
    void wake_host() {
        if (wakeup_hook_ && !turning_ && !wakeup_pending_) {
            wakeup_pending_ = true;
            wakeup_hook_();
        }
    }
    static void on_wake(completion* c, int res, std::uint32_t flags) noexcept;
    void rethrow_failure();

    io_uring ring_{};
    bool defer_taskrun_ = false;
    std::chrono::nanoseconds busy_poll_{0};
    std::uint64_t spin_polls_ = 0;
    bool shutting_down_ = false;
    bool turning_ = false;
    bool wakeup_pending_ = false;
    unsigned in_flight_ = 0;
    std::uint16_t next_bgid_ = 1;
    std::thread::id owner_;
    reactor* previous_current_ = nullptr;

    struct cq_event {
        std::uint64_t user_data;
        int res;
        std::uint32_t flags;
    };
    std::vector<cq_event> stashed_;  // completions read early by stash_completions()

    std::vector<std::coroutine_handle<>> ready_;
    std::vector<std::coroutine_handle<>> running_;

    detached_node detached_{};  // sentinel of a circular list
    std::exception_ptr failure_;

    std::atomic<bool> stop_requested_{false};
    std::atomic<unsigned> guards_{0};
    std::atomic<bool> posted_flag_{false};
    std::mutex post_mutex_;
    std::vector<unique_function<void()>> posted_;
    std::vector<unique_function<void()>> posted_running_;
    int wake_fd_ = -1;
    int notify_fd_ = -1;
    bool wake_armed_ = false;
    std::uint64_t wake_buf_ = 0;
    wake_completion wake_op_{};

    unique_function<void()> wakeup_hook_;
    std::shared_ptr<mailbox> mailbox_;
};

namespace detail {

// The coroutine that owns a spawned task. It links itself into the reactor's
// list of detached tasks and destroys itself when done.
struct detached_task {
    struct promise_type {
        reactor::detached_node node;
        reactor* r;

        template <class... Args>
        promise_type(reactor& re, Args&&...) : r(&re) {
            node.handle = std::coroutine_handle<promise_type>::from_promise(*this);
            r->link(&node);
        }
        ~promise_type() { r->unlink(&node); }
        detached_task get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { r->report(std::current_exception()); }

        static void* operator new(std::size_t n) { return allocate_frame(n); }
        static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }
    };
    std::coroutine_handle<promise_type> h;
};

inline detached_task run_detached(reactor&, task<void> t) { co_await std::move(t); }

template <class T>
task<void> capture_into(task<T> t, std::optional<T>& out) {
    out.emplace(co_await std::move(t));
}
inline task<void> capture_into(task<void> t, std::optional<std::monostate>& out) {
    co_await std::move(t);
    out.emplace();
}

}  // namespace detail

inline void reactor::spawn(task<void> t) {
    schedule(detail::run_detached(*this, std::move(t)).h);
}

template <class T>
T reactor::block_on(task<T> t) {
    using stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
    std::optional<stored> out;
    std::exception_ptr error;
    auto wrapper = [](task<T> t, std::optional<stored>& out, std::exception_ptr& error) -> task<void> {
        try {
            co_await detail::capture_into(std::move(t), out);
        } catch (...) {
            error = std::current_exception();
        }
    }(std::move(t), out, error);
    detail::resume(wrapper.handle());
    while (!wrapper.done()) {
        if (!run_once() && !wrapper.done())
            throw std::system_error(make_error_code(errc::deadlock));
    }
    rethrow_failure();
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::move(*out);
}

}  // namespace qwire
