// A kdb+ table with a column of every type the bridge maps (nulls and
// infinities in each), and what comes back out of QuestDB for each column.
#pragma once

#include <qwire/proto/kdb/k.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace qwire::test::all_types {

using namespace qwire::kdb;

inline constexpr std::int64_t W = inf_long, N = null_long;
inline constexpr std::int64_t WI = inf_int, NI = null_int;

inline k temporal(type_t t, std::initializer_list<std::int64_t> v) { return new_temporal_list(t, std::vector<std::int64_t>(v)); }

inline k guids() {
    std::vector<guid> g(4);
    for (std::size_t i = 0; i < 16; ++i) g[0][i] = static_cast<std::uint8_t>(i + 1), g[2][i] = static_cast<std::uint8_t>(0xF0 + i);
    g[3].fill(0xAB);  // g[1]: 0Ng
    return new_guid_list(g);
}

inline k datetimes(std::initializer_list<double> v) {
    k out = new_vector(qtype::datetime, v.size());
    std::copy(v.begin(), v.end(), out.data<double>().begin());
    return out;
}

inline k strings(std::initializer_list<std::string_view> v) {
    std::vector<k> items;
    for (auto s : v) items.push_back(new_string(s));
    return new_list(std::move(items));
}

inline const std::chrono::sys_days day = std::chrono::sys_days(std::chrono::year(2026) / 12 / 3);

// Every mappable kdb+ type, four rows with nulls and infinities.
inline k all_types() {
    const bool bools[] = {true, false, true, true};
    const std::uint8_t bytes[] = {0x00, 0xFF, 0x7F, 0x80};
    const std::int16_t shorts[] = {1, null_short, inf_short, -inf_short};
    const std::int32_t ints[] = {1, null_int, inf_int, -inf_int};
    const float reals[] = {1.5F, null_real, inf_real, -inf_real};
    const double floats[] = {2.5, null_float, inf_float, -inf_float};
    const std::int64_t ts_2024 = 757'479'845'123'456'789LL;  // 2024.01.02D03:04:05.123456789
    return new_table({"time", "sym", "b", "g", "x", "h", "i", "j", "e", "f", "c", "s", "p", "m", "d", "z", "n", "u", "v", "t"},
                     {temporal(qtype::timespan, {32'400'000'000'000LL, 32'401'000'000'000LL, 32'402'000'000'000LL, 32'403'000'000'000LL}),
                      new_symbol_list({"a", "", "bb", "a"}),
                      new_bool_list(bools), guids(), new_byte_list(bytes), new_short_list(shorts), new_int_list(ints),
                      new_long_list({1, N, W, -W}), new_real_list(reals), new_float_list(floats), new_string("ab c"),
                      strings({"hello", "", "\xcf\x80 ok", "x"}),
                      temporal(qtype::timestamp, {ts_2024, N, W, -W}),
                      temporal(qtype::month, {290, NI, WI, 0}),
                      temporal(qtype::date, {8767, NI, WI, -1}),
                      datetimes({8767.128, null_float, inf_float, 0.5}),
                      temporal(qtype::timespan, {3'723'000'000'004LL, N, W, -W}),
                      temporal(qtype::minute, {570, NI, WI, 0}),
                      temporal(qtype::second, {34215, NI, WI, 0}),
                      temporal(qtype::time, {34'215'123, NI, WI, 0})})
        .value();
}

// What comes back for each column (the right-hand side of the mapping).
inline std::vector<std::pair<std::string, k>> expected_back() {
    const auto ts = [](std::chrono::sys_days d, std::int64_t ns) { return to_kdb_timestamp(d) + ns; };
    using namespace std::chrono;
    const k orig = all_types();
    auto col = [&](const char* n) { return orig.column(n).value(); };
    const std::int64_t day_ns = ts(day, 0);
    return {
        {"sym", col("sym")}, {"b", col("b")}, {"g", col("g")}, {"x", col("x")}, {"h", col("h")}, {"i", col("i")},
        {"j", col("j")}, {"e", col("e")}, {"f", col("f")}, {"c", col("c")}, {"s", col("s")},
        {"p", temporal(qtype::timestamp, {757'479'845'123'456'789LL, N, N, N})},
        {"m", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 3 / 1), 0), N, N, ts(sys_days(year(2000) / 1 / 1), 0)})},
        {"d", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 1 / 2), 0), N, N, ts(sys_days(year(1999) / 12 / 31), 0)})},
        {"z", temporal(qtype::timestamp, {ts(sys_days(year(2024) / 1 / 2), 11'059'200'000'000LL), N, N, ts(sys_days(year(2000) / 1 / 1), 43'200'000'000'000LL)})},
        {"n", new_long_list({3'723'000'000'004LL, N, W, -W})},
        {"u", new_int_list({570, NI, WI, 0})},
        {"v", new_int_list({34215, NI, WI, 0})},
        {"t", new_int_list({34'215'123, NI, WI, 0})},
        {"timestamp", temporal(qtype::timestamp, {day_ns + 32'400'000'000'000LL, day_ns + 32'401'000'000'000LL,
                                                  day_ns + 32'402'000'000'000LL, day_ns + 32'403'000'000'000LL})},
    };
}

}  // namespace qwire::test::all_types
