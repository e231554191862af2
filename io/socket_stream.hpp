// socket_stream: a connected stream socket (TCP or Unix) driven by the ring.
//
// Reads are IORING_OP_RECV into the caller's buffer, or, after
// enable_multishot_receive(), one multishot receive into a provided-buffer
// ring that keeps data coming without an SQE per read. Writes are
// IORING_OP_SEND / SENDMSG with MSG_NOSIGNAL, resubmitted from the completion
// handler until every byte is out, so the writer is resumed once.
// The socket stays in blocking mode; the ring does the waiting.
#pragma once

#include <qwire/core/buffer_ring.hpp>
#include <qwire/core/operation.hpp>
#include <qwire/io/address.hpp>
#include <qwire/io/byte_stream.hpp>

#include <sys/socket.h>

#include <array>
#include <memory>
#include <string>

namespace qwire {

namespace detail {
struct multishot_receiver;
}

class socket_stream {
public:
    socket_stream() noexcept = default;
    explicit socket_stream(int fd, reactor& r = *reactor::current()) noexcept : fd_(fd), r_(&r) {}
    socket_stream(socket_stream&& o) noexcept;
    socket_stream& operator=(socket_stream&& o) noexcept;
    ~socket_stream();

    class recv_op;
    class send_op;
    class sendmsg_op;

    recv_op read_some(std::span<std::byte> buf, op_options o = {});
    send_op write_all(std::span<const std::byte> buf, op_options o = {});
    // At most max_iov pieces per call.
    sendmsg_op write_all(std::span<const const_buffer> bufs, op_options o = {});
    static constexpr std::size_t max_iov = 64;

    // Switches reads to a multishot receive into `buffers` buffers of
    // `buffer_size` bytes each (buffers a power of two).
    result<void> enable_multishot_receive(unsigned buffers = 16, std::size_t buffer_size = 16384);
    bool multishot() const noexcept { return ms_ != nullptr; }

    result<void> set_nodelay(bool on);
    result<endpoint> peer_endpoint() const;
    // The peer's address as text ("127.0.0.1:40312"), empty when unknown:
    // what servers put in their log lines.
    std::string peer_address() const {
        auto e = peer_endpoint();
        return e ? e->to_string() : std::string();
    }
    // Whether the peer is on this host (loopback or Unix socket); true when
    // it cannot be told.
    bool peer_is_local() const {
        auto e = peer_endpoint();
        return !e || e->is_local();
    }
    result<void> shutdown_write();
    void close() noexcept;
    bool is_open() const noexcept { return fd_ >= 0; }
    int native_handle() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    reactor& get_reactor() const noexcept { return *r_; }

private:
    int fd_ = -1;
    reactor* r_ = nullptr;
    // Shared with the kernel's in-flight receive, which may outlive the stream.
    std::shared_ptr<detail::multishot_receiver> ms_;
};

namespace detail {

// The state of a multishot receive: the buffer ring, the filled buffers not
// yet read, and the one reader waiting. Heap-allocated so that it can outlive
// the stream until the kernel's last CQE for it arrives.
struct multishot_receiver : completion, std::enable_shared_from_this<multishot_receiver> {
    struct filled {
        std::uint16_t bid;
        std::uint32_t len;
        std::uint32_t off;
    };
    struct reader {
        std::span<std::byte> buf;
        std::optional<clock::time_point> deadline;
        std::coroutine_handle<> h;
        std::size_t n = 0;
        std::error_code ec;
    };
    struct timer_completion : completion {
        multishot_receiver* owner;
    };

    reactor* r;
    int fd;
    std::unique_ptr<buffer_ring> ring;
    std::vector<filled> queue;  // filled buffers in arrival order; head at front_
    std::size_t front = 0;
    std::error_code terminal;   // eof or error once the stream is done
    bool armed = false;
    bool orphaned = false;
    std::shared_ptr<multishot_receiver> keep;  // set while the kernel holds a CQE for us
    reader* waiter = nullptr;
    timer_completion timer{};
    __kernel_timespec timer_ts{};
    bool timer_armed = false;

