// WebSocket masking, fused into the copy that builds a frame: mask_copy
// (64-bit words) next to memcpy of the same bytes and a byte-at-a-time loop.
#include <qwire/proto/ws/frame.hpp>

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

namespace {

constexpr std::array<std::uint8_t, 4> key{0x12, 0x34, 0x56, 0x78};

void memcpy_payload(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> src(n, std::byte{7}), dst(n);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void ws_mask_copy(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> src(n, std::byte{7}), dst(n);
    for (auto _ : state) {
        qwire::ws::mask_copy(dst.data(), src.data(), n, key);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void mask_byte_loop(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> src(n, std::byte{7}), dst(n);
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) {
            dst[i] = src[i] ^ static_cast<std::byte>(key[i & 3]);
            benchmark::DoNotOptimize(dst[i]);  // keep the compiler from vectorising the reference loop
        }
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

BENCHMARK(memcpy_payload)->Arg(1 << 10)->Arg(64 << 10)->Arg(64 << 20);
BENCHMARK(ws_mask_copy)->Arg(1 << 10)->Arg(64 << 10)->Arg(64 << 20);
BENCHMARK(mask_byte_loop)->Arg(1 << 10)->Arg(64 << 10);

BENCHMARK_MAIN();
