// Writes one column's section of a table block (not installed): what
// message_builder::add_block calls for each column.
#pragma once

#include <qwire/proto/qwp/detail/encoding.hpp>
#include <qwire/proto/qwp/message_builder.hpp>

#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

namespace qwire::qwp::detail {

inline std::size_t count_nulls(const column_view& c) noexcept {
    if (!c.validity) return 0;
    std::size_t nulls = 0;
    std::size_t i = 0;
    // Whole bytes when the view starts on a byte boundary.
    if ((c.offset & 7) == 0) {
        const std::uint8_t* v = c.validity + c.offset / 8;
        for (; i + 8 <= c.rows; i += 8) nulls += 8 - static_cast<std::size_t>(std::popcount(v[i / 8]));
    }
    for (; i < c.rows; ++i) nulls += !present(c, i);
    return nulls;
}

inline std::int64_t offset_at(const column_view& c, std::size_t i) noexcept {
    const std::size_t j = c.offset + i;
    if (c.offsets64) return static_cast<const std::int64_t*>(c.offsets)[j];
    return static_cast<const std::int32_t*>(c.offsets)[j];
}

inline std::uint32_t code_at(const column_view& c, std::size_t i) noexcept {
    const std::size_t j = c.offset + i;
    switch (c.code_width) {
    case 1: return static_cast<std::uint32_t>(static_cast<const std::int8_t*>(c.values)[j]);
    case 2: return static_cast<std::uint32_t>(static_cast<const std::int16_t*>(c.values)[j]);
    default: return static_cast<std::uint32_t>(static_cast<const std::int32_t*>(c.values)[j]);
    }
}

// Gorilla bit writer: bits LSB-first within each byte.
struct bit_writer {
    std::vector<std::uint8_t> out;
    std::size_t bits = 0;
    void put(std::uint64_t v, unsigned n) {
        for (unsigned k = 0; k < n; ++k, ++bits) {
            if ((bits & 7) == 0) out.push_back(0);
            if ((v >> k) & 1) out.back() |= static_cast<std::uint8_t>(1u << (bits & 7));
        }
    }
};

// Gorilla-coded timestamps, or nothing when a delta-of-delta does not fit
// 32 bits or the result is not smaller than the plain values.
inline std::optional<std::vector<std::uint8_t>> gorilla(std::span<const std::int64_t> t) {
    if (t.size() < 3) return std::nullopt;
    bit_writer w;
    // Wrapping differences (extreme timestamps must not overflow); the
    // decoder wraps the same way.
    auto diff = [](std::int64_t a, std::int64_t b) {
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
    };
    std::int64_t prev_delta = diff(t[1], t[0]);
    for (std::size_t i = 2; i < t.size(); ++i) {
        const std::int64_t delta = diff(t[i], t[i - 1]);
        const std::int64_t dod = diff(delta, prev_delta);
        prev_delta = delta;
        const auto u = static_cast<std::uint64_t>(dod);
        if (dod == 0) {
            w.put(0, 1);
        } else if (dod >= -64 && dod <= 63) {
            w.put(0b01, 2);
            w.put(u, 7);
        } else if (dod >= -256 && dod <= 255) {
            w.put(0b011, 3);
            w.put(u, 9);
        } else if (dod >= -2048 && dod <= 2047) {
            w.put(0b0111, 4);
            w.put(u, 12);
        } else if (dod >= std::numeric_limits<std::int32_t>::min() && dod <= std::numeric_limits<std::int32_t>::max()) {
            w.put(0b1111, 4);
            w.put(u, 32);
        } else {
            return std::nullopt;
        }
    }
    if (16 + w.out.size() >= t.size() * 8) return std::nullopt;
    std::vector<std::uint8_t> out(16);
    std::memcpy(out.data(), &t[0], 8);
    std::memcpy(out.data() + 8, &t[1], 8);
    out.insert(out.end(), w.out.begin(), w.out.end());
    return out;
}

struct column_writer {
    message_builder& b;
    const column_view& c;

    // Why the column cannot be encoded (add_block adds its table and name).
    static error bad(const std::string& why) { return error(errc::bad_column, why); }
    static error bad_code(std::size_t row, std::uint32_t code) {
        return bad("row " + std::to_string(row) + ": symbol code " + std::to_string(code) + " past the dictionary");
    }

