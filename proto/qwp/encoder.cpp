#include <qwire/proto/qwp/encoder.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>

namespace qwire::qwp {

namespace {
// Equality for the short strings names and symbols are: overlapping word
// loads instead of a call to memcmp.
inline bool same_text(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    const char *p = a.data(), *q = b.data();
    auto word8 = [](const char* x) {
        std::uint64_t w;
        std::memcpy(&w, x, 8);
        return w;
    };
    auto word4 = [](const char* x) {
        std::uint32_t w;
        std::memcpy(&w, x, 4);
        return w;
    };
    if (n >= 8) {
        if (n > 64) return std::memcmp(p, q, n) == 0;
        std::uint64_t diff = word8(p + n - 8) ^ word8(q + n - 8);
        for (std::size_t i = 0; i + 8 <= n; i += 8) diff |= word8(p + i) ^ word8(q + i);
        return diff == 0;
    }
    if (n >= 4) return ((word4(p) ^ word4(q)) | (word4(p + n - 4) ^ word4(q + n - 4))) == 0;
    unsigned diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(p[i] ^ q[i]);
    return diff == 0;
}
}  // namespace

// ---------------------------------------------------------------- symbols

std::uint64_t symbol_dict::hash_of(std::string_view s) noexcept {
    // 8 bytes at a time, each folded in with a 64x64->128 multiply.
    __extension__ typedef unsigned __int128 u128;
    auto mix = [](std::uint64_t a, std::uint64_t b) {
        const u128 m = static_cast<u128>(a ^ b) * 0x9e3779b97f4a7c15ULL;
        return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
    };
    std::uint64_t h = 0xa0761d6478bd642fULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = mix(h, w);
    }
    if (i < s.size()) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = mix(h, w ^ 0xe7037ed1a0b428dbULL);
    }
    return mix(h, 0x8ebc6af09c88c6e3ULL);
}

void symbol_dict::grow() {
    std::vector<slot> bigger(slots_.empty() ? 64 : slots_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (const slot& e : slots_) {
        if (e.id == empty) continue;
        std::size_t i = e.hash & mask;
        while (bigger[i].id != empty) i = (i + 1) & mask;
        bigger[i] = e;
    }
    slots_.swap(bigger);
}

std::size_t symbol_dict::probe(std::string_view s, std::uint64_t h) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        const slot& e = slots_[i];
        if (e.id == empty || (e.hash == h && same_text(entries_[e.id], s))) return i;
    }
}

std::optional<std::uint32_t> symbol_dict::find(std::string_view s) const noexcept {
    if (slots_.empty()) return std::nullopt;
    const std::uint32_t id = slots_[probe(s, hash_of(s))].id;
    if (id == empty) return std::nullopt;
    return id;
}

result<std::uint32_t> symbol_dict::intern(std::string_view s) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash_of(s);
    const std::size_t i = probe(s, h);
    if (slots_[i].id != empty) return slots_[i].id;
    if (entries_.size() >= cap_) return make_error_code(errc::symbol_cap);
    auto copy = std::make_unique<char[]>(s.size() ? s.size() : 1);
    std::memcpy(copy.get(), s.data(), s.size());
    const std::string_view stored(copy.get(), s.size());
    storage_.push_back(std::move(copy));
    const auto id = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(stored);
    slots_[i] = slot{h, id};
    return id;
}

// ---------------------------------------------------------------- builder

std::vector<std::uint32_t>& message_builder::ids_for(std::span<const std::string_view> dict, std::size_t rows) {
    constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    // Checking a kept map costs a compare per entry: worth it only when the
    // chunk has about as many rows as the dictionary has entries.
    const bool keep = dict.size() <= 4 * rows + 64;
    symbol_ids* slot = nullptr;
    for (auto& e : symbol_ids_)
        if (e.key == dict.data()) slot = &e;
    if (!slot || !keep) {
        slot = &symbol_ids_[next_symbol_ids_++ % symbol_ids_.size()];
        slot->key = keep ? dict.data() : nullptr;
        slot->ids.assign(dict.size(), none);
        return slot->ids;
    }
    // A position keeps its id only while the entry there still reads as the
    // string interned under that id (the caller may have changed it, or the
    // dictionary may have been cleared).
    slot->ids.resize(dict.size(), none);
    const symbol_dict& d = *dict_;
    for (std::size_t k = 0; k < dict.size(); ++k) {
        const std::uint32_t id = slot->ids[k];
        if (id != none && (id >= d.size() || !same_text(d.at(id), dict[k]))) slot->ids[k] = none;
    }
    return slot->ids;
}

