#include <qwire/io/address.hpp>
#include <qwire/core/operation.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <thread>

namespace qwire {

result<endpoint> endpoint::ip(std::string_view address, std::uint16_t port) {
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    if (address.size() >= INET6_ADDRSTRLEN) return errc::invalid_argument;
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, address.data(), address.size());
    endpoint e;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage_);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage_);
    if (::inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        e.len_ = sizeof(sockaddr_in);
        return e;
    }
    if (::inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        e.len_ = sizeof(sockaddr_in6);
        return e;
    }
    return errc::invalid_argument;
}

result<endpoint> endpoint::unix_socket(std::string_view path) {
    endpoint e;
    auto* un = reinterpret_cast<sockaddr_un*>(&e.storage_);
    if (path.empty() || path.size() >= sizeof(un->sun_path)) return errc::invalid_argument;
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    if (path.front() == '@') {
        un->sun_path[0] = '\0';  // abstract: the length, not a NUL, ends the name
        e.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    } else {
        e.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    }
    return e;
}

std::uint16_t endpoint::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

bool endpoint::is_local() const noexcept {
    if (family() == AF_UNIX) return true;
    if (family() == AF_INET) return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr) >> 24) == 127;
    if (family() == AF_INET6) {
        const auto* a = &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

std::string endpoint::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port());
    }
    if (family() == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    if (family() == AF_UNIX) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
        const std::size_t n = len_ - offsetof(sockaddr_un, sun_path);
        if (n > 0 && un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
        return std::string(un->sun_path);
    }
    return "?";
}

namespace {

// What the helper thread and the waiting coroutine share. The thread may
// finish after the waiter gave up (stop or deadline), so it is ref-counted;
// the deadline timer is its own completion inside it.
struct lookup : completion, std::enable_shared_from_this<lookup> {
    std::string host;
    std::uint16_t port = 0;
    std::vector<endpoint> found;
    std::error_code ec;
    reactor* r = nullptr;
    std::coroutine_handle<> waiter{};
    bool resumed = false;
    bool timer_armed = false;
    __kernel_timespec ts{};
    std::shared_ptr<lookup> timer_keep;

    void finish(std::error_code e) {
        if (resumed) return;
        resumed = true;
        if (e) ec = e;
        if (timer_armed) r->cancel(static_cast<completion*>(this));
        r->schedule(waiter);
    }

    static void on_timer(completion* c, int res, std::uint32_t) noexcept {
        auto* self = static_cast<lookup*>(c);
        auto keep = std::move(self->timer_keep);
        self->r->op_finished();
        self->timer_armed = false;
        if (res == -ETIME) self->finish(std::make_error_code(std::errc::timed_out));
    }

    void run_thread() {
        std::thread([self = shared_from_this(), box = r->get_mailbox()] {
            addrinfo hints{};
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_ADDRCONFIG;
            addrinfo* res = nullptr;
            const int rc = ::getaddrinfo(self->host.c_str(), nullptr, &hints, &res);
            std::vector<endpoint> out;
            for (addrinfo* a = res; a; a = a->ai_next) {
                if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
                endpoint e;
                std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
                e.resize(a->ai_addrlen);
                if (a->ai_family == AF_INET)
                    reinterpret_cast<sockaddr_in*>(e.data())->sin_port = htons(self->port);
                else
                    reinterpret_cast<sockaddr_in6*>(e.data())->sin6_port = htons(self->port);
                out.push_back(e);
            }
            if (res) ::freeaddrinfo(res);
            box->post([self, rc, out = std::move(out)]() mutable {
                if (self->resumed) return;
                self->found = std::move(out);
                self->finish(rc != 0 || self->found.empty() ? make_error_code(errc::no_such_host) : std::error_code{});
            });
        }).detach();
    }
};

struct lookup_awaiter {
    std::shared_ptr<lookup> l;
    op_options o;
    struct canceller {
        lookup* l;
        void operator()() const noexcept {
            std::weak_ptr<lookup> w = l->weak_from_this();
            l->r->post([w] {
                if (auto s = w.lock()) s->finish(std::make_error_code(std::errc::operation_canceled));
            });
        }
    };
    std::optional<std::stop_callback<canceller>> cb;
    // run() must not return (nor block_on give up) while the helper thread works.
    std::optional<reactor::work_guard> guard;

    ~lookup_awaiter() {
        // Destroyed without being resumed (its coroutine was destroyed): the
        // answer, when it comes, must resume nothing.
        cb.reset();
        if (!l->resumed) {
            l->resumed = true;
            if (l->timer_armed) l->r->cancel(static_cast<completion*>(l.get()));
        }
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        l->waiter = h;
        if (o.deadline) {
            l->complete = &lookup::on_timer;
            l->ts = to_timespec(*o.deadline);
            io_uring_sqe* sqe = l->r->get_sqe();
            io_uring_prep_timeout(sqe, &l->ts, 0, IORING_TIMEOUT_ABS);
            io_uring_sqe_set_data(sqe, static_cast<completion*>(l.get()));
            l->r->op_started();
            l->timer_armed = true;
            l->timer_keep = l;
        }
        guard.emplace(*l->r);
        l->run_thread();
        if (o.stop.stop_possible()) cb.emplace(o.stop, canceller{l.get()});
    }
    void await_resume() noexcept {
        cb.reset();
        guard.reset();
    }
};

}  // namespace

task<result<std::vector<endpoint>>> resolve(std::string host, std::uint16_t port, op_options o) {
    if (auto e = endpoint::ip(host, port)) co_return std::vector<endpoint>{*e};
    if (host.empty()) co_return errc::invalid_argument;
    if (o.stop.stop_requested()) co_return std::make_error_code(std::errc::operation_canceled);
    auto l = std::make_shared<lookup>();
    l->host = std::move(host);
    l->port = port;
    l->r = reactor::current();
    // A named awaiter: g++ 12 mishandles aggregate temporaries with
    // non-trivial members in a co_await expression (destroys them twice).
    lookup_awaiter wait{l, o, std::nullopt, std::nullopt};
    co_await wait;
    if (l->ec) co_return l->ec;
    co_return std::move(l->found);
}

}  // namespace qwire
