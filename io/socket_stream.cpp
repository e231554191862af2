#include <qwire/io/socket_stream.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstring>

namespace qwire {

socket_stream::socket_stream(socket_stream&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), r_(o.r_), ms_(std::move(o.ms_)) {}

socket_stream& socket_stream::operator=(socket_stream&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        r_ = o.r_;
        ms_ = std::move(o.ms_);
    }
    return *this;
}

socket_stream::~socket_stream() { close(); }

void socket_stream::close() noexcept {
    if (ms_) std::exchange(ms_, nullptr)->orphan();
    if (fd_ < 0) return;
    // The ring keeps the socket alive until its cancelled requests complete,
    // which may be the reactor's next turn; shutdown() ends the connection
    // (FIN to the peer) now.
    ::shutdown(fd_, SHUT_RDWR);
    if (r_)
        r_->close_fd(std::exchange(fd_, -1));
    else
        ::close(std::exchange(fd_, -1));
}

result<void> socket_stream::set_nodelay(bool on) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0) return errno_code(errno);
    return {};
}

result<endpoint> socket_stream::peer_endpoint() const {
    endpoint e;
    socklen_t len = endpoint::capacity();
    if (::getpeername(fd_, e.data(), &len) < 0) return errno_code(errno);
    e.resize(len);
    return e;
}

result<void> socket_stream::shutdown_write() {
    if (::shutdown(fd_, SHUT_WR) < 0) return errno_code(errno);
    return {};
}

result<void> socket_stream::enable_multishot_receive(unsigned buffers, std::size_t buffer_size) {
    if (ms_) return {};
    if (fd_ < 0) return errc::closed;
    auto br = buffer_ring::create(*r_, buffers, buffer_size);
    if (!br) return br.error();
    ms_ = std::make_shared<detail::multishot_receiver>(*r_, fd_, std::move(*br));
    ms_->arm();
    return {};
}

// ---- single-shot and multishot receive ----

bool socket_stream::recv_op::await_ready() noexcept {
    if (buf_.empty()) {
        ms_done_ = true;
        return true;
    }
    if (!s_.ms_) return uring_op::await_ready();
    rd_.buf = buf_;
    rd_.deadline = opts_.deadline;
    if (opts_.stop.stop_requested()) {
        rd_.ec = std::make_error_code(std::errc::operation_canceled);
        ms_done_ = true;
        return true;
    }
    ms_done_ = s_.ms_->fill(rd_);
    return ms_done_;
}

void socket_stream::recv_op::await_suspend(std::coroutine_handle<> h) {
    if (!s_.ms_) return uring_op::await_suspend(h);
    rd_.h = h;
    s_.ms_->wait(&rd_);
    if (opts_.stop.stop_possible()) ms_stop_.emplace(opts_.stop, ms_canceller{this});
}

void socket_stream::recv_op::ms_canceller::operator()() const noexcept {
    const auto ec = std::make_error_code(std::errc::operation_canceled);
    reactor& r = *op->s_.r_;
    if (r.on_owner_thread()) {
        op->s_.ms_->abandon(&op->rd_, ec);
        return;
    }
    // From another thread only weak references travel: by the time the
    // reactor runs this the read may have completed and the stream be gone.
    std::weak_ptr<detail::multishot_receiver> weak = op->s_.ms_;
    auto* rd = &op->rd_;
    r.post([weak, rd, ec] {
        if (auto ms = weak.lock()) ms->abandon(rd, ec);
    });
}

result<std::size_t> socket_stream::recv_op::await_resume() noexcept {
    if (buf_.empty()) return std::size_t{0};
    if (s_.ms_ || ms_done_ || rd_.h) {
        ms_stop_.reset();
        if (rd_.n > 0) return rd_.n;
        return rd_.ec;
    }
    finish();
    if (res_ > 0) return static_cast<std::size_t>(res_);
    if (res_ == 0) return errc::eof;
    return error();
}

// ---- scatter-gather send ----

socket_stream::sendmsg_op::sendmsg_op(socket_stream& s, std::span<const const_buffer> bufs, op_options o)
    : uring_op(*s.r_, std::move(o)), fd_(s.fd_) {
    if (bufs.size() > max_iov) {
        too_many_ = true;
        return;
    }
    std::size_t n = 0;
    for (const const_buffer& b : bufs) {
        if (b.size == 0) continue;
        iov_[n++] = iovec{const_cast<void*>(b.data), b.size};
    }
    msg_.msg_iov = iov_.data();
    msg_.msg_iovlen = n;
}

bool socket_stream::sendmsg_op::await_ready() noexcept {
    return too_many_ || done() || uring_op::await_ready();
}

bool socket_stream::sendmsg_op::on_result(int res, std::uint32_t) noexcept {
    if (res <= 0) return false;
    // Drop what was sent from the front of the iovec array.
    auto left = static_cast<std::size_t>(res);
    while (msg_.msg_iovlen > 0 && left >= msg_.msg_iov->iov_len) {
        left -= msg_.msg_iov->iov_len;
        ++msg_.msg_iov;
        --msg_.msg_iovlen;
    }
    if (msg_.msg_iovlen > 0) {
        msg_.msg_iov->iov_base = static_cast<char*>(msg_.msg_iov->iov_base) + left;
        msg_.msg_iov->iov_len -= left;
    }
    if (done() || cancel_requested()) return false;
    submit();
    return true;
}