void message_builder::own(const void* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(own_space(n), p, n);
}

std::uint8_t* message_builder::own_space(std::size_t n) {
    const std::size_t off = owned_.size();
    auto space = owned_.prepare(n);
    owned_.commit(n);
    if (!segments_.empty() && segments_.back().ptr == nullptr && segments_.back().off + segments_.back().len == off)
        segments_.back().len += n;
    else
        segments_.push_back({nullptr, off, n});
    body_bytes_ += n;
    return reinterpret_cast<std::uint8_t*>(space.data());
}

void message_builder::borrow(const void* p, std::size_t n) {
    if (n == 0) return;
    // Small pieces are cheaper copied than carried as an extra iovec.
    if (n < 256) return own(p, n);
    segments_.push_back({static_cast<const std::byte*>(p), 0, n});
    body_bytes_ += n;
}

void message_builder::put_varint(std::uint64_t v) {
    std::uint8_t tmp[max_varint];
    own(tmp, qwp::put_varint(tmp, v));
}

void message_builder::put_string(std::string_view s) {
    put_varint(s.size());
    own(s.data(), s.size());
}

void message_builder::clear() {
    owned_.clear();
    segments_.clear();
    body_bytes_ = 0;
    tables_ = 0;
    pieces_.clear();
}

std::span<const const_buffer> message_builder::finish(std::uint8_t extra_flags) { return finish(extra_flags, {}); }

std::span<const const_buffer> message_builder::finish(std::uint8_t extra_flags, std::span<const std::byte> prefix) {
    prefix_.assign(prefix.begin(), prefix.end());
    delta_.clear();
    std::uint8_t tmp[max_varint];
    const std::size_t start = dict_->sent(), count = dict_->size() - start;
    delta_.append(tmp, qwp::put_varint(tmp, start));
    delta_.append(tmp, qwp::put_varint(tmp, count));
    for (std::size_t i = start; i < dict_->size(); ++i) {
        const std::string_view s = dict_->at(i);
        delta_.append(tmp, qwp::put_varint(tmp, s.size()));
        delta_.append(s.data(), s.size());
    }
    dict_->mark_sent();
    const std::size_t payload = prefix_.size() + delta_.size() + body_bytes_;
    std::memcpy(head_.data(), magic, 4);
    head_[4] = version;
    head_[5] = static_cast<std::uint8_t>(flags::delta_symbol_dict | (opt_.gorilla ? flags::gorilla : 0) | extra_flags);
    head_[6] = static_cast<std::uint8_t>(tables_);
    head_[7] = static_cast<std::uint8_t>(tables_ >> 8);
    for (int i = 0; i < 4; ++i) head_[8 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
    pieces_.clear();
    pieces_.push_back({head_.data(), header_size});
    if (!prefix_.empty()) pieces_.push_back({prefix_.data(), prefix_.size()});
    pieces_.push_back({delta_.data().data(), delta_.size()});
    const std::byte* base = owned_.data().data();
    for (const auto& s : segments_) pieces_.push_back({s.ptr ? s.ptr : base + s.off, s.len});
    return pieces_;
}

namespace {
std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}
}  // namespace

std::size_t message_builder::message_size() const noexcept {
    std::size_t n = header_size + varint_size(dict_->sent()) + varint_size(dict_->size() - dict_->sent());
    for (std::size_t i = dict_->sent(); i < dict_->size(); ++i) n += varint_size(dict_->at(i).size()) + dict_->at(i).size();
    return n + body_bytes_;
}

