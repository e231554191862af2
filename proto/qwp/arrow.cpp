#include <qwire/proto/qwp/arrow.hpp>

#include <array>
#include <climits>
#include <memory>

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

// ---------------------------------------------------------------- export

namespace {

struct exported_array {
    decoded_table table;
    std::vector<std::vector<std::uint8_t>> validity;  // per column; empty: no NULL
    std::vector<std::vector<std::byte>> converted;    // per column: BOOLEAN bits, 64-bit or empty offsets
    std::vector<std::array<const void*, 3>> buffers;
    std::vector<ArrowArray> children;
    std::vector<ArrowArray*> child_ptrs;
    const void* top[1] = {nullptr};
};

struct exported_schema {
    std::vector<std::string> formats, names;
    std::vector<ArrowSchema> children;
    std::vector<ArrowSchema*> child_ptrs;
};

void release_child_array(ArrowArray* a) { a->release = nullptr; }
void release_child_schema(ArrowSchema* s) { s->release = nullptr; }

void release_array(ArrowArray* a) {
    delete static_cast<exported_array*>(a->private_data);
    a->release = nullptr;
}

void release_schema(ArrowSchema* s) {
    delete static_cast<exported_schema*>(s->private_data);
    s->release = nullptr;
}

const char* arrow_format(type t) {
    switch (t) {
    case type::boolean: return "b";
    case type::byte: return "c";
    case type::short_: return "s";
    case type::int_: return "i";
    case type::long_: return "l";
    case type::float_: return "f";
    case type::double_: return "g";
    case type::char_: return "S";
    case type::ipv4: return "I";
    case type::date: return "tdm";
    case type::timestamp: return "tsu:";
    case type::timestamp_nanos: return "tsn:";
    case type::uuid: return "w:16";
    case type::long256: return "w:32";
    case type::varchar: case type::symbol: return "u";
    case type::binary: return "z";
    default: return nullptr;
    }
}

const std::byte zero_bytes[32] = {};

}  // namespace

result<void> export_arrow(decoded_table&& t, ArrowSchema* schema, ArrowArray* array) {
    if (!schema || !array) return error(errc::bad_arrow, "export_arrow: null ArrowSchema or ArrowArray");
    for (const auto& c : t.columns)
        if (!arrow_format(c.type))
            return error(errc::bad_arrow, "column '" + c.name + "' (" + std::string(type_name(c.type)) + "): no Arrow export");
    auto a = std::make_unique<exported_array>();
    auto sc = std::make_unique<exported_schema>();
    a->table = std::move(t);
    const std::size_t n = a->table.columns.size(), rows = a->table.rows;
    a->validity.resize(n);
    a->converted.resize(n);
    a->buffers.resize(n);
    a->children.resize(n);
    sc->formats.resize(n);
    sc->names.resize(n);
    sc->children.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const decoded_column& c = a->table.columns[i];
        std::string format = arrow_format(c.type);
        // The validity buffer appears with the first NULL (none: no buffer).
        std::int64_t nulls = 0;
        auto& bits = a->validity[i];
        for (std::size_t r = 0; r < rows; ++r) {
            if (c.is_null(r)) {
                if (nulls++ == 0) {
                    bits.assign((rows + 7) / 8, 0);
                    for (std::size_t k = 0; k < r; ++k) bits[k >> 3] |= static_cast<std::uint8_t>(1u << (k & 7));
                }
            } else if (nulls > 0) {
                bits[r >> 3] |= static_cast<std::uint8_t>(1u << (r & 7));
            }
        }
        auto& buf = a->buffers[i];
        buf = {a->validity[i].empty() ? nullptr : a->validity[i].data(), nullptr, nullptr};
        std::int64_t n_buffers = 2;
        if (c.type == type::boolean) {
            auto& bits = a->converted[i];
            bits.assign((rows + 7) / 8, std::byte{0});
            for (std::size_t r = 0; r < rows && r < c.fixed.size(); ++r)
                if (std::to_integer<int>(c.fixed[r]) != 0) bits[r >> 3] |= static_cast<std::byte>(1u << (r & 7));
            buf[1] = bits.empty() ? zero_bytes : bits.data();
        } else if (c.type == type::varchar || c.type == type::symbol || c.type == type::binary) {
            n_buffers = 3;
            const bool large = !c.offsets.empty() && c.offsets.back() > static_cast<std::uint32_t>(INT32_MAX);
            auto& conv = a->converted[i];
            if (large) {
                format = c.type == type::binary ? "Z" : "U";
                conv.resize((rows + 1) * 8);
                for (std::size_t r = 0; r <= rows; ++r) {
                    const std::int64_t v = r < c.offsets.size() ? c.offsets[r] : c.offsets.back();
                    std::memcpy(conv.data() + r * 8, &v, 8);
                }
                buf[1] = conv.data();
            } else if (c.offsets.size() == rows + 1) {
                buf[1] = c.offsets.data();  // u32 offsets below 2^31 are Arrow's int32
            } else {
                conv.assign((rows + 1) * 4, std::byte{0});  // no rows (or no text): all offsets 0
                buf[1] = conv.data();
            }
            buf[2] = c.bytes.empty() ? zero_bytes : c.bytes.data();
        } else if (c.type == type::uuid) {
            // Arrow's UUID bytes are in RFC (big-endian) order, QWP's the
            // 128-bit value little-endian: reversed, as append_arrow does.
            auto& conv = a->converted[i];
            conv.resize(rows * 16);
            for (std::size_t r = 0; r < rows && (r + 1) * 16 <= c.fixed.size(); ++r)
                for (std::size_t k = 0; k < 16; ++k) conv[r * 16 + k] = c.fixed[r * 16 + 15 - k];
            buf[1] = conv.empty() ? zero_bytes : conv.data();
        } else {
            buf[1] = c.fixed.empty() ? zero_bytes : c.fixed.data();
        }
        ArrowArray& child = a->children[i];
        child = ArrowArray{static_cast<std::int64_t>(rows), nulls, 0, n_buffers, 0, buf.data(), nullptr, nullptr,
                           release_child_array, nullptr};
        sc->formats[i] = std::move(format);
        sc->names[i] = c.name.empty() ? "timestamp" : c.name;
        sc->children[i] = ArrowSchema{sc->formats[i].c_str(), sc->names[i].c_str(), nullptr, ARROW_FLAG_NULLABLE, 0, nullptr,
                                      nullptr, release_child_schema, nullptr};
    }
    for (auto& c : a->children) a->child_ptrs.push_back(&c);
    for (auto& c : sc->children) sc->child_ptrs.push_back(&c);
    *array = ArrowArray{static_cast<std::int64_t>(rows), 0, 0, 1, static_cast<std::int64_t>(n), a->top,
                        a->child_ptrs.data(), nullptr, release_array, a.get()};
    *schema = ArrowSchema{"+s", "", nullptr, 0, static_cast<std::int64_t>(n), sc->child_ptrs.data(), nullptr,
                          release_schema, sc.get()};
    a.release();
    sc.release();
    return {};
}

}  // namespace qwire::qwp
