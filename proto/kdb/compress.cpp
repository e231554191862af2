// kdb+ IPC compression.
//
// An LZ-style scheme over the uncompressed message with a 256-entry table of
// positions keyed by the XOR of two adjacent bytes. The stream is groups of
// up to eight items behind a flag byte (bit k set: item k is a back
// reference (key, extra) copying 2 + extra bytes from the table's position;
// clear: one literal byte). The encoder below follows kdb+'s choices exactly
// (when positions are hashed, the 255-byte cap, giving up within 17 bytes of
// the half-size budget), so its output matches kdb+'s byte for byte; the
// decoder validates every reference instead of trusting the stream.
#include <qwire/proto/kdb/codec.hpp>

#include <array>
#include <bit>
#include <cstring>

namespace qwire::kdb {
namespace {

std::uint32_t load_u32(const std::byte* p, bool le) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return le ? v : __builtin_bswap32(v);
}

// Where the bytes from s stop matching those from p (p < s), at most limit:
// eight bytes compared at a time, the first differing byte found from the
// XOR of the two words (a reference copies up to 257 bytes; a byte loop
// spent most of compress() here).
std::size_t match_end(const std::uint8_t* y, std::size_t p, std::size_t s, std::size_t limit) {
    while (s + 8 <= limit) {
        std::uint64_t a, b;
        std::memcpy(&a, y + p, 8);
        std::memcpy(&b, y + s, 8);
        if (const std::uint64_t x = a ^ b) {
            // The lowest address is the lowest byte on a little-endian machine.
            const unsigned same = std::endian::native == std::endian::little ? std::countr_zero(x) / 8
                                                                            : std::countl_zero(x) / 8;
            return s + same;
        }
        s += 8;
        p += 8;
    }
    while (s < limit && y[p] == y[s]) {
        ++s;
        ++p;
    }
    return s;
}

// Room copy_reference may write past the end of the message.
constexpr std::size_t copy_slack = 32;

// Copies a back reference of len bytes from dst + r to dst + s (r < s). The
// two may overlap: the copy then repeats the pattern [r, s) as kdb+'s byte
// loop does. Whole 16-byte words throughout, which may write up to
// copy_slack bytes past s + len; the caller leaves that room, and later
// items overwrite those bytes before anything reads them.
//
// References in a table are mostly short (a third under 32 bytes) and either
// far back or a repeated 8-byte value, so: a far one copies 32 bytes without
// a loop (no trip count to mispredict), a repeated 8-byte value is stored
// from a register, and any other short pattern is doubled in place until it
// is 32 bytes long (each step copies [r, s) right behind itself, so it reads
// only bytes already written).
inline void copy_reference(std::uint8_t* dst, std::size_t r, std::size_t s, std::size_t len) {
    const std::size_t end = s + len;
    std::size_t dist = s - r;
    if (dist == 8) {
        std::uint64_t v;
        std::memcpy(&v, dst + r, 8);
        for (; s < end; s += 16) {
            std::memcpy(dst + s, &v, 8);
            std::memcpy(dst + s + 8, &v, 8);
        }
        return;
    }
    while (dist < 32 && s < end) {
        std::uint8_t w[32];
        std::memcpy(w, dst + r, 32);  // only the first dist bytes matter
        std::memcpy(dst + s, w, 32);
        s += dist;
        dist *= 2;
    }
    if (s >= end) return;
    std::memcpy(dst + s, dst + s - dist, 16);
    std::memcpy(dst + s + 16, dst + s + 16 - dist, 16);
    for (s += 32; s < end; s += 16) std::memcpy(dst + s, dst + s - dist, 16);
}

}  // namespace

