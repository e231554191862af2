// Connecting to and accepting on an endpoint of any family, through the ring.
// tcp.hpp and unix_socket.hpp add the name- and path-based front doors.
#pragma once

#include <qwire/core/operation.hpp>
#include <qwire/io/address.hpp>
#include <qwire/io/socket_stream.hpp>

namespace qwire {

// Connects a new stream socket to ep (IORING_OP_CONNECT). TCP sockets get
// TCP_NODELAY.
task<result<socket_stream>> connect(endpoint ep, op_options o = {});

class acceptor {
public:
    acceptor() noexcept = default;
    acceptor(acceptor&& o) noexcept : fd_(std::exchange(o.fd_, -1)), r_(o.r_), local_(o.local_) {}
    acceptor& operator=(acceptor&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            r_ = o.r_;
            local_ = o.local_;
        }
        return *this;
    }
    ~acceptor() { close(); }

    // Binds and listens. TCP listeners set SO_REUSEADDR; port 0 picks a free
    // port (see local_endpoint()).
    static result<acceptor> listen(const endpoint& ep, int backlog = 4096, reactor& r = *reactor::current());

    class accept_op : public uring_op<accept_op> {
    public:
        accept_op(acceptor& a, op_options o) : uring_op(*a.r_, std::move(o)), a_(a) {}
        void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_accept(sqe, a_.fd_, nullptr, nullptr, SOCK_CLOEXEC); }
        result<socket_stream> await_resume() noexcept;

    private:
        acceptor& a_;
    };
    // Waits for the next connection.
    accept_op accept(op_options o = {}) { return accept_op(*this, std::move(o)); }

    const endpoint& local_endpoint() const noexcept { return local_; }
    int native_handle() const noexcept { return fd_; }
    void close() noexcept;

private:
    int fd_ = -1;
    reactor* r_ = nullptr;
    endpoint local_;
};

}  // namespace qwire
