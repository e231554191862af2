#include <qwire/proto/qwp/arrow.hpp>

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

namespace qwire::qwp {

namespace {

std::error_code bad() { return make_error_code(errc::bad_arrow); }

// The basic shape every array must have.
bool sane(const ArrowSchema& s, const ArrowArray& a, std::int64_t want_buffers) {
    if (!s.release || !a.release || !s.format) return false;
    if (a.length < 0 || a.offset < 0 || a.null_count < -1) return false;
    if (a.length > std::numeric_limits<std::int64_t>::max() - a.offset) return false;
    if (a.n_buffers != want_buffers || (want_buffers > 0 && !a.buffers)) return false;
    if (a.n_children < 0 || s.n_children < 0) return false;
    // Buffer 0 (validity) may be null when nothing is null; data buffers not
    // (an empty array may leave them null).
    for (std::int64_t i = 1; i < want_buffers; ++i)
        if (!a.buffers[i] && a.length > 0) return false;
    if (a.null_count != 0 && a.length > 0 && !a.buffers[0] && want_buffers > 0) {
        // A null count without a bitmap is only allowed when it is -1 (unknown)
        // and nothing is null; treat a missing bitmap as all present.
        if (a.null_count > 0) return false;
    }
    return true;
}

const std::uint8_t* validity(const ArrowArray& a) { return static_cast<const std::uint8_t*>(a.buffers[0]); }

bool starts_with(const char* s, const char* prefix) { return std::strncmp(s, prefix, std::strlen(prefix)) == 0; }

template <class O>
bool offsets_ok(const ArrowArray& a) {
    if (a.length == 0) return true;
    const O* o = static_cast<const O*>(a.buffers[1]);
    if (o[a.offset] < 0) return false;
    for (std::int64_t i = 0; i < a.length; ++i)
        if (o[a.offset + i + 1] < o[a.offset + i]) return false;
    return true;
}

}  // namespace

result<void> append_arrow(chunk& c, std::string_view name_in, const ArrowSchema& s, const ArrowArray& a) {
    if (!s.release || !a.release || !s.format) return bad();
    if (static_cast<std::uint64_t>(a.length) != c.rows() || a.length < 0) return bad();
    const std::string_view name = c.keep(std::string(name_in));
    const std::string_view fmt = s.format;
    column_view v;
    v.name = name;
    v.rows = c.rows();
    v.offset = static_cast<std::size_t>(a.offset);

    // Dictionary-encoded strings: symbols.
    if (s.dictionary) {
        if (!a.dictionary) return bad();
        const ArrowSchema& ds = *s.dictionary;
        const ArrowArray& da = *a.dictionary;
        if (!sane(s, a, 2) || !sane(ds, da, 3) || !ds.format) return bad();
        const std::string_view dfmt = ds.format;
        if (dfmt != "u" && dfmt != "U") return bad();
        const bool large = dfmt == "U";
        if (large ? !offsets_ok<std::int64_t>(da) : !offsets_ok<std::int32_t>(da)) return bad();
        std::vector<std::string_view> dict;
        dict.reserve(static_cast<std::size_t>(da.length));
        const char* bytes = static_cast<const char*>(da.buffers[2]);
        for (std::int64_t i = 0; i < da.length; ++i) {
            const std::int64_t j = da.offset + i;
            std::int64_t from, to;
            if (large) {
                from = static_cast<const std::int64_t*>(da.buffers[1])[j];
                to = static_cast<const std::int64_t*>(da.buffers[1])[j + 1];
            } else {
                from = static_cast<const std::int32_t*>(da.buffers[1])[j];
                to = static_cast<const std::int32_t*>(da.buffers[1])[j + 1];
            }
            dict.emplace_back(bytes + from, static_cast<std::size_t>(to - from));
        }
        const auto& kept = c.keep(std::move(dict));
        v.type = type::symbol;
        v.validity = validity(a);
        v.values = a.buffers[1];
        v.dict = kept;
        if (fmt == "c") v.code_width = 1;
        else if (fmt == "s") v.code_width = 2;
        else if (fmt == "i") v.code_width = 4;
        else return bad();
        // Codes must be in the dictionary (the encoder checks again).
        for (std::size_t i = 0; i < v.rows; ++i) {
            const std::size_t j = v.offset + i;
            if (v.validity && !((v.validity[j >> 3] >> (j & 7)) & 1)) continue;
            std::int64_t code = v.code_width == 1   ? static_cast<const std::int8_t*>(v.values)[j]
                                : v.code_width == 2 ? static_cast<const std::int16_t*>(v.values)[j]
                                                    : static_cast<const std::int32_t*>(v.values)[j];
            if (code < 0 || static_cast<std::uint64_t>(code) >= kept.size()) return bad();
        }
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }

    struct fixed {
        const char* format;
        type t;
    };
    static constexpr fixed fixed_formats[] = {
        {"c", type::byte}, {"s", type::short_}, {"i", type::int_}, {"l", type::long_}, {"f", type::float_},
        {"g", type::double_}, {"S", type::char_}, {"I", type::ipv4}, {"tdm", type::date}, {"w:16", type::uuid},
        {"w:32", type::long256},
    };
    for (const auto& f : fixed_formats) {
        if (fmt != f.format) continue;
        if (!sane(s, a, 2) || a.n_children != 0) return bad();
        v.type = f.t;
        v.validity = validity(a);
        v.values = a.buffers[1];
        if (f.t == type::uuid && a.length > 0) {
            // Arrow keeps a UUID's 16 bytes in RFC (big-endian) order; QWP
            // wants the 128-bit value little-endian: the bytes reversed.
            // (Rows before the offset stay zero: views index from 0.)
            const auto* src = static_cast<const std::uint8_t*>(a.buffers[1]);
            std::vector<std::uint8_t> le(16 * static_cast<std::size_t>(a.offset + a.length));
            for (std::size_t i = 16 * static_cast<std::size_t>(a.offset); i < le.size(); i += 16)
                for (std::size_t k = 0; k < 16; ++k) le[i + k] = src[i + 15 - k];
            v.values = c.keep(std::move(le)).data();
        }
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    if (starts_with(s.format, "tsu:") || starts_with(s.format, "tsn:")) {
        if (!sane(s, a, 2)) return bad();
        v.type = fmt[2] == 'u' ? type::timestamp : type::timestamp_nanos;
        v.validity = validity(a);
        v.values = a.buffers[1];
        if (name.empty() && v.validity && a.null_count != 0) return bad();  // designated: never null
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    if (name.empty()) return bad();  // only a timestamp can be the designated column
    if (fmt == "b") {
        if (!sane(s, a, 2)) return bad();
        v.type = type::boolean;
        v.validity = validity(a);
        v.values = a.buffers[1];
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    if (fmt == "u" || fmt == "U" || fmt == "z" || fmt == "Z") {
        if (!sane(s, a, 3)) return bad();
        const bool large = fmt == "U" || fmt == "Z";
        if (large ? !offsets_ok<std::int64_t>(a) : !offsets_ok<std::int32_t>(a)) return bad();
        v.type = fmt == "u" || fmt == "U" ? type::varchar : type::binary;
        v.validity = validity(a);
        v.offsets = a.buffers[1];
        v.offsets64 = large;
        v.bytes = static_cast<const std::byte*>(a.buffers[2]);
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    if (starts_with(s.format, "d:")) {
        // d:precision,scale[,bitwidth]
        if (!sane(s, a, 2)) return bad();
        int precision = 0, scale = 0, bits = 128;
        const int n = std::sscanf(s.format, "d:%d,%d,%d", &precision, &scale, &bits);
        if (n < 2 || scale < 0 || scale > 76 || (bits != 64 && bits != 128 && bits != 256)) return bad();
        v.type = bits == 64 ? type::decimal64 : bits == 128 ? type::decimal128 : type::decimal256;
        v.scale = static_cast<std::uint8_t>(scale);
        v.validity = validity(a);
        v.values = a.buffers[1];
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    if (fmt == "+l") {
        // list<float64 | int64>: one-dimensional arrays, pre-encoded.
        if (!sane(s, a, 2) || s.n_children != 1 || a.n_children != 1 || !s.children || !a.children ||
            !s.children[0] || !a.children[0])
            return bad();
        const ArrowSchema& cs = *s.children[0];
        const ArrowArray& ca = *a.children[0];
        if (!sane(cs, ca, 2) || !offsets_ok<std::int32_t>(a)) return bad();
        const std::string_view cfmt = cs.format;
        if (cfmt != "g" && cfmt != "l") return bad();
        if (ca.buffers[0] && ca.null_count != 0) return bad();  // element NULLs: use NaN / the LONG minimum
        const auto* offs = static_cast<const std::int32_t*>(a.buffers[1]);
        const std::int64_t last = a.length ? offs[a.offset + a.length] : 0;
        if (last > ca.length) return bad();
        std::vector<std::int64_t> enc_offsets(1, 0);
        std::vector<std::byte> enc;
        const std::uint8_t* valid = validity(a);
        for (std::int64_t i = 0; i < a.length; ++i) {
            const std::int64_t j = a.offset + i;
            if (!valid || ((valid[j >> 3] >> (j & 7)) & 1)) {
                const auto from = static_cast<std::size_t>(offs[j] + ca.offset);
                const auto count = static_cast<std::uint32_t>(offs[j + 1] - offs[j]);
                const std::uint32_t dims[] = {count};
                if (cfmt == "g")
                    encode_array(enc, dims, std::span(static_cast<const double*>(ca.buffers[1]) + from, count));
                else
                    encode_array(enc, dims, std::span(static_cast<const std::int64_t*>(ca.buffers[1]) + from, count));
            }
            enc_offsets.push_back(static_cast<std::int64_t>(enc.size()));
        }
        const auto& ko = c.keep(std::move(enc_offsets));
        const auto& kb = c.keep(std::move(enc));
        v.type = cfmt == "g" ? type::double_array : type::long_array;
        v.validity = valid;
        v.offset = 0;
        if (valid && a.offset % 8 != 0) {
            // Re-base the bitmap with the offset dropped.
            std::vector<std::uint8_t> bits((static_cast<std::size_t>(a.length) + 7) / 8, 0);
            for (std::int64_t i = 0; i < a.length; ++i) {
                const std::int64_t j = a.offset + i;
                if ((valid[j >> 3] >> (j & 7)) & 1) bits[static_cast<std::size_t>(i) >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
            }
            v.validity = c.keep(std::move(bits)).data();
        } else if (valid) {
            v.validity = valid + a.offset / 8;
        }
        v.offsets = ko.data();
        v.offsets64 = true;
        v.bytes = kb.data();
        c.add(v);
        return c.error() ? result<void>(c.error()) : result<void>{};
    }
    return bad();
}

result<chunk> chunk_from_arrow(std::string table, const ArrowSchema& s, const ArrowArray& a, std::string_view designated) {
    if (!s.release || !a.release || !s.format || std::string_view(s.format) != "+s") return bad();
    if (a.length < 0 || a.offset != 0 || s.n_children != a.n_children || s.n_children < 0) return bad();
    if (s.n_children > 0 && (!s.children || !a.children)) return bad();
    if (a.null_count > 0) return bad();  // a batch has no NULL rows
    chunk c(std::move(table), static_cast<std::size_t>(a.length));
    for (std::int64_t i = 0; i < s.n_children; ++i) {
        if (!s.children[i] || !a.children[i]) return bad();
        const ArrowSchema& cs = *s.children[i];
        const std::string_view name = cs.name ? std::string_view(cs.name) : std::string_view();
        if (name.empty()) return bad();
        auto r = append_arrow(c, name == designated ? std::string_view() : name, cs, *a.children[i]);
        if (!r) return r.error();
    }
    return c;
}

}  // namespace qwire::qwp
