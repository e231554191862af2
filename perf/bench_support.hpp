// Shared pieces of the reactor benchmarks: loopback TCP pairs, CPU pinning,
// and the thread that plays the server side.
#pragma once

#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <stdexcept>
#include <thread>
#include <utility>

namespace qwire::bench {

constexpr std::size_t message_size = 64;
constexpr std::size_t bulk_chunk = 1 << 20;

// How the two ends share the machine. Each variant's name says which.
enum class placement {
    same_cpu,   // both ends pinned to CPU 0, sleeping in the kernel between messages
    busy_poll,  // client on CPU 0, server on CPU 1, both spinning without sleeping
};

inline const char* name(placement p) { return p == placement::same_cpu ? "pinned_cpu0" : "busy_poll_cpu0_cpu1"; }

inline void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % std::max(1u, std::thread::hardware_concurrency()), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

inline void unpin() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned i = 0; i < std::thread::hardware_concurrency(); ++i) CPU_SET(i, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

inline int client_cpu(placement) { return 0; }
inline int server_cpu(placement p) { return p == placement::same_cpu ? 0 : 1; }

// A connected loopback TCP pair with TCP_NODELAY on both ends.
inline std::pair<int, int> tcp_pair() {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(l, 1) < 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) < 0)
        throw std::runtime_error("listen");
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) throw std::runtime_error("connect");
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {c, s};
}

// Runs fn on a thread pinned to cpu; joins on destruction.
class side_thread {
public:
    template <class F>
    side_thread(int cpu, F fn)
        : t_([cpu, fn = std::move(fn)]() mutable {
              pin_to(cpu);
              fn();
          }) {}
    ~side_thread() { t_.join(); }

private:
    std::thread t_;
};

// The reported time of a ping-pong iteration is one round trip.
inline void label(benchmark::State& state, placement p, const char* ring = nullptr) {
    std::string l = name(p);
    if (ring) l += std::string(" ring=") + ring;
    state.SetLabel(l);
}

}  // namespace qwire::bench
