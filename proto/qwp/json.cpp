#include <qwire/proto/qwp/json.hpp>

#include <qwire/proto/http/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace qwire::qwp {

namespace {

// A finite number as the shortest text that reads back to it; JSON has no
// spelling for NaN and the infinities, so they are null.
template <class F>
void json_number(std::string& out, F v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char b[32];
    const auto r = std::to_chars(b, b + sizeof b, v);
    out.append(b, r.ptr);
}

void hex(std::string& out, const std::byte* p, std::size_t n, bool reverse) {
    static constexpr char digits[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = std::to_integer<unsigned>(p[reverse ? n - 1 - i : i]);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    out += '"';
}

// Two's-complement little-endian integer of n bytes, as decimal text with
// `scale` digits after the point.
std::string decimal_text(const std::byte* p, std::size_t n, unsigned scale) {
    std::vector<std::uint32_t> limbs(n / 4);
    std::memcpy(limbs.data(), p, n);
    const bool neg = std::to_integer<unsigned>(p[n - 1]) & 0x80;
    if (neg) {  // negate
        std::uint64_t carry = 1;
        for (auto& l : limbs) {
            const std::uint64_t v = std::uint64_t{~l} + carry;
            l = static_cast<std::uint32_t>(v);
            carry = v >> 32;
        }
    }
    std::string digits;
    auto is_zero = [&] {
        for (auto l : limbs)
            if (l) return false;
        return true;
    };
    while (!is_zero()) {
        std::uint64_t rem = 0;
        for (auto it = limbs.rbegin(); it != limbs.rend(); ++it) {
            const std::uint64_t cur = (rem << 32) | *it;
            *it = static_cast<std::uint32_t>(cur / 10);
            rem = cur % 10;
        }
        digits += static_cast<char>('0' + rem);
    }
    while (digits.size() <= scale) digits += '0';
    std::string out = neg ? "-" : "";
    for (std::size_t i = digits.size(); i-- > 0;) {
        out += digits[i];
        if (i == scale && scale > 0) out += '.';
    }
    return out;
}

}  // namespace

std::string row_json(const decoded_table& t, std::size_t row) {
    // The library's one JSON writer; numbers that are not int64 or double
    // (a FLOAT keeps its own shortest form) and hex go in as raw JSON.
    http::json_writer w;
    w.begin_object();
    std::string text;
    for (const auto& c : t.columns) {
        w.key(c.name.empty() ? std::string_view("timestamp") : std::string_view(c.name));
        if (c.is_null(row)) {
            w.null();
            continue;
        }
        text.clear();
        switch (c.type) {
        case type::boolean: w.value(std::to_integer<int>(c.fixed[row]) != 0); break;
        case type::byte: w.value(std::int64_t{c.get<std::int8_t>(row)}); break;
        case type::short_: w.value(std::int64_t{c.get<std::int16_t>(row)}); break;
        case type::char_: w.value(std::int64_t{c.get<std::uint16_t>(row)}); break;
        case type::int_: w.value(std::int64_t{c.get<std::int32_t>(row)}); break;
        case type::ipv4: {
            const auto v = c.get<std::uint32_t>(row);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
            w.value(std::string_view(buf));
            break;
        }
        case type::long_: case type::date: case type::timestamp: case type::timestamp_nanos:
            w.value(c.get<std::int64_t>(row));
            break;
        case type::float_: json_number(text, c.get<float>(row)); w.raw(text); break;
        case type::double_: w.value(c.get<double>(row)); break;
        case type::geohash: w.raw(std::to_string(c.get<std::uint64_t>(row))); break;
        case type::uuid: case type::long256:
            hex(text, c.fixed.data() + row * fixed_width(c.type), fixed_width(c.type), true);
            w.raw(text);
            break;
        case type::decimal64: case type::decimal128: case type::decimal256:
            w.value(decimal_text(c.fixed.data() + row * fixed_width(c.type), fixed_width(c.type), c.scale));
            break;
        case type::symbol: case type::varchar: w.value(c.text(row)); break;
        case type::binary: case type::double_array: case type::long_array: {
            const std::string_view v = c.text(row);
            hex(text, reinterpret_cast<const std::byte*>(v.data()), v.size(), false);
            w.raw(text);
            break;
        }
        }
    }
    w.end_object();
    return std::move(w).take();
}

}  // namespace qwire::qwp