message_builder::mark_t message_builder::mark() const noexcept {
    return {owned_.size(), segments_.size(), body_bytes_, tables_, segments_.empty() ? 0 : segments_.back().len};
}

void message_builder::reset_to(const mark_t& m) noexcept {
    owned_.unwrite(owned_.size() - m.owned);
    segments_.resize(m.segments);
    if (!segments_.empty()) segments_.back().len = m.last_len;
    body_bytes_ = m.body;
    tables_ = m.tables;
}

std::vector<std::byte> catchup_message(const symbol_dict& dict, std::size_t from, std::size_t to) {
    std::vector<std::byte> out(header_size);
    std::uint8_t tmp[max_varint];
    auto put = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out.insert(out.end(), b, b + n);
    };
    put(tmp, qwp::put_varint(tmp, from));
    put(tmp, qwp::put_varint(tmp, to - from));
    for (std::size_t i = from; i < to; ++i) {
        put(tmp, qwp::put_varint(tmp, dict.at(i).size()));
        put(dict.at(i).data(), dict.at(i).size());
    }
    const auto payload = static_cast<std::uint32_t>(out.size() - header_size);
    std::memcpy(out.data(), magic, 4);
    out[4] = std::byte{version};
    out[5] = std::byte{flags::delta_symbol_dict | flags::defer_commit};
    out[6] = out[7] = std::byte{0};
    std::memcpy(out.data() + 8, &payload, 4);
    return out;
}

std::size_t catchup_end(const symbol_dict& dict, std::size_t from, std::size_t max_bytes) {
    std::size_t size = header_size + 2 * max_varint, to = from;
    while (to < dict.size()) {
        const std::size_t add = varint_size(dict.at(to).size()) + dict.at(to).size();
        if (to > from && size + add > max_bytes) break;
        size += add;
        ++to;
    }
    return to;
}

std::vector<std::byte> message_builder::finish_copy(std::uint8_t extra_flags) {
    std::vector<std::byte> out;
    for (const auto& p : finish(extra_flags)) {
        const auto* b = static_cast<const std::byte*>(p.data);
        out.insert(out.end(), b, b + p.size);
    }
    return out;
}

// ---------------------------------------------------------------- columns

