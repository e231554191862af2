// Reactor benchmarks: 64-byte ping-pong round trips and one-way bulk
// throughput over loopback TCP, through qwire and through the floors it is
// measured against, in one run:
//
//   pingpong_qwire / pingpong_raw_uring / pingpong_asio_epoll
//       arg 0: placement (0 = both ends pinned to CPU 0, 1 = busy-polling on
//              CPUs 0 and 1), arg 1: ring setup for qwire and raw liburing
//              (0 = SINGLE_ISSUER|DEFER_TASKRUN, 1 = plain)
//   bulk_qwire / bulk_raw_uring / bulk_raw_socket
//       1 MiB writes from a thread on CPU 1 to a reader on CPU 0.
//
// Asio's io_uring backend lives in qwire_bench_asio_uring (it must be chosen
// per program). tools/bench.sh runs both and prints the ratios.
#include <qwire/core/reactor.hpp>
#include <qwire/io/socket_stream.hpp>

#include "asio_pingpong.hpp"
#include "bench_support.hpp"

#include <liburing.h>

#include <array>
#include <functional>
#include <vector>

using namespace qwire;
using namespace qwire::bench;

namespace {

reactor::options ring_options(int setup) {
    reactor::options o;
    o.mode = setup == 0 ? reactor::setup::defer_taskrun : reactor::setup::plain;
    return o;
}

const char* ring_name(int setup) { return setup == 0 ? "defer_taskrun" : "plain"; }

// Runs a qwire task to completion: sleeping in the kernel, or spinning on
// poll() when busy-polling.
void drive(reactor& r, task<void> t, placement p) {
    if (p == placement::same_cpu) return r.block_on(std::move(t));
    bool done = false;
    r.spawn([](task<void> t, bool& d) -> task<void> {
        co_await std::move(t);
        d = true;
    }(std::move(t), done));
    while (!done) r.poll();
}

// ---- qwire ----

void pingpong_qwire(benchmark::State& state) {
    const auto p = static_cast<placement>(state.range(0));
    const int setup = static_cast<int>(state.range(1));
    auto [c, s] = tcp_pair();
    {
        side_thread server(server_cpu(p), [s = s, p, setup] {
            reactor r(ring_options(setup));
            socket_stream st(s, r);
            drive(
                r,
                [](socket_stream& st) -> task<void> {
                    std::array<std::byte, message_size> buf;
                    for (;;) {
                        auto got = co_await read_exact(st, std::span(buf));
                        if (!got) break;
                        auto sent = co_await st.write_all(std::span<const std::byte>(buf));
                        if (!sent) break;
                    }
                }(st),
                p);
        });
        pin_to(client_cpu(p));
        reactor r(ring_options(setup));
        socket_stream st(c, r);
        drive(
            r,
            [](socket_stream& st, benchmark::State& state) -> task<void> {
                std::array<std::byte, message_size> msg{}, back{};
                for (auto _ : state) {
                    (void)co_await st.write_all(std::span<const std::byte>(msg));
                    (void)co_await read_exact(st, std::span(back));
                }
                (void)st.shutdown_write();
            }(st, state),
            p);
    }
    unpin();
    label(state, p, ring_name(setup));
}

// ---- raw liburing: what a hand-written loop on the same ring setup does ----

struct raw_ring {
    io_uring ring{};
    placement p;
    raw_ring(int setup, placement pl) : p(pl) {
        const unsigned flags = setup == 0 ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN : 0;
        if (io_uring_queue_init(8, &ring, flags) < 0) throw std::runtime_error("io_uring_queue_init");
    }
    ~raw_ring() { io_uring_queue_exit(&ring); }