bool compress(std::span<const std::byte> message, byte_buffer& out) {
    const auto* y = reinterpret_cast<const std::uint8_t*>(message.data());
    const std::size_t t = message.size();
    if (t < header_size + 2 || t > 0xffffffffu) return false;
    const std::size_t budget = t / 2;  // the compressed message must fit in half
    if (budget < 12 + 17) return false;
    out.reserve(budget);
    auto* w = reinterpret_cast<std::uint8_t*>(out.prepare(budget).data());

    std::memcpy(w, y, 4);
    w[2] = 1;
    const auto orig = static_cast<std::uint32_t>(t);
    std::memcpy(w + 8, &orig, 4);  // uncompressed size, little-endian like the header we write

    std::array<std::uint32_t, 256> table{};
    std::size_t flag_pos = 12, d = 12;
    std::uint8_t flags = 0, bit = 0;
    std::size_t s = header_size;
    std::size_t pending = 0;  // a literal's position, hashed one step late
    std::uint8_t pending_key = 0, key = 0;

    while (s < t) {
        if (bit == 0) {
            if (d > budget - 17) return false;  // not worth it: send uncompressed
            w[flag_pos] = flags;
            flag_pos = d++;
            flags = 0;
            bit = 1;
        }
        bool literal = s > t - 3;
        std::size_t p = 0;
        if (!literal) {
            key = static_cast<std::uint8_t>(y[s] ^ y[s + 1]);
            p = table[key];
            literal = p == 0 || y[s] != y[p];
        }
        if (pending) {
            table[pending_key] = static_cast<std::uint32_t>(pending);
            pending = 0;
        }
        if (literal) {
            pending_key = key;
            pending = s;
            w[d++] = y[s++];
        } else {
            table[key] = static_cast<std::uint32_t>(s);
            flags |= bit;
            p += 2;
            s += 2;
            const std::size_t start = s;
            const std::size_t limit = std::min(s + 255, t);
            s = match_end(y, p, s, limit);
            w[d++] = key;
            w[d++] = static_cast<std::uint8_t>(s - start);
        }
        bit = static_cast<std::uint8_t>(bit << 1);
    }
    w[flag_pos] = flags;
    const auto total = static_cast<std::uint32_t>(d);
    std::memcpy(w + 4, &total, 4);
    if (y[0] == 0) {  // a big-endian message keeps its byte order
        const std::uint32_t be_total = __builtin_bswap32(total), be_orig = __builtin_bswap32(orig);
        std::memcpy(w + 4, &be_total, 4);
        std::memcpy(w + 8, &be_orig, 4);
    }
    out.commit(d);
    return true;
}

result<void> decompress(std::span<const std::byte> message, byte_buffer& out, const limits& lim) {
    auto h = parse_header(message);
    if (!h) return h.error();
    if (h->compressed == 0) return errc::bad_compression;
    const bool le = h->little_endian;
    const std::size_t size_field = h->compressed == 2 ? 8 : 4;
    if (message.size() < header_size + size_field || h->length != message.size()) return errc::truncated;
    std::uint64_t n;
    if (size_field == 4) {
        n = load_u32(message.data() + 8, le);
    } else {
        std::memcpy(&n, message.data() + 8, 8);
        if (!le) n = __builtin_bswap64(n);
    }
    if (n < header_size + 2) return errc::bad_compression;
    if (n > lim.max_message_bytes) return errc::too_large;

    const auto* in = reinterpret_cast<const std::uint8_t*>(message.data());
    const std::size_t in_end = message.size();
    std::size_t d = header_size + size_field;

    out.clear();
    auto* dst = reinterpret_cast<std::uint8_t*>(out.prepare(n + copy_slack).data());
    write_header(std::span(reinterpret_cast<std::byte*>(dst), header_size), h->type, n);
    if (!le) {  // rebuild the header in the message's own byte order
        dst[0] = 0;
        const auto be = __builtin_bswap32(static_cast<std::uint32_t>(n));
        std::memcpy(dst + 4, &be, 4);
    }

    // The table maps the XOR of two adjacent output bytes to the later
    // position holding that pair, as the compressor's does: after a literal
    // the pair ending at it is hashed, after a reference the pair ending at
    // its first byte and its own first pair, never the pairs inside it. The
    // bytes come from where they are known (the literal's input byte, the
    // reference's source), not read back from what was just written: that
    // read waited on the copy's stores.
    std::array<std::uint32_t, 256> table{};
    std::size_t s = header_size;
    bool after_literal = false;  // the item before was a literal, whose byte is last
    std::uint8_t last = 0;
    unsigned flags = 0, bit = 0;
    while (s < n) {
        if (bit == 0) {
            if (d >= in_end) return errc::bad_compression;
            flags = in[d++];
            bit = 1;
        }
        if (flags & bit) {
            if (d + 2 > in_end) return errc::bad_compression;
            const std::size_t r = table[in[d++]];
            const std::size_t extra = in[d++];
            // The reference must point at bytes already produced, and the copy
            // must stay inside the message.
            if (r < header_size || r + 1 >= s || s + 2 + extra > n) return errc::bad_compression;
            const std::uint8_t b0 = dst[r], b1 = dst[r + 1];
            if (after_literal) table[last ^ b0] = static_cast<std::uint32_t>(s - 1);
            table[b0 ^ b1] = static_cast<std::uint32_t>(s);
            copy_reference(dst, r, s, 2 + extra);
            s += 2 + extra;
            after_literal = false;
        } else {
            if (d >= in_end) return errc::bad_compression;
            const std::uint8_t c = in[d++];
            dst[s] = c;
            if (after_literal) table[last ^ c] = static_cast<std::uint32_t>(s - 1);
            last = c;
            after_literal = true;
            ++s;
        }
        bit = (bit << 1) & 0xff;
    }
    if (s != n) return errc::bad_compression;
    out.commit(n);
    return {};
}

}  // namespace qwire::kdb
