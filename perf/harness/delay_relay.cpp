#include "delay_relay.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <sstream>

namespace qwire::perf {

// One direction of one connection: a reader that timestamps chunks and a
// writer that sends each when it is due.
struct delay_relay::pump {
    int from, to;
    std::chrono::nanoseconds delay;
    struct chunk {
        std::chrono::steady_clock::time_point due;
        std::vector<char> bytes;  // empty: end of stream
    };
    std::mutex m;
    std::condition_variable cv;
    std::deque<chunk> q;
    std::thread reader, writer;

    pump(int f, int t, std::chrono::nanoseconds d) : from(f), to(t), delay(d) {
        reader = std::thread([this] {
            for (;;) {
                std::vector<char> buf(64 << 10);
                const auto n = ::recv(from, buf.data(), buf.size(), 0);
                buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
                {
                    std::lock_guard lock(m);
                    q.push_back({std::chrono::steady_clock::now() + delay, std::move(buf)});
                }
                cv.notify_one();
                if (n <= 0) return;
            }
        });
        writer = std::thread([this] {
            for (;;) {
                chunk c;
                {
                    std::unique_lock lock(m);
                    cv.wait(lock, [this] { return !q.empty(); });
                    c = std::move(q.front());
                    q.pop_front();
                }
                std::this_thread::sleep_until(c.due);  // the emulated delay itself
                if (c.bytes.empty()) {
                    ::shutdown(to, SHUT_WR);
                    return;
                }
                for (std::size_t sent = 0; sent < c.bytes.size();) {
                    const auto n = ::send(to, c.bytes.data() + sent, c.bytes.size() - sent, MSG_NOSIGNAL);
                    if (n <= 0) {
                        ::shutdown(from, SHUT_RDWR);
                        return;
                    }
                    sent += static_cast<std::size_t>(n);
                }
            }
        });
    }
    ~pump() {
        reader.join();
        writer.join();
    }
};

result<std::unique_ptr<delay_relay>> delay_relay::start(std::string host, std::uint16_t port,
                                                        std::chrono::nanoseconds delay) {
    std::unique_ptr<delay_relay> r(new delay_relay);
    r->host_ = std::move(host);
    r->target_port_ = port;
    r->delay_ = delay;
    r->listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(r->listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(r->listener_, 64) != 0 ||
        ::getsockname(r->listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return make_error_code(static_cast<std::errc>(errno));
    r->port_ = ntohs(a.sin_port);
    r->acceptor_ = std::thread([p = r.get()] { p->accept_loop(); });
    return r;
}

void delay_relay::accept_loop() {
    for (;;) {
        const int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0 || stopping_) {
            if (c >= 0) ::close(c);
            return;
        }
        addrinfo hints{};
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (::getaddrinfo(host_.c_str(), std::to_string(target_port_).c_str(), &hints, &res) != 0 || !res) {
            ::close(c);
            continue;
        }
        const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int rc = ::connect(s, res->ai_addr, res->ai_addrlen);
        ::freeaddrinfo(res);
        if (rc != 0) {
            ::close(c);
            ::close(s);
            continue;
        }
        int one = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pumps_.push_back(std::make_unique<pump>(c, s, delay_));
        pumps_.push_back(std::make_unique<pump>(s, c, std::chrono::nanoseconds(0)));
    }
}

delay_relay::~delay_relay() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listener_);
    for (auto& p : pumps_) {
        ::shutdown(p->from, SHUT_RDWR);
        ::shutdown(p->to, SHUT_RDWR);
    }
    std::vector<int> fds;
    for (auto& p : pumps_) fds.push_back(p->from);
    pumps_.clear();
    for (int fd : fds) ::close(fd);
}

result<std::chrono::nanoseconds> parse_netem_delay(const std::string& spec, bool* loss) {
    std::istringstream in(spec);
    std::string word;
    std::chrono::nanoseconds delay{0};
    bool any = false;
    *loss = false;
    while (in >> word) {
        if (word == "loss") {
            *loss = true;
            in >> word;
            continue;
        }
        if (word != "delay") return make_error_code(std::errc::invalid_argument);
        std::string v;
        if (!(in >> v)) return make_error_code(std::errc::invalid_argument);
        double x = 0;
        std::size_t used = 0;
        try {
            x = std::stod(v, &used);
        } catch (...) {
            return make_error_code(std::errc::invalid_argument);
        }
        const std::string unit = v.substr(used);
        double ns;
        if (unit == "ms") ns = x * 1e6;
        else if (unit == "us") ns = x * 1e3;
        else if (unit == "s") ns = x * 1e9;
        else return make_error_code(std::errc::invalid_argument);
        if (ns < 0 || ns > 10e9) return make_error_code(std::errc::invalid_argument);
        delay = std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
        any = true;
    }
    if (!any && !*loss) return make_error_code(std::errc::invalid_argument);
    return delay;
}

}  // namespace qwire::perf