    multishot_receiver(reactor& re, int fd, std::unique_ptr<buffer_ring> br);
    void arm();
    // Copies queued data into rd; true if rd is satisfied (data or terminal).
    bool fill(reader& rd);
    void wait(reader* rd);
    void abandon(reader* rd, std::error_code ec);
    void arm_timer(clock::time_point t);
    void orphan();
    void hold() { if (!keep) keep = shared_from_this(); }
    void release_if_idle() {
        if (!armed && !timer_armed) auto k = std::move(keep);  // may destroy *this
    }
    static void on_cqe(completion* c, int res, std::uint32_t flags) noexcept;
    static void on_timer(completion* c, int res, std::uint32_t flags) noexcept;
};

}  // namespace detail

class socket_stream::recv_op : public uring_op<recv_op> {
public:
    recv_op(socket_stream& s, std::span<std::byte> buf, op_options o)
        : uring_op(*s.r_, std::move(o)), s_(s), buf_(buf) {}

    bool await_ready() noexcept;
    void await_suspend(std::coroutine_handle<> h);
    result<std::size_t> await_resume() noexcept;

    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_recv(sqe, s_.fd_, buf_.data(), buf_.size(), 0);
    }

private:
    struct ms_canceller {
        recv_op* op;
        void operator()() const noexcept;
    };
    socket_stream& s_;
    std::span<std::byte> buf_;
    detail::multishot_receiver::reader rd_{};
    bool ms_done_ = false;
    std::optional<std::stop_callback<ms_canceller>> ms_stop_;
};

class socket_stream::send_op : public uring_op<send_op> {
public:
    send_op(socket_stream& s, std::span<const std::byte> buf, op_options o)
        : uring_op(*s.r_, std::move(o)), fd_(s.fd_), buf_(buf) {}

    bool await_ready() noexcept { return buf_.empty() || uring_op::await_ready(); }
    void prepare(io_uring_sqe* sqe) noexcept {
        io_uring_prep_send(sqe, fd_, buf_.data(), buf_.size(), MSG_NOSIGNAL);
    }
    bool on_result(int res, std::uint32_t) noexcept {
        if (res <= 0) return false;
        buf_ = buf_.subspan(static_cast<std::size_t>(res));
        if (buf_.empty() || cancel_requested()) return false;
        submit();
        return true;
    }
    result<void> await_resume() noexcept {
        finish();
        if (buf_.empty()) return {};
        if (res_ == 0) return errc::closed;
        if (res_ > 0) return std::make_error_code(std::errc::operation_canceled);
        return error();
    }

private:
    int fd_;
    std::span<const std::byte> buf_;
};

class socket_stream::sendmsg_op : public uring_op<sendmsg_op> {
public:
    sendmsg_op(socket_stream& s, std::span<const const_buffer> bufs, op_options o);

    bool await_ready() noexcept;
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_sendmsg(sqe, fd_, &msg_, MSG_NOSIGNAL); }
    bool on_result(int res, std::uint32_t) noexcept;
    result<void> await_resume() noexcept;

private:
    bool done() const noexcept { return msg_.msg_iovlen == 0; }
    int fd_;
    bool too_many_ = false;
    std::array<iovec, max_iov> iov_{};
    msghdr msg_{};
};

inline socket_stream::recv_op socket_stream::read_some(std::span<std::byte> buf, op_options o) {
    return recv_op(*this, buf, std::move(o));
}
inline socket_stream::send_op socket_stream::write_all(std::span<const std::byte> buf, op_options o) {
    return send_op(*this, buf, std::move(o));
}
inline socket_stream::sendmsg_op socket_stream::write_all(std::span<const const_buffer> bufs, op_options o) {
    return sendmsg_op(*this, bufs, std::move(o));
}

static_assert(byte_stream<socket_stream>);

}  // namespace qwire
