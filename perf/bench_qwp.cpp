// QWP: encoding a 1M-row, 9-column quote table, next to memcpy of the same
// bytes; symbol interning in bulk (dictionary codes) next to a per-row hash
// map; end-to-end rows/s into the QWP test server over loopback, swept over
// the in-flight window and the rows per flush.
#include <qwire/core/when_all.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>
#include <qwire/proto/ws/frame.hpp>

#include "workloads.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace qwire;
using namespace qwire::qwp;

namespace {

const workloads::quote_table& million() {
    static const workloads::quote_table t(1'000'000);
    return t;
}

std::size_t message_bytes(std::span<const const_buffer> pieces) {
    std::size_t n = 0;
    for (const auto& p : pieces) n += p.size;
    return n;
}

// A connection's steady state: its dictionary already holds (and has sent)
// every symbol, as after its first frame.
void warm_up(symbol_dict& dict, const chunk& c) {
    message_builder b(dict);
    (void)encode(b, c);
    dict.mark_sent();
}

// Encoding only: the pieces (symbol ids and metadata copied, columns by
// reference).
void qwp_encode_chunk(benchmark::State& state) {
    const auto& t = million();
    const chunk c = t.make(0, static_cast<std::size_t>(state.range(0)));
    symbol_dict dict;
    warm_up(dict, c);
    message_builder b(dict);
    std::size_t bytes = 0;
    for (auto _ : state) {
        b.clear();
        auto r = encode(b, c);
        if (!r) state.SkipWithError("encode failed");
        bytes = message_bytes(b.finish());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * c.rows()),
                                                  benchmark::Counter::kIsRate);
}

// Encoding plus the one copy into a masked WebSocket frame: what a flush
// costs before the kernel.
void qwp_encode_chunk_into_frame(benchmark::State& state) {
    const auto& t = million();
    const chunk c = t.make(0, static_cast<std::size_t>(state.range(0)));
    symbol_dict dict;
    warm_up(dict, c);
    message_builder b(dict);
    byte_buffer frame;
    std::size_t bytes = 0;
    for (auto _ : state) {
        b.clear();
        frame.clear();
        auto r = encode(b, c);
        if (!r) state.SkipWithError("encode failed");
        const auto pieces = b.finish();
        bytes = message_bytes(pieces);
        const auto key = ws::random_mask();
        ws::append_frame(frame, ws::opcode::binary, pieces, &key);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// The ceiling: memcpy of as many bytes as the message has.
void memcpy_quote_message_bytes(benchmark::State& state) {
    const auto& t = million();
    const chunk c = t.make(0, static_cast<std::size_t>(state.range(0)));
    symbol_dict dict;
    warm_up(dict, c);
    message_builder b(dict);
    (void)encode(b, c);
    const auto msg = b.finish_copy();
    std::vector<std::byte> dst(msg.size());
    for (auto _ : state) {
        std::memcpy(dst.data(), msg.data(), msg.size());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

// The row buffer front end on the same rows (per-row appends, then encode).
void qwp_row_buffer_100k(benchmark::State& state) {
    const auto& t = million();
    const std::size_t rows = 100'000;
    symbol_dict dict;
    message_builder b(dict);
    row_buffer buf;
    for (auto _ : state) {
        buf.clear();
        b.clear();
        dict.clear();
        for (std::size_t i = 0; i < rows; ++i) {
            auto r = buf.table("quotes");
            r.symbol("sym", t.dict[static_cast<std::size_t>(t.sym[i])]).column("bid", t.bid[i]).column("ask", t.ask[i]);
            r.column("bid_size", t.bid_size[i]).column("ask_size", t.ask_size[i]);
            r.typed("bid_orders", type::int_, &t.bid_orders[i]).typed("ask_orders", type::int_, &t.ask_orders[i]);
            r.column("seq", t.seq[i]).at(t.ts[i]);
        }
        (void)buf.encode(b);
        benchmark::DoNotOptimize(b.finish());
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * rows),
                                                  benchmark::Counter::kIsRate);
}

// Symbols: the chunk's bulk intern (each dictionary entry once, then a code
// lookup per row) next to a hash-map lookup of every row's string.
void symbols_bulk_intern(benchmark::State& state) {
    const auto& t = million();
    chunk c("s", t.sym.size());
    c.symbol<std::int32_t>("sym", t.sym, t.dict);
    symbol_dict dict;
    message_builder b(dict);
    for (auto _ : state) {
        b.clear();
        dict.clear();
        (void)encode(b, c);
        benchmark::ClobberMemory();
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * t.sym.size()),
                                                  benchmark::Counter::kIsRate);
}

void symbols_per_row_hash_map(benchmark::State& state) {
    const auto& t = million();
    std::vector<std::uint32_t> ids(t.sym.size());
    for (auto _ : state) {
        std::unordered_map<std::string_view, std::uint32_t> map;
        for (std::size_t i = 0; i < t.sym.size(); ++i) {
            const std::string_view s = t.dict[static_cast<std::size_t>(t.sym[i])];
            auto [it, fresh] = map.try_emplace(s, static_cast<std::uint32_t>(map.size()));
            ids[i] = it->second;
        }
        benchmark::ClobberMemory();
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * t.sym.size()),
                                                  benchmark::Counter::kIsRate);
}

// End to end: flush chunks of `rows` rows with the given window, sync at the
// end of every 200k rows; rows/s and MB/s into the test server.
void qwp_ingest_test_server(benchmark::State& state) {
    const auto window = static_cast<std::size_t>(state.range(0));
    const auto rows_per_flush = static_cast<std::size_t>(state.range(1));
    const auto& t = million();
    test_server_options so;
    so.keep_rows = false;
    test_server_thread st(so);  // on the other core
    reactor r;
    const std::string conf = st.server().conf() + "in_flight_window=" + std::to_string(window) + ";";
    auto s = r.block_on(sender::connect(conf));
    if (!s) {
        state.SkipWithError(s.error().message().c_str());
        return;
    }
    const std::size_t per_iteration = 200'000;
    std::vector<chunk> chunks;
    for (std::size_t from = 0; from < per_iteration; from += rows_per_flush)
        chunks.push_back(t.make(from, std::min(rows_per_flush, per_iteration - from)));
    const std::uint64_t bytes_before = s->counters().bytes;
    for (auto _ : state) {
        auto run = [&]() -> task<result<void>> {
            for (const auto& c : chunks) {
                auto f = co_await s->flush(c);
                if (!f) co_return f;
            }
            co_return co_await s->sync();
        };
        auto res = r.block_on(run());
        if (!res) {
            state.SkipWithError(res.error().message().c_str());
            break;
        }
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * per_iteration),
                                                  benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<std::int64_t>(s->counters().bytes - bytes_before));
}

}  // namespace

// 20,000 rows make a ~1 MiB message, the size of a real frame (QuestDB
// takes up to 2 MiB by default); 1M rows, 54 MB, is far past every cache.
BENCHMARK(memcpy_quote_message_bytes)->Arg(20'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(qwp_encode_chunk)->Arg(20'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(qwp_encode_chunk_into_frame)->Arg(20'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(qwp_row_buffer_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(symbols_bulk_intern)->Unit(benchmark::kMillisecond);
BENCHMARK(symbols_per_row_hash_map)->Unit(benchmark::kMillisecond);
BENCHMARK(qwp_ingest_test_server)
    ->ArgsProduct({{1, 8, 32, 128}, {1000, 10000, 25000}})
    ->ArgNames({"window", "rows"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
