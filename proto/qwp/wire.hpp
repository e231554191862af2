// QWP wire constants (QuestDB 10.0 and later; ../shared/specs/qwp.md) and
// the varint used throughout.
#pragma once

#include <qwire/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace qwire::qwp {

inline constexpr std::uint8_t magic[4] = {'Q', 'W', 'P', '1'};
inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_payload = 16 << 20;  // the server's ceiling
inline constexpr std::size_t max_name_bytes = 127;
inline constexpr std::size_t max_columns = 2048;
inline constexpr std::size_t max_rows_per_table = 1'000'000;
inline constexpr std::size_t default_symbol_cap = 1'000'000;

namespace flags {
inline constexpr std::uint8_t defer_commit = 0x01;
inline constexpr std::uint8_t gorilla = 0x04;
inline constexpr std::uint8_t delta_symbol_dict = 0x08;
inline constexpr std::uint8_t zstd = 0x10;  // egress only
}  // namespace flags

enum class type : std::uint8_t {
    boolean = 0x01,
    byte = 0x02,
    short_ = 0x03,
    int_ = 0x04,
    long_ = 0x05,
    float_ = 0x06,
    double_ = 0x07,
    symbol = 0x09,
    timestamp = 0x0A,  // microseconds
    date = 0x0B,       // milliseconds
    uuid = 0x0C,
    long256 = 0x0D,
    geohash = 0x0E,
    varchar = 0x0F,
    timestamp_nanos = 0x10,
    double_array = 0x11,
    long_array = 0x12,
    decimal64 = 0x13,
    decimal128 = 0x14,
    decimal256 = 0x15,
    char_ = 0x16,
    binary = 0x17,
    ipv4 = 0x18,
};

// Bytes per value of a fixed-width type; 0 for the others (boolean is bits,
// geohash depends on its precision).
constexpr std::size_t fixed_width(type t) noexcept {
    switch (t) {
    case type::byte: return 1;
    case type::short_: case type::char_: return 2;
    case type::int_: case type::float_: case type::ipv4: return 4;
    case type::long_: case type::double_: case type::timestamp: case type::date: case type::timestamp_nanos:
    case type::decimal64: return 8;
    case type::uuid: case type::decimal128: return 16;
    case type::long256: case type::decimal256: return 32;
    default: return 0;
    }
}
constexpr bool is_decimal(type t) noexcept {
    return t == type::decimal64 || t == type::decimal128 || t == type::decimal256;
}
constexpr bool is_timestamp(type t) noexcept { return t == type::timestamp || t == type::timestamp_nanos; }
// QuestDB cannot store NULL in these: a null row travels as 0 (sentinel mode).
constexpr bool not_nullable(type t) noexcept {
    return t == type::boolean || t == type::byte || t == type::short_ || t == type::char_;
}
bool known_type(std::uint8_t code) noexcept;
std::string_view type_name(type t) noexcept;

// Ingress response status bytes.
enum class status : std::uint8_t {
    ok = 0x00,
    durable_ack = 0x02,
    schema_mismatch = 0x03,
    parse_error = 0x05,
    internal_error = 0x06,
    security_error = 0x08,
    write_error = 0x09,
    cancelled = 0x0A,       // egress: the query was cancelled
    limit_exceeded = 0x0B,  // egress: a limit (the query's timeout, ...) ended it
    not_writable = 0x0C,
    dictionary_gap = 0x0D,
    local_durable_ack = 0x0E,
};

enum class errc {
    // Encoding and decoding
    truncated = 1,
    trailing_bytes,
    bad_magic,
    bad_version,
    bad_length,
    bad_varint,
    bad_type,
    bad_name,
    too_many_columns,
    too_many_rows,
    bad_column,         // malformed or inconsistent column data
    symbol_cap,         // the connection's symbol dictionary is full
    dictionary_gap,
    frame_too_large,    // one row range does not fit the server's batch cap
    bad_arrow,          // a malformed ArrowArray/ArrowSchema
    over_budget,        // decoded rows would take more memory than the connection may hold
    // Server answers (a status byte other than OK)
    schema_mismatch,
    parse_error,
    internal_error,
    security_error,
    write_error,
    not_writable,
    unknown_status,
    // Connection
    bad_config,         // connect string
    handshake_rejected,
    no_qwp_endpoint,    // 404: an HTTP server without QWP (QuestDB before 10.0)
    unauthorized,       // 401 / 403
    bad_request,        // 400 / 426: the upgrade itself was wrong
    version_mismatch,
    must_close,         // the connection failed earlier and must be replaced
    durable_ack_unavailable,
    role_mismatch,      // 421, or a SERVER_INFO role the connect string's target does not take
    bad_compression,    // a compressed batch that was not asked for or does not inflate
    cancelled,          // QUERY_ERROR CANCELLED
    limit_exceeded,     // QUERY_ERROR LIMIT_EXCEEDED (a timeout, a size limit)
};
const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }
std::error_code status_error(status s) noexcept;

// A server error that a reconnect and replay may get past (INTERNAL_ERROR,
// WRITE_ERROR, NOT_WRITABLE, DICTIONARY_GAP, unknown statuses, transport
// failures); SCHEMA_MISMATCH, PARSE_ERROR, SECURITY_ERROR, protocol errors
// and configuration errors are terminal.
bool retriable(std::error_code ec) noexcept;

// Unsigned LEB128.
inline std::size_t put_varint(std::uint8_t* out, std::uint64_t v) noexcept {
    std::size_t n = 0;
    while (v >= 0x80) {
        out[n++] = static_cast<std::uint8_t>(v | 0x80);
        v >>= 7;
    }
    out[n++] = static_cast<std::uint8_t>(v);
    return n;
}
inline constexpr std::size_t max_varint = 10;

// Reads a varint from the front of in into v, advancing it; an error code
// (nothing to copy or destroy) for the loops that read one per row.
inline std::error_code read_varint(std::span<const std::byte>& in, std::uint64_t& v) noexcept {
    v = 0;
    for (std::size_t i = 0; i < max_varint; ++i) {
        if (i >= in.size()) return make_error_code(errc::truncated);
        const auto b = std::to_integer<std::uint8_t>(in[i]);
        if (i == 9 && b > 1) return make_error_code(errc::bad_varint);
        v |= std::uint64_t{b & 0x7Fu} << (7 * i);
        if (!(b & 0x80)) {
            in = in.subspan(i + 1);
            return {};
        }
    }
    return make_error_code(errc::bad_varint);
}

// The same as a result.
inline result<std::uint64_t> get_varint(std::span<const std::byte>& in) noexcept {
    std::uint64_t v;
    if (auto e = read_varint(in, v)) return e;
    return v;
}

}  // namespace qwire::qwp

template <>
struct std::is_error_code_enum<qwire::qwp::errc> : std::true_type {};
