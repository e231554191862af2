#include <qwire/proto/ws/frame.hpp>

#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <random>
#include <sys/random.h>
#include <string>

namespace qwire::ws {
namespace {

class ws_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "websocket"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::reserved_bits: return "websocket: reserved bits set";
            case errc::bad_opcode: return "websocket: unknown opcode";
            case errc::control_too_long: return "websocket: control frame longer than 125 bytes";
            case errc::fragmented_control: return "websocket: fragmented control frame";
            case errc::non_minimal_length: return "websocket: payload length not minimally encoded";
            case errc::length_overflow: return "websocket: payload length out of range";
            case errc::closed: return "websocket: the peer closed the connection";
            case errc::message_too_big: return "websocket: message larger than the limit";
            case errc::fragmented: return "websocket: fragmented messages are not supported";
            case errc::text_refused: return "websocket: text frames are not accepted";
            case errc::bad_masking: return "websocket: wrong masking for the sender's role";
            case errc::bad_upgrade: return "websocket: the upgrade response is not a valid 101";
            case errc::upgrade_rejected: return "websocket: the server refused the upgrade";
        }
        return "websocket error " + std::to_string(ev);
    }
};

bool is_control(opcode op) { return static_cast<std::uint8_t>(op) >= 8; }

}  // namespace

const std::error_category& category() noexcept {
    static const ws_category c;
    return c;
}

std::size_t encode_header(const frame_header& h, std::span<std::byte> out) noexcept {
    auto* b = reinterpret_cast<std::uint8_t*>(out.data());
    b[0] = static_cast<std::uint8_t>((h.fin ? 0x80 : 0) | static_cast<std::uint8_t>(h.op));
    const std::uint8_t mask_bit = h.masked ? 0x80 : 0;
    std::size_t n;
    if (h.payload_length < 126) {
        b[1] = static_cast<std::uint8_t>(mask_bit | h.payload_length);
        n = 2;
    } else if (h.payload_length <= 0xffff) {
        b[1] = mask_bit | 126;
        b[2] = static_cast<std::uint8_t>(h.payload_length >> 8);
        b[3] = static_cast<std::uint8_t>(h.payload_length);
        n = 4;
    } else {
        b[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) b[2 + i] = static_cast<std::uint8_t>(h.payload_length >> (56 - 8 * i));
        n = 10;
    }
    if (h.masked) {
        std::memcpy(b + n, h.mask.data(), 4);
        n += 4;
    }
    return n;
}

result<parsed> parse_header(std::span<const std::byte> in) noexcept {
    const auto* b = reinterpret_cast<const std::uint8_t*>(in.data());
    parsed p;
    if (in.size() < 2) {
        p.need = 2;
        return p;
    }
    if (b[0] & 0x70) return errc::reserved_bits;
    p.h.fin = b[0] & 0x80;
    const std::uint8_t op = b[0] & 0x0f;
    if ((op > 2 && op < 8) || op > 10) return errc::bad_opcode;
    p.h.op = static_cast<opcode>(op);
    p.h.masked = b[1] & 0x80;
    const std::uint8_t len7 = b[1] & 0x7f;
    const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const std::size_t total = 2 + ext + (p.h.masked ? 4 : 0);
    if (in.size() < total) {
        p.need = total;
        return p;
    }
    std::uint64_t len = len7;
    if (len7 == 126) {
        len = (std::uint64_t{b[2]} << 8) | b[3];
        if (len < 126) return errc::non_minimal_length;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
        if (len >> 63) return errc::length_overflow;
        if (len <= 0xffff) return errc::non_minimal_length;
    }
    if (is_control(p.h.op)) {
        if (len > 125) return errc::control_too_long;
        if (!p.h.fin) return errc::fragmented_control;
    }
    if (p.h.masked) std::memcpy(p.h.mask.data(), b + 2 + ext, 4);
    p.h.payload_length = len;
    p.h.header_length = total;
    p.complete = true;
    return p;
}

namespace {

#if defined(__x86_64__)
// 32 bytes at a time with AVX2, 128 per loop turn; chosen at run time.
__attribute__((target("avx2"))) std::size_t mask_avx2(std::byte* dst, const std::byte* src, std::size_t n,
                                                      std::uint64_t k64) {
    const __m256i k = _mm256_set1_epi64x(static_cast<long long>(k64));
    std::size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
        const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 64));
        const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 96));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= n; i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
    }
    return i;
}