namespace {

bool present(const column_view& c, std::size_t i) noexcept {
    if (!c.validity) return true;
    const std::size_t j = c.offset + i;
    return (c.validity[j >> 3] >> (j & 7)) & 1;
}

std::size_t count_nulls(const column_view& c) noexcept {
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

std::int64_t offset_at(const column_view& c, std::size_t i) noexcept {
    const std::size_t j = c.offset + i;
    if (c.offsets64) return static_cast<const std::int64_t*>(c.offsets)[j];
    return static_cast<const std::int32_t*>(c.offsets)[j];
}

std::uint32_t code_at(const column_view& c, std::size_t i) noexcept {
    const std::size_t j = c.offset + i;
    switch (c.code_width) {
    case 1: return static_cast<std::uint32_t>(static_cast<const std::int8_t*>(c.values)[j]);
    case 2: return static_cast<std::uint32_t>(static_cast<const std::int16_t*>(c.values)[j]);
    default: return static_cast<std::uint32_t>(static_cast<const std::int32_t*>(c.values)[j]);
    }
}

bool valid_name(std::string_view n) noexcept { return n.size() <= max_name_bytes; }

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
std::optional<std::vector<std::uint8_t>> gorilla(std::span<const std::int64_t> t) {
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

}  // namespace

struct column_writer {
    message_builder& b;
    const column_view& c;

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
            if (c.scale > 76) return make_error_code(errc::bad_column);
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
        if (!c.values && c.rows) return make_error_code(errc::bad_column);
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
        if (!c.values && c.rows) return make_error_code(errc::bad_column);
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
        if (c.geohash_bits < 1 || c.geohash_bits > 60 || (!c.values && c.rows)) return make_error_code(errc::bad_column);
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
        if (!c.offsets || (!c.bytes && c.rows)) return make_error_code(errc::bad_column);
        const std::int64_t first = offset_at(c, 0), last = offset_at(c, c.rows);
        if (first < 0 || last < first) return make_error_code(errc::bad_column);
        if (nulls == 0 && !c.offsets64 && first == 0) {
            for (std::size_t i = 0; i < c.rows; ++i)
                if (offset_at(c, i + 1) < offset_at(c, i)) return make_error_code(errc::bad_column);
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
            if (from < 0 || to < from) return make_error_code(errc::bad_column);
            total += static_cast<std::uint64_t>(to - from);
            if (total > std::numeric_limits<std::int32_t>::max()) return make_error_code(errc::bad_column);
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
        if ((!c.offsets && c.rows) || !c.offsets64) return make_error_code(errc::bad_column);
        for (std::size_t i = 0; i < c.rows; ++i) {
            if (!present(c, i) && bitmap) continue;
            const std::int64_t from = offset_at(c, i), to = offset_at(c, i + 1);
            if (from < 0 || to <= from) return make_error_code(errc::bad_column);
            b.own(c.bytes + from, static_cast<std::size_t>(to - from));
        }
        return {};
    }

    result<void> symbols(bool bitmap, std::size_t n) {
        if (!c.values && c.rows) return make_error_code(errc::bad_column);
        // Bulk intern: each dictionary entry that a row references, once.
        std::vector<std::uint32_t>& l2g = b.ids_for(c.dict, c.rows);
        std::uint8_t* out = b.own_space(n * 5);  // at most 5 bytes per 32-bit id
        std::size_t used = 0;
        if (!c.validity) {
            // The common case, without per-row null checks: codes of one width.
            // Locals only inside the loop: stores through a byte pointer may
            // alias anything, so members and captures would be reloaded per row.
            auto run = [&](const auto* codes) -> result<void> {
                const std::size_t dict_size = c.dict.size(), rows = c.rows;
                codes += c.offset;
                std::uint32_t* map = l2g.data();
                std::uint8_t* o = out;
                for (std::size_t i = 0; i < rows; ++i) {
                    const auto code = static_cast<std::uint32_t>(codes[i]);
                    if (code >= dict_size) return make_error_code(errc::bad_column);
                    std::uint32_t id = map[code];
                    if (id == std::numeric_limits<std::uint32_t>::max()) {
                        auto g = b.dict().intern(c.dict[code]);
                        if (!g) return g.error();
                        id = map[code] = *g;
                    }
                    if (id < 0x4000) {
                        // One or two bytes without a branch (ids of a small
                        // dictionary mix both at random).
                        const std::uint32_t two = id >= 0x80;
                        o[0] = static_cast<std::uint8_t>(id | (two << 7));
                        o[1] = static_cast<std::uint8_t>(id >> 7);
                        o += 1 + two;
                    } else {
                        o += qwp::put_varint(o, id);
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
            if (code >= c.dict.size()) return make_error_code(errc::bad_column);
            std::uint32_t id = l2g[code];
            if (id == std::numeric_limits<std::uint32_t>::max()) {
                auto g = b.dict().intern(c.dict[code]);
                if (!g) return g.error();
                id = l2g[code] = *g;
            }
            used += qwp::put_varint(out + used, id);
        }
        b.unown(n * 5 - used);
        return {};
    }
};

void message_builder::unown(std::size_t n) {
    // Gives back the unused tail of the last own_space().
    owned_.unwrite(n);
    segments_.back().len -= n;
    body_bytes_ -= n;
}

result<void> message_builder::add_table(std::string_view name, std::size_t rows, std::span<const column_view> columns) {
    return add_block(name, rows, columns, false, true);
}

result<void> message_builder::add_result_block(std::size_t rows, std::span<const column_view> columns, bool with_schema) {
    return add_block({}, rows, columns, true, with_schema);
}

result<void> message_builder::add_block(std::string_view name, std::size_t rows, std::span<const column_view> columns,
                                        bool egress, bool with_schema) {
    if ((name.empty() && !egress) || !valid_name(name)) return make_error_code(errc::bad_name);
    if (rows > (egress ? std::size_t{1} << 20 : max_rows_per_table)) return make_error_code(errc::too_many_rows);
    if (columns.size() > max_columns) return make_error_code(errc::too_many_columns);
    if (tables_ >= 0xFFFF) return make_error_code(errc::bad_length);
    const std::size_t owned_before = owned_.size(), segments_before = segments_.size(), body_before = body_bytes_;
    auto undo = [&](std::error_code ec) -> result<void> {
        owned_.unwrite(owned_.size() - owned_before);
        segments_.resize(segments_before);
        if (!segments_.empty() && segments_.back().ptr == nullptr)
            segments_.back().len = std::min(segments_.back().len, owned_before - segments_.back().off);
        body_bytes_ = body_before;
        return ec;
    };
    put_string(name);
    put_varint(rows);
    if (with_schema) put_varint(columns.size());
    for (const auto& c : columns) {
        if (!valid_name(c.name) || (c.name.empty() && !is_timestamp(c.type) && !egress))
            return undo(make_error_code(errc::bad_name));
        if (!known_type(static_cast<std::uint8_t>(c.type))) return undo(make_error_code(errc::bad_type));
        if (c.rows != rows) return undo(make_error_code(errc::bad_column));
        if (!with_schema) continue;
        put_string(c.name);
        put_u8(static_cast<std::uint8_t>(c.type));
    }
    for (const auto& c : columns) {
        column_writer w{*this, c};
        if (auto r = w.write(); !r) return undo(r.error());
    }
    ++tables_;
    return {};
}

// ---------------------------------------------------------------- arrays

namespace {
template <class T>
void encode_array_impl(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const T> v) {
    out.push_back(static_cast<std::byte>(dims.size()));
    for (std::uint32_t d : dims) {
        const auto* p = reinterpret_cast<const std::byte*>(&d);
        out.insert(out.end(), p, p + 4);
    }
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    out.insert(out.end(), p, p + v.size_bytes());
}
}  // namespace

void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const double> v) {
    encode_array_impl(out, dims, v);
}
void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const std::int64_t> v) {
    encode_array_impl(out, dims, v);
}

// ---------------------------------------------------------------- chunk

chunk& chunk::add(const column_view& c) {
    if (c.rows != rows_) check(false);
    columns_.push_back(c);
    return *this;
}

chunk& chunk::boolean(std::string_view name, const std::uint8_t* bits, const std::uint8_t* validity) {
    column_view c = base(name, type::boolean, validity);
    c.values = bits;
    check(bits != nullptr);
    return add(c);
}

chunk& chunk::decimal(std::string_view name, qwp::type t, const void* values, std::uint8_t scale,
                      const std::uint8_t* validity) {
    column_view c = base(name, t, validity);
    c.values = values;
    c.scale = scale;
    check(is_decimal(t) && values && scale <= 76);
    return add(c);
}

chunk& chunk::geohash(std::string_view name, std::span<const std::uint64_t> v, std::uint8_t bits,
                      const std::uint8_t* validity) {
    column_view c = base(name, type::geohash, validity);
    c.values = v.data();
    c.geohash_bits = bits;
    check(v.size() >= rows_ && bits >= 1 && bits <= 60);
    return add(c);
}

chunk& chunk::varchar(std::string_view name, std::span<const std::int32_t> offsets, const std::byte* bytes,
                      const std::uint8_t* validity, qwp::type t) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::varchar || t == type::binary));
    return add(c);
}

