#include <qwire/proto/kdb/codec.hpp>

#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>

namespace qwire::kdb {

// ---- header ----

result<header> parse_header(std::span<const std::byte> bytes) {
    if (bytes.size() < header_size) return errc::truncated;
    const auto* b = reinterpret_cast<const std::uint8_t*>(bytes.data());
    header h;
    if (b[0] > 1 || b[1] > 2 || b[2] > 2) return errc::bad_header;
    h.little_endian = b[0] == 1;
    h.type = static_cast<msg_type>(b[1]);
    h.compressed = b[2];
    std::uint32_t len;
    std::memcpy(&len, b + 4, 4);
    if (!h.little_endian) len = __builtin_bswap32(len);
    // Byte 3 carries bits 32..39 of the length in messages over 4 GB
    // (capability 5/6). KX does not document this; it is how the one public
    // reader of such messages does it. Provisional.
    h.length = len + (std::uint64_t{b[3]} << 32);
    if (h.length < header_size + 2) return errc::bad_header;
    return h;
}

void write_header(std::span<std::byte> out, msg_type t, std::uint64_t length, std::uint8_t compressed) {
    auto* b = reinterpret_cast<std::uint8_t*>(out.data());
    b[0] = 1;
    b[1] = static_cast<std::uint8_t>(t);
    b[2] = compressed;
    b[3] = static_cast<std::uint8_t>(length >> 32);
    const auto low = static_cast<std::uint32_t>(length);
    std::memcpy(b + 4, &low, 4);
}

// ---- encoding ----

namespace {

result<std::size_t> size_of(const k& x, int cap);

result<std::size_t> size_of_all(std::span<const k> items, int cap) {
    std::size_t n = 0;
    for (const k& i : items) {
        auto s = size_of(i, cap);
        if (!s) return s;
        n += *s;
    }
    return n;
}

bool allowed(type_t t, int cap) {
    const int a = t < 0 ? -t : t;
    if (a == qtype::guid) return cap >= 3;
    if (a == qtype::timestamp || a == qtype::timespan) return cap >= 1;
    return true;
}

result<std::size_t> size_of(const k& x, int cap) {
    const auto& n = x.node();
    const type_t t = n.t;
    if (t < 0 && t != qtype::error) {
        if (!allowed(t, cap)) return errc::capability;
        if (t == -qtype::symbol) return 2 + n.s.size();
        return 1 + item_size(static_cast<type_t>(-t));
    }
    if (is_simple_vector(t)) {
        if (!allowed(t, cap)) return errc::capability;
        return 6 + n.data.size();
    }
    switch (t) {
        case qtype::list: {
            auto s = size_of_all(n.items, cap);
            if (!s) return s;
            return 6 + *s;
        }
        case qtype::dict:
        case qtype::sorted_dict:
        case qtype::table: {
            auto s = size_of_all(n.items, cap);
            if (!s) return s;
            return (t == qtype::table ? 3 : 1) + *s;
        }
        case qtype::error: return 2 + n.s.size();
        case qtype::lambda: {
            auto s = size_of_all(n.items, cap);
            if (!s) return s;
            return 2 + n.s.size() + *s;
        }
        case qtype::unary_primitive:
        case qtype::binary_primitive:
        case qtype::iterator: return 2;
        case qtype::projection:
        case qtype::composition: {
            auto s = size_of_all(n.items, cap);
            if (!s) return s;
            return 5 + *s;
        }
        default:
            if (t >= qtype::each && t <= qtype::dynamic_load) {
                auto s = size_of_all(n.items, cap);
                if (!s) return s;
                return 1 + *s;
            }
            return errc::bad_type;
    }
}

class writer {
public:
    explicit writer(std::byte* p) : p_(reinterpret_cast<std::uint8_t*>(p)) {}
    std::uint8_t* pos() const { return p_; }

    void byte(std::uint8_t b) { *p_++ = b; }
    void raw(const void* src, std::size_t n) {
        if (n) std::memcpy(p_, src, n);
        p_ += n;
    }
    void i32(std::int32_t v) { raw(&v, 4); }  // the host is little-endian (x86-64, aarch64)
    void text(const std::string& s) {
        raw(s.data(), s.size());
        byte(0);
    }