// 64 bytes at a time with AVX-512, 256 per loop turn, where the CPU has it
// (the masked copy into a frame then keeps up with glibc's memcpy, which
// uses the same registers).
__attribute__((target("avx512f"))) std::size_t mask_avx512(std::byte* dst, const std::byte* src, std::size_t n,
                                                            std::uint64_t k64) {
    const __m512i k = _mm512_set1_epi64(static_cast<long long>(k64));
    std::size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        const __m512i a = _mm512_loadu_si512(src + i);
        const __m512i b = _mm512_loadu_si512(src + i + 64);
        const __m512i c = _mm512_loadu_si512(src + i + 128);
        const __m512i d = _mm512_loadu_si512(src + i + 192);
        _mm512_storeu_si512(dst + i, _mm512_xor_si512(a, k));
        _mm512_storeu_si512(dst + i + 64, _mm512_xor_si512(b, k));
        _mm512_storeu_si512(dst + i + 128, _mm512_xor_si512(c, k));
        _mm512_storeu_si512(dst + i + 192, _mm512_xor_si512(d, k));
    }
    for (; i + 64 <= n; i += 64) _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), k));
    return i;
}

// SSE2 is part of x86-64: 16 bytes at a time, 64 per loop turn.
std::size_t mask_sse2(std::byte* dst, const std::byte* src, std::size_t n, std::uint64_t k64) {
    const __m128i k = _mm_set1_epi64x(static_cast<long long>(k64));
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
        const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, k));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), _mm_xor_si128(b, k));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 32), _mm_xor_si128(c, k));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 48), _mm_xor_si128(d, k));
    }
    return i;
}

const bool have_avx2 = __builtin_cpu_supports("avx2");
const bool have_avx512 = __builtin_cpu_supports("avx512f");
#endif

}  // namespace

std::size_t mask_copy(std::byte* dst, const std::byte* src, std::size_t n, std::array<std::uint8_t, 4> key,
                      std::size_t phase) noexcept {
    std::size_t i = 0;
#if defined(__x86_64__)
    if (n >= 128) {
        // Byte by byte up to a 64-byte aligned destination (a frame's payload
        // starts after a 2- to 14-byte header; unaligned wide stores that
        // split cache lines halve the speed), then wide blocks.
        const std::size_t lead = (64 - (reinterpret_cast<std::uintptr_t>(dst) & 63)) & 63;
        for (; i < lead; ++i) dst[i] = src[i] ^ static_cast<std::byte>(key[(phase + i) & 3]);
        std::uint8_t k8[8];
        for (std::size_t j = 0; j < 8; ++j) k8[j] = key[(phase + i + j) & 3];
        std::uint64_t k64;
        std::memcpy(&k64, k8, 8);
        // Every block is a multiple of 8 bytes long, so the key stays in phase.
        i += have_avx512 ? mask_avx512(dst + i, src + i, n - i, k64)
             : have_avx2 ? mask_avx2(dst + i, src + i, n - i, k64)
                         : mask_sse2(dst + i, src + i, n - i, k64);
    }
#endif
    // The key rotated to the position, repeated to fill a 64-bit word.
    std::uint8_t k8[8];
    for (std::size_t j = 0; j < 8; ++j) k8[j] = key[(phase + i + j) & 3];
    std::uint64_t k64;
    std::memcpy(&k64, k8, 8);
    const std::size_t base = i;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= k64;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < n; ++i) dst[i] = src[i] ^ static_cast<std::byte>(k8[(i - base) & 7]);
    return (phase + n) & 3;
}

void append_frame(byte_buffer& out, opcode op, std::span<const const_buffer> pieces,
                  const std::array<std::uint8_t, 4>* key) {
    std::uint64_t total = 0;
    for (const auto& p : pieces) total += p.size;
    frame_header h;
    h.op = op;
    h.payload_length = total;
    h.masked = key != nullptr;
    if (key) h.mask = *key;
    auto space = out.prepare(max_header_size + total);
    std::size_t n = encode_header(h, space);
    std::size_t phase = 0;
    for (const auto& p : pieces) {
        if (p.size == 0) continue;
        if (key)
            phase = mask_copy(space.data() + n, static_cast<const std::byte*>(p.data), p.size, *key, phase);
        else
            std::memcpy(space.data() + n, p.data, p.size);
        n += p.size;
    }
    out.commit(n);
}

std::array<std::uint8_t, 4> random_mask() noexcept {
    thread_local std::uint64_t state = [] {
        std::uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = std::random_device{}();
        return seed;
    }();
    // splitmix64
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return {static_cast<std::uint8_t>(z), static_cast<std::uint8_t>(z >> 8), static_cast<std::uint8_t>(z >> 16),
            static_cast<std::uint8_t>(z >> 24)};
}

}  // namespace qwire::ws
