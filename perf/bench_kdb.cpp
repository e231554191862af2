// kdb+ benchmarks, each next to its ceiling in the same run:
//   kdb_encode_trade / kdb_decode_trade   a 1M-row trade table (sym, time,
//                                          price, size) vs memcpy_trade_bytes
//   kdb_compress / kdb_decompress         IPC compression of a 100k-row table
//   kdb_query_rtt                          sync query round trip over loopback TCP
//                                          vs raw_pingpong_same_bytes (raw
//                                          liburing moving the same bytes)
//   kdb_queries_in_flight/N                queries/s with N outstanding
// Both ends of the round-trip benchmarks are pinned to CPU 0.
#include <qwire/core/when_all.hpp>
#include <qwire/io/socket_stream.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>

#include "bench_support.hpp"
#include "workloads.hpp"

#include <liburing.h>

#include <cstring>
#include <random>

using namespace qwire;
using namespace qwire::bench;

namespace {

const kdb::k& big_table() {
    static const kdb::k t = workloads::trade_table(1'000'000);
    return t;
}

void kdb_encode_trade(benchmark::State& state) {
    const auto& t = big_table();
    byte_buffer out;
    for (auto _ : state) {
        out.clear();
        if (!kdb::encode_message(t, kdb::msg_type::async, out)) state.SkipWithError("encode");
        benchmark::DoNotOptimize(out.data().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}

void kdb_decode_trade(benchmark::State& state) {
    byte_buffer msg;
    (void)kdb::encode_message(big_table(), kdb::msg_type::async, msg);
    for (auto _ : state) {
        auto m = kdb::decode_message(msg.data());
        if (!m) state.SkipWithError("decode");
        benchmark::DoNotOptimize(m);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

void memcpy_trade_bytes(benchmark::State& state) {
    byte_buffer msg;
    (void)kdb::encode_message(big_table(), kdb::msg_type::async, msg);
    std::vector<std::byte> dst(msg.size());
    for (auto _ : state) {
        std::memcpy(dst.data(), msg.data().data(), msg.size());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

void kdb_compress(benchmark::State& state) {
    byte_buffer msg, out;
    (void)kdb::encode_message(workloads::repetitive_table(100'000), kdb::msg_type::async, msg);
    for (auto _ : state) {
        out.clear();
        benchmark::DoNotOptimize(kdb::compress(msg.data(), out));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
    state.counters["ratio"] = static_cast<double>(msg.size()) / static_cast<double>(out.size());
}

void kdb_decompress(benchmark::State& state) {
    byte_buffer msg, packed, out;
    (void)kdb::encode_message(workloads::repetitive_table(100'000), kdb::msg_type::async, msg);
    if (!kdb::compress(msg.data(), packed)) state.SkipWithError("does not compress");
    for (auto _ : state) {
        if (!kdb::decompress(packed.data(), out)) state.SkipWithError("decompress");
        benchmark::DoNotOptimize(out.data().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

// A kdb echo server on one end of a loopback TCP pair, on CPU 0.
template <class Client>
void with_echo_server(Client client) {
    auto [c, s] = tcp_pair();
    {
        side_thread server(0, [fd = s] {
            reactor r;
            kdb::server srv;
            srv.on_sync([](kdb::peer&, kdb::k x) -> task<result<kdb::k>> { co_return x; });
            r.block_on(srv.serve_connection(socket_stream(fd, r)));
        });
        pin_to(0);
        reactor r;
        r.block_on([](int fd, Client& client) -> task<void> {
            auto opened = co_await kdb::connection::open(socket_stream(fd));
            auto conn = std::move(opened).value();
            co_await client(conn);
            conn.close();
        }(c, client));
    }
    unpin();
}

void kdb_query_rtt(benchmark::State& state) {
    with_echo_server([&](kdb::connection& conn) -> task<void> {
        const kdb::k q = kdb::new_long(42);
        for (auto _ : state) {
            auto r = co_await conn.query(q);
            if (!r) state.SkipWithError("query");
        }
    });
    state.SetLabel("sync query of a long atom, both ends pinned to CPU 0");
}

// The raw liburing floor for the same exchange: 17 bytes each way.
void raw_pingpong_same_bytes(benchmark::State& state) {
    auto [c, s] = tcp_pair();
    constexpr std::size_t n = 8 + 9;
    auto round = [](io_uring& ring, int fd, char* buf, bool send_first) {
        for (int step = 0; step < 2; ++step) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if ((step == 0) == send_first)
                io_uring_prep_send(sqe, fd, buf, n, MSG_NOSIGNAL);
            else
                io_uring_prep_recv(sqe, fd, buf, n, MSG_WAITALL);
            io_uring_submit_and_wait(&ring, 1);
            io_uring_cqe* cqe;
            io_uring_peek_cqe(&ring, &cqe);
            const int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (res <= 0) return false;
        }
        return true;
    };
    {
        side_thread server(0, [fd = s, round] {
            io_uring ring;
            io_uring_queue_init(8, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
            char buf[n];
            while (round(ring, fd, buf, false)) {
            }
            io_uring_queue_exit(&ring);
        });
        pin_to(0);
        io_uring ring;
        io_uring_queue_init(8, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
        char buf[n] = {};
        for (auto _ : state) round(ring, c, buf, true);
        ::shutdown(c, SHUT_RDWR);
        io_uring_queue_exit(&ring);
    }
    ::close(c);
    ::close(s);
    unpin();
    state.SetLabel("17 bytes each way, both ends pinned to CPU 0");
}

void kdb_queries_in_flight(benchmark::State& state) {
    const auto depth = static_cast<std::size_t>(state.range(0));
    with_echo_server([&](kdb::connection& conn) -> task<void> {
        const kdb::k q = kdb::new_long(42);
        for (auto _ : state) {
            std::vector<task<result<kdb::k>>> batch;
            batch.reserve(depth);
            for (std::size_t i = 0; i < depth; ++i) batch.push_back(conn.query(q));
            (void)co_await when_all(std::move(batch));
        }
    });
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
    state.SetLabel("queries/s = items_per_second");
}

}  // namespace

BENCHMARK(memcpy_trade_bytes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(kdb_encode_trade)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(kdb_decode_trade)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(kdb_compress)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(kdb_decompress)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(raw_pingpong_same_bytes)->UseRealTime();
BENCHMARK(kdb_query_rtt)->UseRealTime();
BENCHMARK(kdb_queries_in_flight)->Arg(1)->Arg(8)->Arg(64)->UseRealTime();

BENCHMARK_MAIN();