result<void> socket_stream::sendmsg_op::await_resume() noexcept {
    finish();
    if (too_many_) return errc::invalid_argument;
    if (done()) return {};
    if (res_ == 0) return errc::closed;
    if (res_ > 0) return std::make_error_code(std::errc::operation_canceled);
    return error();
}

// ---- multishot receiver ----

namespace detail {

multishot_receiver::multishot_receiver(reactor& re, int f, std::unique_ptr<buffer_ring> br)
    : r(&re), fd(f), ring(std::move(br)) {
    complete = &multishot_receiver::on_cqe;
    timer.complete = &multishot_receiver::on_timer;
    timer.owner = this;
    queue.reserve(ring->entries());
}

void multishot_receiver::arm() {
    if (armed || terminal || orphaned || r->shutting_down()) return;
    io_uring_sqe* sqe = r->get_sqe();
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = ring->group();
    io_uring_sqe_set_data(sqe, static_cast<completion*>(this));
    r->op_started();
    armed = true;
    hold();
}

bool multishot_receiver::fill(reader& rd) {
    std::size_t n = 0;
    while (front < queue.size() && n < rd.buf.size()) {
        filled& f = queue[front];
        const std::size_t take = std::min<std::size_t>(f.len - f.off, rd.buf.size() - n);
        std::memcpy(rd.buf.data() + n, ring->buffer(f.bid).data() + f.off, take);
        n += take;
        f.off += static_cast<std::uint32_t>(take);
        if (f.off == f.len) {
            ring->recycle(f.bid);
            ++front;
        }
    }
    if (front == queue.size()) {
        queue.clear();
        front = 0;
        // The kernel stops a multishot receive that ran out of buffers; the
        // buffers are back now, so start it again.
        arm();
    }
    if (n > 0) {
        rd.n = n;
        return true;
    }
    if (terminal) {
        rd.ec = terminal;
        return true;
    }
    return false;
}

void multishot_receiver::wait(reader* rd) {
    waiter = rd;
    arm();
    if (rd->deadline && !timer_armed) arm_timer(*rd->deadline);
}

void multishot_receiver::abandon(reader* rd, std::error_code ec) {
    if (waiter != rd) return;
    waiter = nullptr;
    rd->ec = ec;
    r->schedule(rd->h);
}

void multishot_receiver::arm_timer(clock::time_point t) {
    timer_ts = to_timespec(t);
    io_uring_sqe* sqe = r->get_sqe();
    io_uring_prep_timeout(sqe, &timer_ts, 0, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data(sqe, static_cast<completion*>(&timer));
    r->op_started();
    timer_armed = true;
    hold();
}

void multishot_receiver::orphan() {
    orphaned = true;
    if (waiter) abandon(waiter, make_error_code(errc::closed));
    if (armed) r->cancel(static_cast<completion*>(this));
    if (timer_armed) r->cancel(static_cast<completion*>(&timer));
}

void multishot_receiver::on_cqe(completion* c, int res, std::uint32_t flags) noexcept {
    auto* self = static_cast<multishot_receiver*>(c);
    const auto guard = self->keep;  // a resumed reader may drop the stream
    const bool more = flags & IORING_CQE_F_MORE;
    if (!more) {
        self->r->op_finished();
        self->armed = false;
    }
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
        const auto bid = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        if (self->orphaned)
            self->ring->recycle(bid);
        else
            self->queue.push_back({bid, static_cast<std::uint32_t>(res), 0});
    } else if (res == 0) {
        self->terminal = errc::eof;
    } else if (res < 0 && res != -ENOBUFS) {
        self->terminal = res == -ECANCELED && self->r->shutting_down() ? make_error_code(errc::shutting_down)
                                                                       : errno_code(res);
    }
    if (self->orphaned) return self->release_if_idle();
    if (!self->armed && !self->terminal && self->front == self->queue.size()) self->arm();
    if (reader* rd = self->waiter; rd && self->fill(*rd)) {
        self->waiter = nullptr;
        if (self->timer_armed) self->r->cancel(static_cast<completion*>(&self->timer));
        detail::resume(rd->h);
    }
    self->release_if_idle();
}

void multishot_receiver::on_timer(completion* c, int, std::uint32_t) noexcept {
    auto* self = static_cast<timer_completion*>(c)->owner;
    const auto guard = self->keep;
    self->r->op_finished();
    self->timer_armed = false;
    if (self->orphaned) return self->release_if_idle();
    reader* rd = self->waiter;
    if (rd && rd->deadline) {
        if (clock::now() >= *rd->deadline)
            self->abandon(rd, std::make_error_code(std::errc::timed_out));
        else
            self->arm_timer(*rd->deadline);
    }
    self->release_if_idle();
}

}  // namespace detail

}  // namespace qwire