    void object(const k& x) {
        const auto& n = x.node();
        const type_t t = n.t;
        byte(static_cast<std::uint8_t>(t));
        if (t < 0 && t != qtype::error) {
            if (t == -qtype::symbol)
                text(n.s);
            else
                raw(&n.v, item_size(static_cast<type_t>(-t)));
            return;
        }
        if (is_simple_vector(t)) {
            byte(n.attribute);
            i32(static_cast<std::int32_t>(n.n));
            raw(n.data.data(), n.data.size());
            return;
        }
        switch (t) {
            case qtype::list:
                byte(n.attribute);
                i32(static_cast<std::int32_t>(n.items.size()));
                for (const k& i : n.items) object(i);
                return;
            case qtype::table:
                byte(n.attribute);
                byte(static_cast<std::uint8_t>(qtype::dict));
                [[fallthrough]];
            case qtype::dict:
            case qtype::sorted_dict:
                for (const k& i : n.items) object(i);
                return;
            case qtype::error: text(n.s); return;
            case qtype::lambda:
                text(n.s);
                for (const k& i : n.items) object(i);
                return;
            case qtype::unary_primitive:
            case qtype::binary_primitive:
            case qtype::iterator: byte(n.opcode); return;
            case qtype::projection:
            case qtype::composition:
                i32(static_cast<std::int32_t>(n.items.size()));
                for (const k& i : n.items) object(i);
                return;
            default:
                for (const k& i : n.items) object(i);
                return;
        }
    }

private:
    std::uint8_t* p_;
};

}  // namespace

result<std::size_t> encoded_size(const k& x, int capability) { return size_of(x, capability); }

result<void> encode(const k& x, byte_buffer& out, int capability) {
    auto size = size_of(x, capability);
    if (!size) return size.error();
    writer w(out.prepare(*size).data());
    w.object(x);
    out.commit(*size);
    return {};
}

result<void> encode_message(const k& x, msg_type t, byte_buffer& out, bool compress_it, int capability) {
    auto body = size_of(x, capability);
    if (!body) return body.error();
    const std::uint64_t total = header_size + *body;
    // Up to capability 3 a message must stay under 2 GB; 5 and 6 allow up to
    // 1 TB (provisional framing, see parse_header).
    if (total > (capability >= 5 ? (std::uint64_t{1} << 40) - 1 : 0x7fffffffu)) return errc::too_large;
    auto write_plain = [&](byte_buffer& b) {
        auto span = b.prepare(total);
        write_header(span, t, total);
        writer(span.data() + header_size).object(x);
        b.commit(total);
    };
    if (!compress_it || total <= 2000) {
        write_plain(out);
        return {};
    }
    byte_buffer plain(total);
    write_plain(plain);
    if (!kdb::compress(plain.data(), out)) out.append(plain.data().data(), total);  // not worth it: send plain
    return {};
}

// ---- decoding ----

namespace {

// Records where each of the first n NUL-terminated names in [p, end) starts
// (off[0] = 0); returns how many terminators were found (n when all were).
// 16 bytes at a time: symbol vectors are mostly short names.
std::size_t find_terminators(const std::uint8_t* p, const std::uint8_t* end, std::size_t* off, std::size_t n) {
    if (n == 0) return 0;
    off[0] = 0;
    std::size_t found = 0;
    const std::uint8_t* q = p;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    while (q + 16 <= end) {
        auto mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), zero)));
        while (mask) {
            const auto bit = static_cast<unsigned>(__builtin_ctz(mask));
            mask &= mask - 1;
            if (++found == n) return found;
            off[found] = static_cast<std::size_t>(q - p) + bit + 1;
        }
        q += 16;
    }
#endif
    for (; q < end; ++q)
        if (*q == 0) {
            if (++found == n) return found;
            off[found] = static_cast<std::size_t>(q - p) + 1;
        }
    return found;
}

class reader {
public:
    reader(std::span<const std::byte> in, bool le, const limits& lim)
        : p_(reinterpret_cast<const std::uint8_t*>(in.data())), end_(p_ + in.size()), le_(le), lim_(lim) {}

    bool at_end() const { return p_ == end_; }
    std::size_t consumed(std::span<const std::byte> in) const {
        return static_cast<std::size_t>(p_ - reinterpret_cast<const std::uint8_t*>(in.data()));
    }

    result<k> object() {
        if (++depth_ > lim_.max_depth) return errc::too_deep;
        if (!charge(node_cost)) return errc::too_large;
        auto r = object_inner();
        --depth_;
        return r;
    }

private:
    // What one decoded object costs in memory besides its items: the node
    // and the shared_ptr's control block (make_shared allocates them together).
    static constexpr std::uint64_t node_cost = sizeof(detail::node) + 16;