chunk& chunk::varchar(std::string_view name, std::span<const std::int64_t> offsets, const std::byte* bytes,
                      const std::uint8_t* validity, qwp::type t) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.offsets64 = true;
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::varchar || t == type::binary));
    return add(c);
}

chunk& chunk::array(std::string_view name, qwp::type t, std::span<const std::int64_t> offsets, const std::byte* bytes,
                    const std::uint8_t* validity) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.offsets64 = true;
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::double_array || t == type::long_array));
    return add(c);
}

result<void> encode(message_builder& b, const chunk& c, std::size_t from, std::size_t count) {
    if (c.error()) return c.error();
    if (from + count > c.rows()) return make_error_code(errc::bad_column);
    std::vector<column_view> cols;
    cols.reserve(c.columns().size());
    for (const auto& v : c.columns()) cols.push_back(v.sliced(from, count));
    return b.add_table(c.table(), count, cols);
}

// ---------------------------------------------------------------- buffer

namespace {
// A column's own symbol dictionary survives clear() (the next batch most
// likely names the same symbols) unless it has grown past this.
constexpr std::size_t kept_dictionary = 4096;
}  // namespace

struct row_buffer::column_store {
    std::string name;
    qwp::type type;
    std::uint8_t scale = 0;
    std::uint8_t geohash_bits = 0;
    std::size_t rows = 0;
    bool has_null = false;
    std::vector<std::uint8_t> validity;
    byte_buffer values;  // fixed-width values, or boolean bits
    std::vector<std::int64_t> offsets{0};
    std::vector<std::byte> bytes;
    std::vector<std::int32_t> codes;
    symbol_dict dict{static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())};  // codes: first-use order
    mutable std::vector<std::string_view> dict_views;
    bool used = false;  // named by a row since the last clear()

    // Empty again, keeping the capacity for the next batch.
    void reset() {
        rows = 0;
        has_null = false;
        used = false;
        scale = 0;
        geohash_bits = 0;
        validity.clear();
        values.clear();
        offsets.assign(1, 0);
        bytes.clear();
        codes.clear();
        if (dict.size() > kept_dictionary) dict.clear();
    }

    // The validity bitmap exists only once the batch has a NULL in this
    // column; until then every row is present and nothing is recorded.
    void mark(bool present) {
        if (has_null || !present) mark_with_bitmap(present);
    }
    void mark_with_bitmap(bool present) {
        if (!has_null) {
            validity.assign(rows / 8 + 1, 0);
            std::memset(validity.data(), 0xff, rows / 8);
            for (std::size_t i = rows & ~std::size_t{7}; i < rows; ++i)
                validity[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
            has_null = true;
        }
        if (validity.size() * 8 <= rows) validity.push_back(0);
        if (present) validity[rows >> 3] |= static_cast<std::uint8_t>(1u << (rows & 7));
    }
    void append_fixed(const void* p, std::size_t w) {
        auto* out = values.prepare(w).data();
        // The widths there are, as constants: each copy inlines.
        switch (w) {
        case 1: std::memcpy(out, p, 1); break;
        case 2: std::memcpy(out, p, 2); break;
        case 4: std::memcpy(out, p, 4); break;
        case 8: std::memcpy(out, p, 8); break;
        case 16: std::memcpy(out, p, 16); break;
        case 32: std::memcpy(out, p, 32); break;
        default: std::memcpy(out, p, w); break;
        }
        values.commit(w);
    }
    // Boolean columns: one bit per row, LSB first.
    void append_bit(bool v) {
        if (values.size() * 8 <= rows) {
            const std::byte zero{};
            values.append(&zero, 1);
        }
        if (v) values.data()[rows >> 3] |= static_cast<std::byte>(1u << (rows & 7));
    }
    void append_null() {
        mark(false);
        switch (type) {
        case type::boolean: append_bit(false); break;
        case type::geohash: {
            const std::uint64_t z = 0;
            append_fixed(&z, 8);
            break;
        }
        case type::symbol: codes.push_back(0); break;
        case type::varchar: case type::binary: case type::double_array: case type::long_array:
            offsets.push_back(offsets.back());
            break;
        default: {
            const std::size_t w = fixed_width(type);
            std::memset(values.prepare(w).data(), 0, w);
            values.commit(w);
            break;
        }
        }
        ++rows;
    }
    column_view view() const {
        column_view v;
        v.name = name;
        v.type = type;
        v.rows = rows;
        v.validity = has_null ? validity.data() : nullptr;
        v.values = type == type::symbol ? static_cast<const void*>(codes.data()) : values.data().data();
        v.offsets = offsets.data();
        v.offsets64 = true;
        v.bytes = bytes.data();
        v.scale = scale;
        v.geohash_bits = geohash_bits;
        if (type == type::symbol) {
            dict_views.resize(dict.size());
            for (std::size_t i = 0; i < dict.size(); ++i) dict_views[i] = dict.at(i);
            v.dict = dict_views;
            v.code_width = 4;
        }
        return v;
    }
};

