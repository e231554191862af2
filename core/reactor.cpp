#include <qwire/core/reactor.hpp>

#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <qwire/core/log.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace qwire {
namespace {

thread_local reactor* tl_current = nullptr;

// Makes r the current reactor for the duration of a run/poll call.
struct current_scope {
    reactor* saved;
    explicit current_scope(reactor* r) : saved(std::exchange(tl_current, r)) {}
    ~current_scope() { tl_current = saved; }
};

int init_ring(io_uring* ring, const reactor::options& o, unsigned flags) {
    io_uring_params p{};
    p.flags = flags;
    if (o.sqpoll) {
        p.flags |= IORING_SETUP_SQPOLL;
        p.sq_thread_idle = o.sqpoll_idle_ms;
    }
    return io_uring_queue_init_params(o.entries, ring, &p);
}

}  // namespace

reactor::reactor() : reactor(options{}) {}

reactor::reactor(const options& o) : owner_(std::this_thread::get_id()) {
    busy_poll_ = o.busy_poll;
    int rc = -EINVAL;
    if (o.mode != setup::plain && !o.sqpoll) {
        rc = init_ring(&ring_, o, o.fast_setup_flags);
        defer_taskrun_ = rc == 0 && (o.fast_setup_flags & IORING_SETUP_DEFER_TASKRUN);
        if (rc < 0 && o.mode == setup::defer_taskrun)
            throw std::system_error(errno_code(rc), "io_uring_queue_init (SINGLE_ISSUER|DEFER_TASKRUN)");
    }
    if (rc < 0) rc = init_ring(&ring_, o, 0);
    if (rc < 0) throw std::system_error(errno_code(rc), "io_uring_queue_init");

    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        io_uring_queue_exit(&ring_);
        throw std::system_error(errno_code(errno), "eventfd");
    }
    wake_op_.complete = &reactor::on_wake;
    wake_op_.self = this;
    detached_.prev = detached_.next = &detached_;
    ready_.reserve(64);
    running_.reserve(64);
    mailbox_ = std::make_shared<mailbox>();
    mailbox_->r_ = this;
    previous_current_ = std::exchange(tl_current, this);
    arm_wake();
}

reactor::~reactor() {
    // Nothing may outlive the reactor: cancel what is in flight, let the
    // coroutines see operation_canceled (new operations fail at once), then
    // destroy the detached tasks that are still suspended.
    {
        std::lock_guard lock(mailbox_->m_);
        mailbox_->r_ = nullptr;
    }
    current_scope cs(this);
    shutting_down_ = true;
    wakeup_hook_ = {};
    if (in_flight_ > 0 || wake_armed_) {
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(sqe, 0);
    }
    while (in_flight_ > 0 || wake_armed_ || !ready_.empty()) {
        run_ready();
        if (in_flight_ == 0 && !wake_armed_) continue;
        int rc = io_uring_submit_and_wait(&ring_, 1);
        if (rc < 0 && rc != -EINTR && rc != -ETIME) break;
        reap();
    }
    while (detached_.next != &detached_) detached_.next->handle.destroy();
    io_uring_queue_exit(&ring_);
    {
        // A thread still inside post(), stop() or release_guard() holds this.
        std::lock_guard lock(post_mutex_);
        ::close(wake_fd_);
        wake_fd_ = -1;
    }
    if (notify_fd_ >= 0) ::close(notify_fd_);
    if (tl_current == this) tl_current = previous_current_;
}

reactor* reactor::current() noexcept { return tl_current; }

result<int> reactor::notify_fd() {
    if (notify_fd_ >= 0) return notify_fd_;
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return errno_code(errno);
    if (int rc = io_uring_register_eventfd(&ring_, fd); rc < 0) {
        ::close(fd);
        return errno_code(rc);
    }
    notify_fd_ = fd;
    return fd;
}

io_uring_sqe* reactor::get_sqe(unsigned n) {
    // n is 1 or 2 (an operation and its linked timeout); the ring has
    // hundreds of entries, so a flushed queue always has the room.
    while (io_uring_sq_space_left(&ring_) < n) {
        const int rc = io_uring_submit(&ring_);
        if (rc == -EBUSY || rc == -EAGAIN || rc == -ENOMEM) {
            // The kernel holds completions we have not read (or is short of
            // memory): read them out, to be run later, and submit again.
            stash_completions();
            continue;
        }
        if (rc < 0) check_enter(rc, "io_uring_submit");
    }
    return io_uring_get_sqe(&ring_);
}