    // Counts memory the decoded value will hold against lim_.max_decoded_bytes,
    // before it is allocated: a list of two-byte atoms is 150 bytes an item
    // in memory, so the wire size alone does not bound what a message costs.
    bool charge(std::uint64_t bytes) {
        decoded_ += bytes;
        return decoded_ <= lim_.max_decoded_bytes;
    }

    std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

    bool take(void* dst, std::size_t n) {
        if (left() < n) return false;
        if (n) std::memcpy(dst, p_, n);
        p_ += n;
        return true;
    }
    result<std::uint8_t> u8() {
        if (left() < 1) return errc::truncated;
        return *p_++;
    }
    result<std::int32_t> i32() {
        std::uint32_t v;
        if (!take(&v, 4)) return errc::truncated;
        return static_cast<std::int32_t>(le_ ? v : __builtin_bswap32(v));
    }
    result<std::int32_t> count() {
        auto n = i32();
        if (n && *n < 0) return errc::negative_count;
        return n;
    }
    result<std::string> text() {
        const void* nul = std::memchr(p_, 0, left());
        if (!nul) return errc::unterminated_symbol;
        std::string s(reinterpret_cast<const char*>(p_), static_cast<const std::uint8_t*>(nul) - p_);
        p_ = static_cast<const std::uint8_t*>(nul) + 1;
        return s;
    }

    static void swap_items(std::byte* data, std::size_t n, std::size_t size) {
        auto* b = reinterpret_cast<std::uint8_t*>(data);
        for (std::size_t i = 0; i < n; ++i, b += size) {
            if (size == 2) {
                std::uint16_t v;
                std::memcpy(&v, b, 2);
                v = __builtin_bswap16(v);
                std::memcpy(b, &v, 2);
            } else if (size == 4) {
                std::uint32_t v;
                std::memcpy(&v, b, 4);
                v = __builtin_bswap32(v);
                std::memcpy(b, &v, 4);
            } else if (size == 8) {
                std::uint64_t v;
                std::memcpy(&v, b, 8);
                v = __builtin_bswap64(v);
                std::memcpy(b, &v, 8);
            }
        }
    }

    result<k> atom(type_t t) {
        const type_t vt = static_cast<type_t>(-t);
        if (vt == qtype::symbol) {
            auto s = text();
            if (!s) return s.error();
            k x = new_symbol("");
            x.node().s = std::move(*s);
            return x;
        }
        auto n = detail::new_node();
        n->t = t;
        const std::size_t size = item_size(vt);
        if (!take(&n->v, size)) return errc::truncated;
        if (!le_ && vt != qtype::guid) swap_items(reinterpret_cast<std::byte*>(&n->v), 1, size);
        return k(std::move(n));
    }

    result<k> vector(type_t t) {
        auto a = u8();
        if (!a) return a.error();
        auto c = count();
        if (!c) return c.error();
        const auto n = static_cast<std::size_t>(*c);
        auto node = detail::new_node();
        node->t = t;
        node->attribute = *a;
        node->n = n;
        if (t == qtype::symbol) {
            // Find the n terminators in one pass, then copy the names in one go.
            if (n > left()) return errc::truncated;
            if (!charge(std::uint64_t{n} * (sizeof(std::size_t) + 1))) return errc::too_large;
            node->offsets.resize(n);
            const std::size_t found = find_terminators(p_, end_, node->offsets.data(), n);
            if (found < n) return errc::unterminated_symbol;
            const std::size_t bytes = n == 0 ? 0 : node->offsets[n - 1] + std::strlen(reinterpret_cast<const char*>(p_) + node->offsets[n - 1]) + 1;
            node->data.resize(bytes);
            take(node->data.data(), node->data.size());
            return k(std::move(node));
        }
        const std::size_t size = item_size(t);
        if (n > left() / size) return errc::truncated;
        if (!charge(std::uint64_t{n} * size)) return errc::too_large;
        node->data.resize(n * size);
        take(node->data.data(), n * size);
        if (!le_ && size > 1 && t != qtype::guid) swap_items(node->data.data(), n, size);
        return k(std::move(node));
    }

    static k function_of(type_t t, detail::k_vector parts) {
        auto n = detail::new_node();
        n->t = t;
        n->items = std::move(parts);
        return k(std::move(n));
    }