struct row_buffer::table_store {
    std::string name;
    std::size_t rows = 0;
    std::vector<std::unique_ptr<column_store>> columns;
    // Column names numbered in creation order: an id is the column's place.
    symbol_dict index{max_columns};
    std::size_t hint = 0;  // where the next column of a row most likely is

    // Out of line: the per-row lookup stays small.
    [[gnu::noinline]] column_store* add_column(std::string_view name, qwp::type t) {
        (void)index.intern(name);  // cannot fail: callers check max_columns first
        auto fresh = std::make_unique<column_store>();
        fresh->name = std::string(name);
        fresh->type = t;
        columns.push_back(std::move(fresh));
        return columns.back().get();
    }
};

row_buffer::row_buffer() = default;
row_buffer::~row_buffer() = default;
row_buffer::row_buffer(row_buffer&&) noexcept = default;
row_buffer& row_buffer::operator=(row_buffer&&) noexcept = default;

row_buffer::row row_buffer::table(std::string_view name) {
    for (auto& t : tables_)
        if (t->name == name) return row(*this, *t);
    if ((name.empty() || !valid_name(name)) && !error_) error_ = make_error_code(errc::bad_name);
    auto t = std::make_unique<table_store>();
    t->name = std::string(name);
    tables_.push_back(std::move(t));
    return row(*this, *tables_.back());
}