    result<void> write() {
        const type t = c.type;
        const std::size_t nulls = count_nulls(c);
        const bool bitmap = nulls > 0 && !not_nullable(t);
        const std::size_t n = bitmap ? c.rows - nulls : c.rows;  // values on the wire
        b.put_u8(bitmap ? 1 : 0);
        if (bitmap) {
            std::uint8_t* bm = b.own_space((c.rows + 7) / 8);
            std::memset(bm, 0, (c.rows + 7) / 8);
            for (std::size_t i = 0; i < c.rows; ++i)
                if (!present(c, i)) bm[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
        }
        if (is_decimal(t)) {
            if (c.scale > 76) return bad("decimal scale " + std::to_string(c.scale) + " over 76");
            b.put_u8(c.scale);
        }
        switch (t) {
        case type::boolean: return booleans(bitmap, n);
        case type::geohash: return geohashes(bitmap, n);
        case type::varchar: case type::binary: return varlen(nulls);
        case type::double_array: case type::long_array: return arrays(bitmap);
        case type::symbol: return symbols(bitmap, n);
        default: break;
        }
        const std::size_t w = fixed_width(t);
        if (w == 0) return make_error_code(errc::bad_type);
        if (!c.values && c.rows) return bad("no values");
        const auto* v = static_cast<const std::byte*>(c.values) + c.offset * w;
        if (is_timestamp(t) && b.options().gorilla) {
            if (nulls == 0) {
                std::span<const std::int64_t> ts(reinterpret_cast<const std::int64_t*>(v), c.rows);
                if (auto g = gorilla(ts)) {
                    b.put_u8(1);
                    b.own(g->data(), g->size());
                    return {};
                }
            }
            b.put_u8(0);  // plain values follow
        }
        if (nulls == 0) {
            b.borrow(v, c.rows * w);
            return {};
        }
        std::uint8_t* out = b.own_space(n * w);
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (present(c, i)) {
                std::memcpy(out, v + i * w, w);
                out += w;
            } else if (!bitmap) {
                std::memset(out, 0, w);
                out += w;
            }
        }
        return {};
    }

    result<void> booleans(bool bitmap, std::size_t n) {
        if (!c.values && c.rows) return bad("no values");
        std::uint8_t* out = b.own_space((n + 7) / 8);
        std::memset(out, 0, (n + 7) / 8);
        const auto* bits = static_cast<const std::uint8_t*>(c.values);
        std::size_t k = 0;
        for (std::size_t i = 0; i < c.rows; ++i) {
            const bool p = present(c, i);
            if (!p && bitmap) continue;
            const std::size_t j = c.offset + i;
            if (p && ((bits[j >> 3] >> (j & 7)) & 1)) out[k >> 3] |= static_cast<std::uint8_t>(1u << (k & 7));
            ++k;
        }
        return {};
    }

    result<void> geohashes(bool bitmap, std::size_t n) {
        if (c.geohash_bits < 1 || c.geohash_bits > 60) return bad("geohash bits " + std::to_string(c.geohash_bits) + " not in 1..60");
        if (!c.values && c.rows) return bad("no values");
        b.put_varint(c.geohash_bits);
        const std::size_t w = (c.geohash_bits + 7u) / 8u;
        std::uint8_t* out = b.own_space(n * w);
        const auto* v = static_cast<const std::uint64_t*>(c.values) + c.offset;
        for (std::size_t i = 0; i < c.rows; ++i) {
            const bool p = present(c, i);
            if (!p && bitmap) continue;
            const std::uint64_t x = p ? v[i] : ~std::uint64_t{0};
            for (std::size_t k = 0; k < w; ++k) *out++ = static_cast<std::uint8_t>(x >> (8 * k));
        }
        return {};
    }