    result<detail::k_vector> objects(std::size_t n) {
        // Every object takes at least one byte: a count beyond what is left
        // is a lie, and must not size an allocation.
        if (n > left()) return errc::truncated;
        if (!charge(std::uint64_t{n} * sizeof(k))) return errc::too_large;
        detail::k_vector items;
        items.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            auto x = object();
            if (!x) return x.error();
            items.push_back(std::move(*x));
        }
        return items;
    }

    result<k> object_inner() {
        auto tb = u8();
        if (!tb) return tb.error();
        const auto t = static_cast<type_t>(*tb);
        if (is_atom(t)) return atom(t);
        if (is_simple_vector(t)) return vector(t);
        if (t >= 20 && t <= 76) return errc::enumeration;
        switch (t) {
            case qtype::list: {
                auto a = u8();
                if (!a) return a.error();
                auto c = count();
                if (!c) return c.error();
                auto items = objects(static_cast<std::size_t>(*c));
                if (!items) return items.error();
                k x = detail::list_of(std::move(*items));
                x.node().attribute = *a;
                return x;
            }
            case qtype::dict:
            case qtype::sorted_dict: {
                // Built through the same checks as new_dict: a decoded value
                // holds the same invariants as one built in C++.
                auto items = objects(2);
                if (!items) return items.error();
                return new_dict(std::move((*items)[0]), std::move((*items)[1]), t == qtype::sorted_dict);
            }
            case qtype::table: {
                auto a = u8();
                if (!a) return a.error();
                auto d = object();
                if (!d) return d.error();
                const auto& dn = d->node();
                if (dn.t != qtype::dict || dn.items[0].type() != qtype::symbol || dn.items[1].type() != qtype::list)
                    return errc::bad_type;
                auto tab = new_table(dn.items[0], dn.items[1]);
                if (!tab) return tab.error();
                tab->node().attribute = *a;
                return tab;
            }
            case qtype::error: {
                auto s = text();
                if (!s) return s.error();
                k x = new_error("");
                x.node().s = std::move(*s);
                return x;
            }
            case qtype::lambda: {
                auto ctx = text();
                if (!ctx) return ctx.error();
                auto body = objects(1);
                if (!body) return body.error();
                auto n = detail::new_node();
                n->t = t;
                n->s = std::move(*ctx);
                n->items = std::move(*body);
                return k(std::move(n));
            }
            case qtype::unary_primitive:
            case qtype::binary_primitive:
            case qtype::iterator: {
                auto op = u8();
                if (!op) return op.error();
                return new_primitive(t, *op);
            }
            case qtype::projection:
            case qtype::composition: {
                auto c = count();
                if (!c) return c.error();
                auto items = objects(static_cast<std::size_t>(*c));
                if (!items) return items.error();
                return function_of(t, std::move(*items));
            }
            default:
                if (t >= qtype::each && t <= qtype::dynamic_load) {
                    auto items = objects(1);
                    if (!items) return items.error();
                    return function_of(t, std::move(*items));
                }
                return errc::bad_type;
        }
    }

    const std::uint8_t* p_;
    const std::uint8_t* end_;
    bool le_;
    const limits& lim_;
    unsigned depth_ = 0;
    std::uint64_t decoded_ = 0;
};

}  // namespace

result<std::pair<k, std::size_t>> decode_prefix(std::span<const std::byte> bytes, bool little_endian,
                                               const limits& lim) {
    reader r(bytes, little_endian, lim);
    auto x = r.object();
    if (!x) return x.error();
    return std::pair{std::move(*x), r.consumed(bytes)};
}

result<k> decode(std::span<const std::byte> body, bool little_endian, const limits& lim) {
    reader r(body, little_endian, lim);
    auto x = r.object();
    if (!x) return x;
    if (!r.at_end()) return errc::trailing_bytes;
    return x;
}

result<message> decode_message(std::span<const std::byte> bytes, const limits& lim) {
    auto h = parse_header(bytes);
    if (!h) return h.error();
    if (h->length != bytes.size()) return errc::truncated;
    if (h->length > lim.max_message_bytes) return errc::too_large;
    if (h->compressed) {
        byte_buffer plain;
        if (auto r = decompress(bytes, plain, lim); !r) return r.error();
        auto x = decode(plain.data().subspan(header_size), h->little_endian, lim);
        if (!x) return x.error();
        return message{h->type, std::move(*x)};
    }
    auto x = decode(bytes.subspan(header_size), h->little_endian, lim);
    if (!x) return x.error();
    return message{h->type, std::move(*x)};
}

bool operator==(const k& a, const k& b) {
    byte_buffer x, y;
    if (!encode(a, x, 6) || !encode(b, y, 6)) return false;
    return x.size() == y.size() && std::memcmp(x.data().data(), y.data().data(), x.size()) == 0;
}

}  // namespace qwire::kdb