std::size_t row_buffer::row_count() const noexcept {
    std::size_t n = 0;
    for (const auto& t : tables_) n += t->rows;
    return n;
}

void row_buffer::clear() {
    // Tables and columns stay (with their capacity), emptied: a steady
    // stream of rows allocates nothing after its first batch.
    for (auto& t : tables_) {
        t->rows = 0;
        t->hint = 0;
        for (auto& c : t->columns) c->reset();
    }
    error_.clear();
}

std::vector<chunk> row_buffer::chunks() const {
    std::vector<chunk> out;
    if (error_) return out;
    for (const auto& t : tables_) {
        if (t->rows == 0) continue;
        chunk c(t->name, t->rows);
        for (const auto& col : t->columns)
            if (col->used) c.add(col->view());
        out.push_back(std::move(c));
    }
    return out;
}

result<void> row_buffer::encode(message_builder& b) const {
    if (error_) return error_;
    for (const auto& c : chunks())
        if (auto r = qwp::encode(b, c); !r) return r;
    return {};
}

row_buffer::column_store* row_buffer::row::col(std::string_view name, qwp::type t) {
    if (b_->error_) return nullptr;
    auto fail = [&](errc e) -> column_store* {
        b_->error_ = make_error_code(e);
        return nullptr;
    };
    auto& cols = t_->columns;
    column_store* c = nullptr;
    // Rows name their columns in the same order, row after row: try the
    // column after the last one first.
    std::size_t at = t_->hint < cols.size() && same_text(cols[t_->hint]->name, name) ? t_->hint : cols.size();
    if (at == cols.size()) {
        if (auto id = t_->index.find(name)) at = *id;
    }
    if (at < cols.size()) {
        c = cols[at].get();
    } else {
        if (!valid_name(name) || (name.empty() && !is_timestamp(t))) return fail(errc::bad_name);
        if (cols.size() >= max_columns) return fail(errc::too_many_columns);
        c = t_->add_column(name, t);
    }
    t_->hint = at + 1;
    if (!c->used) {
        // First named in this batch: it takes this call's type (a batch may
        // send a column with another type than the last; the server
        // decides), and NULL for the rows before.
        if (c->type != t) {
            c->type = t;
            c->dict.clear();
        }
        c->used = true;
        for (std::size_t i = 0; i < t_->rows; ++i) c->append_null();
    }
    if (c->type != t) return fail(errc::bad_column);
    if (c->rows != t_->rows) return fail(errc::bad_column);  // set twice in one row
    return c;
}

