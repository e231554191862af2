// Workloads shared by the benchmarks and qwire-perf: a kdb+ trade table, a
// repetitive one (what compresses in practice), and QWP L1 quotes as a
// column chunk.
#pragma once

#include <qwire/proto/kdb/k.hpp>
#include <qwire/proto/qwp/encoder.hpp>

#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::workloads {

inline kdb::k trade_table(std::size_t rows, std::size_t symbols = 100) {
    std::mt19937_64 rng(7);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < symbols; ++i) names.push_back("SYM" + std::to_string(i));
    std::vector<std::string_view> syms(rows);
    std::vector<std::int64_t> times(rows), sizes(rows);
    std::vector<double> prices(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        syms[i] = names[rng() % names.size()];
        times[i] = static_cast<std::int64_t>(34'200'000'000'000 + i * 1000);
        prices[i] = 100.0 + static_cast<double>(rng() % 10000) / 100.0;
        sizes[i] = static_cast<std::int64_t>(rng() % 1000);
    }
    return kdb::new_table({"sym", "time", "price", "size"},
                          {kdb::new_symbol_list(std::span<const std::string_view>(syms)),
                           kdb::new_temporal_list(kdb::qtype::timespan, times), kdb::new_float_list(prices),
                           kdb::new_long_list(sizes)})
        .value();
}

// A table whose columns are given by q type letters: s symbol (from
// `symbols` names), n timespan, p timestamp, f float, e real, j long,
// i int, h short, b boolean; columns named c0, c1, ... Random values.
inline result<kdb::k> typed_table(std::size_t rows, std::string_view types, std::size_t symbols) {
    std::mt19937_64 rng(11);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, symbols); ++i) names.push_back("SYM" + std::to_string(i));
    std::vector<std::string> col_names;
    std::vector<kdb::k> cols;
    for (char t : types) {
        col_names.push_back("c" + std::to_string(cols.size()));
        switch (t) {
        case 's': {
            std::vector<std::string_view> v(rows);
            for (auto& x : v) x = names[rng() % names.size()];
            cols.push_back(kdb::new_symbol_list(std::span<const std::string_view>(v)));
            break;
        }
        case 'n': case 'p': {
            std::vector<std::int64_t> v(rows);
            for (std::size_t i = 0; i < rows; ++i) v[i] = static_cast<std::int64_t>(i * 1000 + rng() % 1000);
            cols.push_back(kdb::new_temporal_list(t == 'n' ? kdb::qtype::timespan : kdb::qtype::timestamp, v));
            break;
        }
        case 'f': {
            std::vector<double> v(rows);
            for (auto& x : v) x = static_cast<double>(rng() % 100000) / 100.0;
            cols.push_back(kdb::new_float_list(v));
            break;
        }
        case 'e': {
            std::vector<float> v(rows);
            for (auto& x : v) x = static_cast<float>(rng() % 100000) / 100.0f;
            cols.push_back(kdb::new_real_list(v));
            break;
        }
        case 'j': {
            std::vector<std::int64_t> v(rows);
            for (auto& x : v) x = static_cast<std::int64_t>(rng() % 1000000);
            cols.push_back(kdb::new_long_list(std::span<const std::int64_t>(v)));
            break;
        }
        case 'i': {
            std::vector<std::int32_t> v(rows);
            for (auto& x : v) x = static_cast<std::int32_t>(rng() % 1000000);
            cols.push_back(kdb::new_int_list(std::span<const std::int32_t>(v)));
            break;
        }
        case 'h': {
            std::vector<std::int16_t> v(rows);
            for (auto& x : v) x = static_cast<std::int16_t>(rng() % 30000);
            cols.push_back(kdb::new_short_list(v));
            break;
        }
        case 'b': {
            std::unique_ptr<bool[]> v(new bool[rows]);
            for (std::size_t i = 0; i < rows; ++i) v[i] = rng() & 1;
            cols.push_back(kdb::new_bool_list(std::span<const bool>(v.get(), rows)));
            break;
        }
        default:
            return make_error_code(std::errc::invalid_argument);
        }
    }
    if (cols.empty()) return make_error_code(std::errc::invalid_argument);
    return kdb::new_table(kdb::new_symbol_list(col_names), kdb::new_list(std::move(cols)));
}

// What compresses in practice: few symbols in runs, prices on a tick grid,
// round lots, regular times.
inline kdb::k repetitive_table(std::size_t rows) {
    std::vector<std::string_view> syms(rows);
    std::vector<std::int64_t> times(rows), sizes(rows);
    std::vector<double> prices(rows);
    static const std::string_view names[] = {"IBM", "MSFT", "AAPL", "GOOG"};
    for (std::size_t i = 0; i < rows; ++i) {
        syms[i] = names[(i / 64) % 4];
        times[i] = static_cast<std::int64_t>(34'200'000'000'000 + (i / 16) * 1'000'000);
        prices[i] = 100.0 + static_cast<double>((i / 32) % 8) * 0.25;
        sizes[i] = static_cast<std::int64_t>(((i / 8) % 5 + 1) * 100);
    }
    return kdb::new_table({"sym", "time", "price", "size"},
                          {kdb::new_symbol_list(std::span<const std::string_view>(syms)),
                           kdb::new_temporal_list(kdb::qtype::timespan, times), kdb::new_float_list(prices),
                           kdb::new_long_list(sizes)})
        .value();
}

// L1 quotes: sym, bid, ask, bid_size, ask_size, bid_orders, ask_orders, seq
// and the designated timestamp.
struct quote_table {
    std::vector<std::string> names;
    std::vector<std::string_view> dict;
    std::vector<std::int32_t> sym, bid_orders, ask_orders;
    std::vector<double> bid, ask;
    std::vector<std::int64_t> bid_size, ask_size, seq, ts;

    explicit quote_table(std::size_t rows, std::size_t symbols = 1000) {
        for (std::size_t i = 0; i < symbols; ++i) names.push_back("SYM" + std::to_string(i));
        for (auto& n : names) dict.push_back(n);
        std::mt19937_64 rng(42);
        for (std::size_t i = 0; i < rows; ++i) {
            sym.push_back(static_cast<std::int32_t>(rng() % symbols));
            const double mid = 100.0 + static_cast<double>(rng() % 10000) / 100.0;
            bid.push_back(mid - 0.01);
            ask.push_back(mid + 0.01);
            bid_size.push_back(static_cast<std::int64_t>(rng() % 1000));
            ask_size.push_back(static_cast<std::int64_t>(rng() % 1000));
            bid_orders.push_back(static_cast<std::int32_t>(rng() % 50));
            ask_orders.push_back(static_cast<std::int32_t>(rng() % 50));
            seq.push_back(static_cast<std::int64_t>(i));
            ts.push_back(1700000000000000000LL + static_cast<std::int64_t>(i) * 1000);
        }
    }
    qwp::chunk make(std::size_t from, std::size_t count) const {
        auto sub = [&](const auto& v) { return std::span(v).subspan(from, count); };
        qwp::chunk c("quotes", count);
        c.symbol<std::int32_t>("sym", sub(sym), dict);
        c.column("bid", sub(bid)).column("ask", sub(ask));
        c.column("bid_size", sub(bid_size)).column("ask_size", sub(ask_size));
        c.column("bid_orders", sub(bid_orders)).column("ask_orders", sub(ask_orders));
        c.column("seq", sub(seq)).designated(sub(ts));
        return c;
    }
};

}  // namespace qwire::workloads
