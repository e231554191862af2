#include <qwire/io/socket.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

namespace qwire {
namespace {

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

class connect_op : public uring_op<connect_op> {
public:
    connect_op(reactor& r, int fd, const endpoint& ep, op_options o) : uring_op(r, std::move(o)), fd_(fd), ep_(ep) {}
    void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_connect(sqe, fd_, ep_.data(), ep_.size()); }
    result<void> await_resume() noexcept {
        finish();
        if (res_ < 0) return error();
        return {};
    }

private:
    int fd_;
    const endpoint& ep_;
};

}  // namespace

task<result<socket_stream>> connect(endpoint ep, op_options o) {
    reactor& r = *reactor::current();
    const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) co_return errno_code(errno);
    socket_stream s(fd, r);
    if (auto rc = co_await connect_op(r, fd, ep, o); !rc) co_return rc.error();
    if (ep.family() != AF_UNIX) set_nodelay(fd);
    co_return std::move(s);
}

result<acceptor> acceptor::listen(const endpoint& ep, int backlog, reactor& r) {
    acceptor a;
    a.r_ = &r;
    a.fd_ = ::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (a.fd_ < 0) return errno_code(errno);
    if (ep.family() != AF_UNIX) {
        int one = 1;
        ::setsockopt(a.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(a.fd_, ep.data(), ep.size()) < 0) return errno_code(errno);
    if (::listen(a.fd_, backlog) < 0) return errno_code(errno);
    a.local_ = ep;
    if (ep.family() != AF_UNIX) {
        // Port 0 means "any free port": ask which one it was.
        socklen_t len = endpoint::capacity();
        if (::getsockname(a.fd_, a.local_.data(), &len) == 0) a.local_.resize(len);
    }
    return a;
}

void acceptor::close() noexcept {
    if (fd_ < 0) return;
    // Stop listening now: a pending accept holds the file until its cancel
    // completes, and the port must be free for a new listener at once.
    ::shutdown(fd_, SHUT_RDWR);
    if (r_)
        r_->close_fd(std::exchange(fd_, -1));
    else
        ::close(std::exchange(fd_, -1));
}

result<socket_stream> acceptor::accept_op::await_resume() noexcept {
    finish();
    if (res_ < 0) return error();
    if (a_.local_.family() != AF_UNIX) set_nodelay(res_);
    return socket_stream(res_, r_);
}

}  // namespace qwire
