// kdb+ type numbers, attributes, nulls and infinities.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace qwire::kdb {

using type_t = std::int8_t;

// Type numbers as they appear on the wire: vectors positive, atoms negative.
namespace qtype {
inline constexpr type_t list = 0;
inline constexpr type_t boolean = 1;
inline constexpr type_t guid = 2;
inline constexpr type_t byte = 4;
inline constexpr type_t short_ = 5;
inline constexpr type_t int_ = 6;
inline constexpr type_t long_ = 7;
inline constexpr type_t real = 8;
inline constexpr type_t float_ = 9;
inline constexpr type_t char_ = 10;
inline constexpr type_t symbol = 11;
inline constexpr type_t timestamp = 12;
inline constexpr type_t month = 13;
inline constexpr type_t date = 14;
inline constexpr type_t datetime = 15;
inline constexpr type_t timespan = 16;
inline constexpr type_t minute = 17;
inline constexpr type_t second = 18;
inline constexpr type_t time = 19;
inline constexpr type_t table = 98;
inline constexpr type_t dict = 99;
inline constexpr type_t lambda = 100;
inline constexpr type_t unary_primitive = 101;  // also the generic null (::), opcode 0
inline constexpr type_t binary_primitive = 102;
inline constexpr type_t iterator = 103;
inline constexpr type_t projection = 104;
inline constexpr type_t composition = 105;
inline constexpr type_t each = 106;         // f'   (106..111: derived functions)
inline constexpr type_t each_left = 111;    // f\:
inline constexpr type_t dynamic_load = 112;
inline constexpr type_t sorted_dict = 127;
inline constexpr type_t error = -128;
}  // namespace qtype

enum class attr : std::uint8_t { none = 0, sorted = 1, unique = 2, parted = 3, grouped = 4 };

using guid = std::array<std::uint8_t, 16>;

// Bytes per item of simple vector type t (1..19); 0 for symbols (variable)
// and for the general list.
constexpr std::size_t item_size(type_t t) noexcept {
    constexpr std::array<std::uint8_t, 20> sizes{0, 1, 16, 0, 1, 2, 4, 8, 4, 8, 1, 0, 8, 4, 4, 8, 8, 4, 4, 4};
    return t >= 0 && t < 20 ? sizes[static_cast<std::size_t>(t)] : 0;
}

constexpr bool is_simple_vector(type_t t) noexcept { return t >= 1 && t <= 19 && t != 3; }
constexpr bool is_atom(type_t t) noexcept { return t <= -1 && t >= -19 && t != -3; }
constexpr bool is_function(type_t t) noexcept { return t >= qtype::lambda && t <= qtype::dynamic_load; }

// The q type letter (for display): "bg xhijefcspmdznuvt".
constexpr char type_char(type_t t) noexcept {
    constexpr const char* letters = " bg xhijefcspmdznuvt";
    const int a = t < 0 ? -t : t;
    return a >= 1 && a <= 19 ? letters[a] : ' ';
}

// Nulls and infinities (q: 0Nh 0Wh -0Wh, 0Ni, 0N/0Nj, ...).
inline constexpr std::int16_t null_short = std::numeric_limits<std::int16_t>::min();
inline constexpr std::int16_t inf_short = std::numeric_limits<std::int16_t>::max();
inline constexpr std::int32_t null_int = std::numeric_limits<std::int32_t>::min();
inline constexpr std::int32_t inf_int = std::numeric_limits<std::int32_t>::max();
inline constexpr std::int64_t null_long = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t inf_long = std::numeric_limits<std::int64_t>::max();
inline constexpr float null_real = std::numeric_limits<float>::quiet_NaN();   // kdb+ sends 0x7fc00000
inline constexpr double null_float = std::numeric_limits<double>::quiet_NaN();  // 0x7ff8000000000000
inline constexpr float inf_real = std::numeric_limits<float>::infinity();
inline constexpr double inf_float = std::numeric_limits<double>::infinity();

// Days and nanoseconds between the Unix epoch and kdb+'s (2000-01-01).
inline constexpr std::int64_t epoch_offset_days = 10957;
inline constexpr std::int64_t epoch_offset_ns = epoch_offset_days * 86'400'000'000'000LL;

}  // namespace qwire::kdb