row_buffer::row& row_buffer::row::symbol(std::string_view name, std::string_view v) {
    if (auto* c = col(name, type::symbol)) {
        auto code = c->dict.intern(v);
        if (!code) {
            b_->error_ = code.error();
            return *this;
        }
        c->codes.push_back(static_cast<std::int32_t>(*code));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, bool v) {
    if (auto* c = col(name, type::boolean)) {
        c->append_bit(v);
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, std::int64_t v) { return typed(name, type::long_, &v); }
row_buffer::row& row_buffer::row::column(std::string_view name, double v) { return typed(name, type::double_, &v); }

row_buffer::row& row_buffer::row::typed(std::string_view name, qwp::type t, const void* value, std::uint8_t scale) {
    if (fixed_width(t) == 0) {
        b_->error_ = make_error_code(errc::bad_type);
        return *this;
    }
    if (auto* c = col(name, t)) {
        if (is_decimal(t)) {
            if (c->rows > 0 && c->scale != scale && !c->has_null) {
                b_->error_ = make_error_code(errc::bad_column);  // one scale per column
                return *this;
            }
            c->scale = scale;
        }
        c->append_fixed(value, fixed_width(t));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, std::string_view v) {
    if (auto* c = col(name, type::varchar)) {
        const auto* p = reinterpret_cast<const std::byte*>(v.data());
        c->bytes.insert(c->bytes.end(), p, p + v.size());
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::binary(std::string_view name, std::span<const std::byte> v) {
    if (auto* c = col(name, type::binary)) {
        c->bytes.insert(c->bytes.end(), v.begin(), v.end());
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::geohash(std::string_view name, std::uint64_t v, std::uint8_t bits) {
    if (bits < 1 || bits > 60) {
        b_->error_ = make_error_code(errc::bad_column);
        return *this;
    }
    if (auto* c = col(name, type::geohash)) {
        if (c->geohash_bits && c->geohash_bits != bits) {
            b_->error_ = make_error_code(errc::bad_column);
            return *this;
        }
        c->geohash_bits = bits;
        c->append_fixed(&v, 8);
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

namespace {
template <class T>
bool array_ok(std::span<const std::uint32_t> dims, std::span<const T> v) {
    if (dims.empty() || dims.size() > 32) return false;
    std::uint64_t n = 1;
    for (std::uint32_t d : dims) {
        if (d > 0x7FFFFFFFu) return false;
        n *= d;
        if (n > (1u << 28)) return false;
    }
    return n == v.size();
}
}  // namespace

row_buffer::row& row_buffer::row::array(std::string_view name, std::span<const std::uint32_t> dims, std::span<const double> v) {
    if (!array_ok(dims, v)) {
        b_->error_ = make_error_code(errc::bad_column);
        return *this;
    }
    if (auto* c = col(name, type::double_array)) {
        encode_array(c->bytes, dims, v);
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::array(std::string_view name, std::span<const std::uint32_t> dims,
                                std::span<const std::int64_t> v) {
    if (!array_ok(dims, v)) {
        b_->error_ = make_error_code(errc::bad_column);
        return *this;
    }
    if (auto* c = col(name, type::long_array)) {
        encode_array(c->bytes, dims, v);
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::null(std::string_view name, qwp::type t) {
    if (auto* c = col(name, t)) c->append_null();
    return *this;
}

void row_buffer::row::at(std::int64_t ts, qwp::type t) {
    if (!is_timestamp(t)) {
        if (!b_->error_) b_->error_ = make_error_code(errc::bad_type);
        return;
    }
    typed("", t, &ts);
    at_now();
}

void row_buffer::row::at_now() {
    if (b_->error_) return;
    for (auto& c : t_->columns)
        if (c->used && c->rows == t_->rows) c->append_null();
    ++t_->rows;
    t_->hint = 0;
}

}  // namespace qwire::qwp