    // Submits what is queued and returns the result of the one operation.
    int complete() {
        io_uring_cqe* cqe = nullptr;
        if (p == placement::same_cpu) {
            io_uring_submit_and_wait(&ring, 1);
            io_uring_peek_cqe(&ring, &cqe);
        } else {
            io_uring_submit(&ring);
            while (io_uring_peek_cqe(&ring, &cqe) != 0) io_uring_get_events(&ring);
        }
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        return res;
    }
    int recv(int fd, void* buf, std::size_t n, int flags = 0) {
        io_uring_prep_recv(io_uring_get_sqe(&ring), fd, buf, n, flags);
        return complete();
    }
    int send(int fd, const void* buf, std::size_t n) {
        io_uring_prep_send(io_uring_get_sqe(&ring), fd, buf, n, MSG_NOSIGNAL);
        return complete();
    }
};

void pingpong_raw_uring(benchmark::State& state) {
    const auto p = static_cast<placement>(state.range(0));
    const int setup = static_cast<int>(state.range(1));
    auto [c, s] = tcp_pair();
    {
        side_thread server(server_cpu(p), [s = s, p, setup] {
            raw_ring r(setup, p);
            std::array<char, message_size> buf;
            while (r.recv(s, buf.data(), buf.size(), MSG_WAITALL) == int(message_size))
                if (r.send(s, buf.data(), buf.size()) != int(message_size)) break;
        });
        pin_to(client_cpu(p));
        raw_ring r(setup, p);
        std::array<char, message_size> msg{}, back{};
        for (auto _ : state) {
            r.send(c, msg.data(), msg.size());
            r.recv(c, back.data(), back.size(), MSG_WAITALL);
        }
        ::shutdown(c, SHUT_WR);
    }
    ::close(c);
    ::close(s);
    unpin();
    label(state, p, ring_name(setup));
}

void pingpong_asio_epoll(benchmark::State& state) { asio_pingpong(state, static_cast<placement>(state.range(0))); }

// ---- bulk: 1 MiB writes one way ----

// The writer side runs on CPU 1 until the reader closes its end.
template <class Writer>
void bulk(benchmark::State& state, Writer writer, std::function<std::size_t(int, std::span<std::byte>)> read) {
    auto [c, s] = tcp_pair();
    {
        side_thread w(1, [fd = s, writer] { writer(fd); });
        pin_to(0);
        std::vector<std::byte> buf(bulk_chunk);
        for (auto _ : state) {
            std::size_t got = 0;
            while (got < bulk_chunk) got += read(c, std::span(buf).first(bulk_chunk - got));
        }
        ::shutdown(c, SHUT_RDWR);  // the writer's next send fails and it stops
    }
    ::close(c);
    ::close(s);
    unpin();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bulk_chunk));
    state.SetLabel("writer cpu1 -> reader cpu0");
}

void bulk_raw_socket(benchmark::State& state) {
    bulk(
        state,
        [](int fd) {
            std::vector<char> data(bulk_chunk, 'x');
            for (;;) {
                std::size_t off = 0;
                while (off < data.size()) {
                    const auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
                    if (n <= 0) return;
                    off += static_cast<std::size_t>(n);
                }
            }
        },
        [](int fd, std::span<std::byte> b) -> std::size_t {
            const auto n = ::recv(fd, b.data(), b.size(), 0);
            return n > 0 ? static_cast<std::size_t>(n) : 0;
        });
}

void bulk_raw_uring(benchmark::State& state) {
    raw_ring reader(0, placement::same_cpu);
    bulk(
        state,
        [](int fd) {
            raw_ring r(0, placement::same_cpu);
            std::vector<char> data(bulk_chunk, 'x');
            for (;;) {
                std::size_t off = 0;
                while (off < data.size()) {
                    const int n = r.send(fd, data.data() + off, data.size() - off);
                    if (n <= 0) return;
                    off += static_cast<std::size_t>(n);
                }
            }
        },
        [&](int fd, std::span<std::byte> b) -> std::size_t {
            const int n = reader.recv(fd, b.data(), b.size());
            return n > 0 ? static_cast<std::size_t>(n) : 0;
        });
}

void bulk_qwire(benchmark::State& state) {
    auto [c, s] = tcp_pair();
    {
        side_thread w(1, [fd = s] {
            reactor r;
            socket_stream st(fd, r);
            r.block_on([](socket_stream& st) -> task<void> {
                std::vector<std::byte> data(bulk_chunk, std::byte{'x'});
                for (;;) {
                    auto sent = co_await st.write_all(std::span<const std::byte>(data));
                    if (!sent) break;
                }
            }(st));
            (void)st.release();
        });
        pin_to(0);
        reactor r;
        socket_stream st(c, r);
        r.block_on([](socket_stream& st, benchmark::State& state) -> task<void> {
            std::vector<std::byte> buf(bulk_chunk);
            for (auto _ : state) {
                std::size_t got = 0;
                while (got < bulk_chunk) {
                    auto n = co_await st.read_some(std::span(buf).first(bulk_chunk - got));
                    if (!n) co_return;
                    got += *n;
                }
            }
        }(st, state));
        ::shutdown(c, SHUT_RDWR);
        (void)st.release();
    }
    ::close(c);
    ::close(s);
    unpin();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bulk_chunk));
    state.SetLabel("writer cpu1 -> reader cpu0");
}

}  // namespace

BENCHMARK(pingpong_qwire)->ArgsProduct({{0, 1}, {0, 1}})->UseRealTime();
BENCHMARK(pingpong_raw_uring)->ArgsProduct({{0, 1}, {0, 1}})->UseRealTime();
BENCHMARK(pingpong_asio_epoll)->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(bulk_qwire)->UseRealTime();
BENCHMARK(bulk_raw_uring)->UseRealTime();
BENCHMARK(bulk_raw_socket)->UseRealTime();

BENCHMARK_MAIN();
