// IPC compression's fast paths (matches compared eight bytes at a time,
// references copied in words) against a plain byte loop of kdb+'s
// algorithm: the same compressed bytes, and the message back, for patterns
// that repeat at every distance from 1 to 40 bytes and matches of every
// length up to the 257-byte cap.
#include <qwire/proto/kdb/codec.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace qwire;
using namespace qwire::kdb;

namespace {

// kdb+'s compressor one byte at a time, as KX's C reference writes it: the
// fast one must produce these bytes exactly.
std::vector<std::uint8_t> reference_compress(const std::vector<std::uint8_t>& y) {
    const std::size_t t = y.size();
    std::vector<std::uint8_t> w(t / 2 + 1);
    std::memcpy(w.data(), y.data(), 4);
    w[2] = 1;
    const auto orig = static_cast<std::uint32_t>(t);
    std::memcpy(w.data() + 8, &orig, 4);
    std::array<std::uint32_t, 256> table{};
    std::size_t flag_pos = 12, d = 12, s = 8, pending = 0;
    std::uint8_t flags = 0, bit = 0, pending_key = 0, key = 0;
    while (s < t) {
        if (bit == 0) {
            if (d > t / 2 - 17) return {};
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
            const std::size_t start = s, limit = std::min(s + 255, t);
            while (y[p] == y[s] && ++s < limit) ++p;
            w[d++] = key;
            w[d++] = static_cast<std::uint8_t>(s - start);
        }
        bit = static_cast<std::uint8_t>(bit << 1);
    }
    w[flag_pos] = flags;
    const auto total = static_cast<std::uint32_t>(d);
    std::memcpy(w.data() + 4, &total, 4);
    w.resize(d);
    return w;
}

// An async message whose body repeats `period` random bytes, the run broken
// every `run` bytes by one random byte (so matches of every length occur).
std::vector<std::uint8_t> patterned(std::size_t size, std::size_t period, std::size_t run, std::mt19937& rng) {
    std::vector<std::uint8_t> m(size);
    m[0] = 1;
    m[1] = 0;
    const auto n = static_cast<std::uint32_t>(size);
    std::memcpy(m.data() + 4, &n, 4);
    std::vector<std::uint8_t> pat(period);
    for (auto& b : pat) b = static_cast<std::uint8_t>(rng());
    for (std::size_t i = 8; i < size; ++i) m[i] = (i - 8) % run == run - 1 ? static_cast<std::uint8_t>(rng()) : pat[i % period];
    return m;
}

std::span<const std::byte> bytes_of(const std::vector<std::uint8_t>& v) {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size()};
}

}  // namespace

TEST_CASE("kdb compression: every match distance 1..40 and length up to 257, byte for byte as kdb+") {
    std::mt19937 rng(7);
    std::size_t checked = 0;
    for (std::size_t period = 1; period <= 40; ++period) {
        for (std::size_t run : {3u, 9u, 17u, 33u, 64u, 130u, 257u, 300u, 5000u}) {
            for (std::size_t size : {64u, 1000u, 20000u}) {
                INFO("period " << period << ", run " << run << ", size " << size);
                const auto msg = patterned(size, period, run, rng);
                const auto want = reference_compress(msg);
                byte_buffer packed;
                const bool did = compress(bytes_of(msg), packed);
                REQUIRE(did == !want.empty());
                if (!did) continue;
                const auto got = packed.data();
                REQUIRE(got.size() == want.size());
                REQUIRE(std::memcmp(got.data(), want.data(), want.size()) == 0);
                byte_buffer plain;
                const auto back = decompress(got, plain);
                REQUIRE(back);
                REQUIRE(plain.size() == msg.size());
                // The header is rebuilt (flag byte cleared); the body must be the same bytes.
                REQUIRE(std::memcmp(plain.data().data() + 8, msg.data() + 8, msg.size() - 8) == 0);
                ++checked;
            }
        }
    }
    CHECK(checked > 500);
}

TEST_CASE("kdb decompression: a reference may start two bytes behind and run to the message's last byte") {
    // 2 literals, then one reference at distance 2 to the end: the word copy
    // writes past the message's end into slack, never into what it returns.
    std::vector<std::uint8_t> msg(8 + 2 + 257, 0);
    msg[0] = 1;
    const auto n = static_cast<std::uint32_t>(msg.size());
    std::memcpy(msg.data() + 4, &n, 4);
    for (std::size_t i = 8; i < msg.size(); ++i) msg[i] = i % 2 ? 0xab : 0xcd;
    byte_buffer packed, plain;
    REQUIRE(compress(bytes_of(msg), packed));
    REQUIRE(decompress(packed.data(), plain));
    REQUIRE(plain.size() == msg.size());
    CHECK(std::memcmp(plain.data().data() + 8, msg.data() + 8, msg.size() - 8) == 0);
}