    result<void> varlen(std::size_t nulls) {
        if (!c.offsets || (!c.bytes && c.rows)) return bad("no offsets or bytes");
        const std::int64_t first = offset_at(c, 0), last = offset_at(c, c.rows);
        if (first < 0 || last < first) return bad("offsets negative or decreasing");
        if (nulls == 0 && !c.offsets64 && first == 0) {
            for (std::size_t i = 0; i < c.rows; ++i)
                if (offset_at(c, i + 1) < offset_at(c, i)) return bad("row " + std::to_string(i) + ": offsets decrease");
            b.borrow(static_cast<const std::int32_t*>(c.offsets) + c.offset, (c.rows + 1) * 4);
            b.borrow(c.bytes, static_cast<std::size_t>(last));
            return {};
        }
        // Rebased 32-bit offsets of the present values.
        const std::size_t n = c.rows - nulls;
        std::uint8_t* out = b.own_space((n + 1) * 4);
        std::uint64_t total = 0;
        std::memset(out, 0, 4);
        std::size_t k = 1;
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (!present(c, i)) continue;
            const std::int64_t from = offset_at(c, i), to = offset_at(c, i + 1);
            if (from < 0 || to < from) return bad("row " + std::to_string(i) + ": offsets negative or decreasing");
            total += static_cast<std::uint64_t>(to - from);
            if (total > std::numeric_limits<std::int32_t>::max()) return bad("over 2 GiB of bytes");
            const auto t32 = static_cast<std::uint32_t>(total);
            std::memcpy(out + 4 * k++, &t32, 4);
        }
        if (nulls == 0) {
            b.borrow(c.bytes + first, static_cast<std::size_t>(last - first));
            return {};
        }
        std::uint8_t* data = b.own_space(total);
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (!present(c, i)) continue;
            const std::int64_t from = offset_at(c, i), to = offset_at(c, i + 1);
            std::memcpy(data, c.bytes + from, static_cast<std::size_t>(to - from));
            data += to - from;
        }
        return {};
    }

    result<void> arrays(bool bitmap) {
        if ((!c.offsets && c.rows) || !c.offsets64) return bad("an array column needs 64-bit offsets");
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (!present(c, i) && bitmap) continue;
            const std::int64_t from = offset_at(c, i), to = offset_at(c, i + 1);
            if (from < 0 || to <= from) return bad("row " + std::to_string(i) + ": array offsets negative or not increasing");
            b.own(c.bytes + from, static_cast<std::size_t>(to - from));
        }
        return {};
    }

    // An id's varint as symbols() stores it (see message_builder::symbol_ids):
    // the low 16 bits go out as one 2-byte store, first byte first.
    static_assert(std::endian::native == std::endian::little, "symbols() stores varint bytes as a little-endian word");
    static std::uint32_t wire_form(std::uint32_t id) noexcept {
        if (id < 0x80) return id | 1u << 16;
        if (id < 0x4000) return ((id & 0x7f) | 0x80 | (id >> 7) << 8) | 2u << 16;
        return 3u << 16;
    }

    result<void> symbols(bool bitmap, std::size_t n) {
        if (!c.values && c.rows) return bad("no values");
        // Bulk intern: each dictionary entry that a row references, once.
        auto& map = b.ids_for(c.dict, c.rows);
        std::vector<std::uint32_t>& l2g = map.ids;
        std::uint8_t* out = b.own_space(n * 5);  // at most 5 bytes per 32-bit id
        std::size_t used = 0;
        if (!bitmap) {
            // The common case (no NULL, whether or not a validity bitmap says
            // so), without per-row null checks: codes of one width. A row is
            // a load of its entry's wire form, one 2-byte store and an add
            // (a one-byte id's second byte is overwritten by the next row).
            // Locals only inside the loop: stores through a byte pointer may
            // alias anything, so members and captures would be reloaded per row.
            auto run = [&](const auto* codes) -> result<void> {
                const std::size_t dict_size = c.dict.size(), rows = c.rows;
                codes += c.offset;
                std::uint32_t* wire = map.wire.data();
                std::uint8_t* o = out;
                std::size_t i = 0;
                // Eight rows at a time when their entries are interned and
                // short: the eight loads go before any store, so no load
                // waits behind a store it only seems to depend on (the
                // table and the output share low address bits).
                for (; i + 8 <= rows; i += 8) {
                    std::uint32_t w[8];
                    bool plain = true;
                    for (std::size_t k = 0; k < 8; ++k) {
                        const auto code = static_cast<std::uint32_t>(codes[i + k]);
                        w[k] = code < dict_size ? wire[code] : 0;
                        plain &= w[k] - 1 < (3u << 16) - 1;  // neither 0 nor a long id
                    }
                    if (!plain) break;  // the row loop below takes it from here
                    for (std::size_t k = 0; k < 8; ++k) {
                        const auto bytes = static_cast<std::uint16_t>(w[k]);
                        std::memcpy(o, &bytes, 2);
                        o += w[k] >> 16;
                    }
                }
                for (; i < rows; ++i) {
                    const auto code = static_cast<std::uint32_t>(codes[i]);
                    if (code >= dict_size) return bad_code(i, code);
                    std::uint32_t w = wire[code];
                    if (w == 0) [[unlikely]] {
                        auto g = b.dict().intern(c.dict[code]);
                        if (!g) return g.error();
                        l2g[code] = *g;
                        w = wire[code] = wire_form(*g);
                    }
                    if (w < 3u << 16) [[likely]] {
                        const auto bytes = static_cast<std::uint16_t>(w);
                        std::memcpy(o, &bytes, 2);
                        o += w >> 16;
                    } else {
                        o += qwp::put_varint(o, l2g[code]);
                    }
                }
                used = static_cast<std::size_t>(o - out);
                return {};
            };
            result<void> r = c.code_width == 1   ? run(static_cast<const std::int8_t*>(c.values))
                             : c.code_width == 2 ? run(static_cast<const std::int16_t*>(c.values))
                                                 : run(static_cast<const std::int32_t*>(c.values));
            if (!r) return r;
            b.unown(n * 5 - used);
            return {};
        }
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (!present(c, i)) {
                if (bitmap) continue;
            }
            const std::uint32_t code = code_at(c, i);
            if (code >= c.dict.size()) return bad_code(i, code);
            std::uint32_t id = l2g[code];
            if (id == std::numeric_limits<std::uint32_t>::max()) {
                auto g = b.dict().intern(c.dict[code]);
                if (!g) return g.error();
                id = l2g[code] = *g;
                map.wire[code] = wire_form(id);
            }
            used += qwp::put_varint(out + used, id);
        }
        b.unown(n * 5 - used);
        return {};
    }
};

}  // namespace qwire::qwp::detail