void reactor::stash_completions() {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, n = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        stashed_.push_back({cqe->user_data, cqe->res, cqe->flags});
        ++n;
    }
    io_uring_cq_advance(&ring_, n);
}

void reactor::check_enter(int rc, const char* what) {
    if (rc >= 0 || rc == -EINTR || rc == -ETIME || rc == -EBUSY || rc == -EAGAIN || rc == -ENOMEM) return;
    // EBADF, EFAULT, EINVAL and the like: the ring itself is broken. There is
    // no way to complete the operations in flight, so nothing after this
    // could be trusted either.
    const std::string line = std::string("qwire reactor: ") + what + " failed: " + errno_code(rc).message();
    log_line(log_level::error, line);
    std::fprintf(stderr, "%s\n", line.c_str());
    std::abort();
}

void reactor::cancel(const void* user_data) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(user_data), 0);
    io_uring_sqe_set_data64(sqe, 0);
    wake_host();
}

void reactor::close_fd(int fd) noexcept {
    if (on_owner_thread() && !shutting_down_ && in_flight_ > 0) {
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, 0);
        // Submit now: once closed, the number may be reused by a new socket
        // whose requests this cancel must not hit.
        io_uring_submit(&ring_);
    }
    ::close(fd);
}

void reactor::post(unique_function<void()> fn) {
    if (on_owner_thread() && !shutting_down_) {
        {
            std::lock_guard lock(post_mutex_);
            posted_.push_back(std::move(fn));
        }
        posted_flag_.store(true, std::memory_order_release);
        wake_host();  // no need to go through the eventfd
        return;
    }
    // From another thread, everything happens under the lock: once the
    // function is queued, the reactor thread may run it, leave run() and
    // destroy the reactor, and the destructor takes this lock before it
    // closes the eventfd. After the lock is released nothing here touches
    // the reactor again.
    std::lock_guard lock(post_mutex_);
    posted_.push_back(std::move(fn));
    posted_flag_.store(true, std::memory_order_release);
    wake_locked();
}

