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
#include <cstring>

namespace qwire::kdb {
namespace {

std::uint32_t load_u32(const std::byte* p, bool le) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return le ? v : __builtin_bswap32(v);
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
            while (y[p] == y[s] && ++s < limit) ++p;
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
    auto* dst = reinterpret_cast<std::uint8_t*>(out.prepare(n).data());
    write_header(std::span(reinterpret_cast<std::byte*>(dst), header_size), h->type, n);
    if (!le) {  // rebuild the header in the message's own byte order
        dst[0] = 0;
        const auto be = __builtin_bswap32(static_cast<std::uint32_t>(n));
        std::memcpy(dst + 4, &be, 4);
    }

    std::array<std::uint32_t, 256> table{};
    std::size_t s = header_size, p = header_size;
    unsigned flags = 0, bit = 0;
    while (s < n) {
        if (bit == 0) {
            if (d >= in_end) return errc::bad_compression;
            flags = in[d++];
            bit = 1;
        }
        std::size_t extra = 0;
        const bool ref = flags & bit;
        if (ref) {
            if (d + 2 > in_end) return errc::bad_compression;
            const std::size_t r = table[in[d++]];
            extra = in[d++];
            // The reference must point at bytes already produced, and the copy
            // must stay inside the message.
            if (r < header_size || r + 1 >= s || s + 2 + extra > n) return errc::bad_compression;
            dst[s] = dst[r];
            dst[s + 1] = dst[r + 1];
            s += 2;
            for (std::size_t m = 0; m < extra; ++m) dst[s + m] = dst[r + 2 + m];  // may overlap: byte by byte
        } else {
            if (d >= in_end) return errc::bad_compression;
            dst[s++] = in[d++];
        }
        while (p + 1 < s) {
            table[dst[p] ^ dst[p + 1]] = static_cast<std::uint32_t>(p);
            ++p;
        }
        if (ref) p = s += extra;
        bit = (bit << 1) & 0xff;
    }
    if (s != n) return errc::bad_compression;
    out.commit(n);
    return {};
}

}  // namespace qwire::kdb