void reactor::wake_locked() noexcept {
    if (wake_fd_ < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void reactor::stop() {
    stop_requested_.store(true, std::memory_order_release);
    std::lock_guard lock(post_mutex_);
    wake_locked();
}

void reactor::release_guard() {
    // Under the lock for the same reason as post(): the last guard going
    // away may let run() return and the reactor be destroyed.
    std::lock_guard lock(post_mutex_);
    if (guards_.fetch_sub(1) == 1) wake_locked();  // run() may be asleep waiting for work that will now never come
}

void reactor::arm_wake() {
    if (shutting_down_) return;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
    io_uring_sqe_set_data(sqe, static_cast<completion*>(&wake_op_));
    wake_armed_ = true;
}

void reactor::on_wake(completion* c, int, std::uint32_t) noexcept {
    reactor* self = static_cast<wake_completion*>(c)->self;
    self->wake_armed_ = false;
    self->arm_wake();
}

void reactor::run_posted() {
    if (!posted_flag_.exchange(false, std::memory_order_acquire)) return;
    {
        std::lock_guard lock(post_mutex_);
        posted_running_.swap(posted_);
    }
    for (auto& fn : posted_running_) fn();
    posted_running_.clear();
}

void reactor::link(detached_node* n) noexcept {
    n->prev = detached_.prev;
    n->next = &detached_;
    detached_.prev->next = n;
    detached_.prev = n;
}

void reactor::unlink(detached_node* n) noexcept {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

bool reactor::idle() const noexcept { return !has_work() && detached_.next == &detached_; }

bool reactor::has_work() const noexcept {
    return in_flight_ > 0 || !ready_.empty() || guards_.load(std::memory_order_acquire) > 0 ||
           posted_flag_.load(std::memory_order_acquire);
}

std::size_t reactor::run_ready() {
    std::size_t n = 0;
    while (!ready_.empty()) {
        running_.swap(ready_);
        for (auto h : running_) detail::resume(h);
        n += running_.size();
        running_.clear();
    }
    return n;
}

std::size_t reactor::reap() {
    constexpr unsigned batch = 64;
    io_uring_cqe* cqes[batch];
    std::size_t total = 0;
    if (!stashed_.empty()) {
        // Read early by get_sqe; they come before anything still in the CQ.
        auto events = std::exchange(stashed_, {});
        for (const auto& e : events) {
            if (e.user_data == 0) continue;
            auto* c = reinterpret_cast<completion*>(e.user_data);
            c->complete(c, e.res, e.flags);
        }
        total += events.size();
    }
    for (;;) {
        unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, batch);
        if (n == 0) break;
        // Copy out and release the CQ slots before resuming anyone: a resumed
        // coroutine may submit and wait again.
        struct event {
            std::uint64_t user_data;
            int res;
            std::uint32_t flags;
        } events[batch];
        for (unsigned i = 0; i < n; ++i) events[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
        io_uring_cq_advance(&ring_, n);
        for (unsigned i = 0; i < n; ++i) {
            if (events[i].user_data == 0) continue;  // cancel requests, linked timeouts
            auto* c = reinterpret_cast<completion*>(events[i].user_data);
            c->complete(c, events[i].res, events[i].flags);
        }
        total += n;
        if (n < batch) break;
    }
    return total;
}

std::size_t reactor::turn(bool may_block) {
    turning_ = true;
    wakeup_pending_ = false;
    std::size_t n = run_ready();
    run_posted();
    // Sleep only if something can wake us: an operation in flight, or a
    // work_guard promising a post() from outside.
    bool block = may_block && ready_.empty() && stashed_.empty() && !failure_ && !stop_requested_.load(std::memory_order_acquire) &&
                       (in_flight_ > 0 || guards_.load(std::memory_order_acquire) > 0);
    // Enter the kernel only when it has something to do: submissions, a wait,
    // or (DEFER_TASKRUN) completions that run only when we ask for them. A
    // plain ring gets its completions posted without us, so a busy-polling
    // caller with nothing to submit just peeks at the CQ.
    int rc = 0;
    if (block && busy_poll_.count() > 0 && spin_for_completions()) {
        // The spin's last poll submitted everything and collected what is
        // ready: no second trip into the kernel.
    } else if (block)
        rc = io_uring_submit_and_wait(&ring_, 1);
    else if (defer_taskrun_)
        rc = io_uring_submit_and_get_events(&ring_);
    else if (io_uring_sq_ready(&ring_) > 0)
        rc = io_uring_submit(&ring_);
    check_enter(rc, "io_uring_enter");
    n += reap();
    run_posted();
    n += run_ready();
    turning_ = false;
    return n;
}

bool reactor::spin_for_completions() {
    const auto until = clock::now() + busy_poll_;
    do {
        // Submissions go out on the first pass; with DEFER_TASKRUN the
        // completions are posted only when we ask for them.
        int rc = 0;
        if (defer_taskrun_)
            rc = io_uring_submit_and_get_events(&ring_);
        else if (io_uring_sq_ready(&ring_) > 0)
            rc = io_uring_submit(&ring_);
        check_enter(rc, "io_uring_enter");
        ++spin_polls_;
        if (io_uring_cq_ready(&ring_) > 0) return true;
        // The thread that would produce our event may have been woken onto
        // this CPU (the scheduler puts a wakee beside its waker): let it run,
        // or this spin would hold it off for the whole window.
        ::sched_yield();
    } while (clock::now() < until);
    return false;
}

bool reactor::run_once() {
    current_scope cs(this);
    if (!has_work()) return false;
    turn(true);
    return true;
}

std::size_t reactor::poll() {
    current_scope cs(this);
    const std::size_t n = turn(false);
    // Whatever the last coroutines prepared must reach the kernel now: a host
    // loop calling poll() may sleep next, waiting for these very operations.
    if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
    return n;
}

void reactor::rethrow_failure() {
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void reactor::run() {
    current_scope cs(this);
    while (!stop_requested_.load(std::memory_order_acquire) && has_work()) {
        turn(true);
        rethrow_failure();
    }
    stop_requested_.store(false, std::memory_order_release);
    rethrow_failure();
}

}  // namespace qwire
