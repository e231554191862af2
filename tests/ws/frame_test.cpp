#include <qwire/proto/ws/frame.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/ws/handshake.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace qwire::ws;

namespace {
std::vector<std::byte> bytes(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
}
}  // namespace

TEST_CASE("ws handshake: the RFC 6455 sample key gives the sample answer") {
    CHECK(accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const auto k1 = make_client_key(), k2 = make_client_key();
    CHECK(k1.size() == 24);  // 16 bytes in base64
    CHECK(k1 != k2);
    const std::uint8_t one[] = {'f'}, two[] = {'f', 'o'};
    CHECK(qwire::http::base64_encode(one) == "Zg==");
    CHECK(qwire::http::base64_encode(two) == "Zm8=");
}

TEST_CASE("ws frame: the RFC 6455 masked \"Hello\" example") {
    // RFC 6455 section 5.7: 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
    const auto wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    auto p = parse_header(wire);
    REQUIRE(p);
    REQUIRE(p->complete);
    CHECK(p->h.fin);
    CHECK(p->h.op == opcode::text);
    CHECK(p->h.masked);
    CHECK(p->h.payload_length == 5);
    CHECK(p->h.header_length == 6);
    std::byte text[5];
    mask_copy(text, wire.data() + 6, 5, p->h.mask);
    CHECK(std::string(reinterpret_cast<const char*>(text), 5) == "Hello");

    // And back: the same header and masked payload.
    std::vector<std::byte> out(max_header_size + 5);
    frame_header h;
    h.op = opcode::text;
    h.masked = true;
    h.mask = {0x37, 0xfa, 0x21, 0x3d};
    h.payload_length = 5;
    const auto n = encode_header(h, out);
    mask_copy(out.data() + n, reinterpret_cast<const std::byte*>("Hello"), 5, h.mask);
    out.resize(n + 5);
    CHECK(out == wire);
}

TEST_CASE("ws frame: lengths at every encoding boundary round-trip") {
    for (std::uint64_t len : {0ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 40}) {
        for (bool masked : {false, true}) {
            frame_header h;
            h.masked = masked;
            h.mask = {1, 2, 3, 4};
            h.payload_length = len;
            std::byte buf[max_header_size];
            const auto n = encode_header(h, buf);
            for (std::size_t cut = 0; cut < n; ++cut) {
                auto partial = parse_header(std::span<const std::byte>(buf, cut));
                REQUIRE(partial);
                CHECK_FALSE(partial->complete);
                CHECK(partial->need > cut);
            }
            auto p = parse_header(std::span<const std::byte>(buf, n));
            REQUIRE(p);
            REQUIRE(p->complete);
            CHECK(p->h.payload_length == len);
            CHECK(p->h.header_length == n);
            CHECK(p->h.masked == masked);
        }
    }
}

TEST_CASE("ws frame: protocol violations are errors") {
    CHECK(parse_header(bytes({0xc2, 0x00})).error() == errc::reserved_bits);
    CHECK(parse_header(bytes({0x83, 0x00})).error() == errc::bad_opcode);
    CHECK(parse_header(bytes({0x89, 0x7e, 0x00, 0x80})).error() == errc::control_too_long);
    CHECK(parse_header(bytes({0x09, 0x00})).error() == errc::fragmented_control);
    CHECK(parse_header(bytes({0x82, 0x7e, 0x00, 0x05})).error() == errc::non_minimal_length);
    CHECK(parse_header(bytes({0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})).error() == errc::length_overflow);
}

TEST_CASE("ws mask: the wide paths equal the byte definition at any phase, length and alignment") {
    std::mt19937 rng(3);
    for (std::size_t n : {0u, 1u, 3u, 7u, 8u, 9u, 31u, 127u, 128u, 129u, 200u, 1000u, 4099u}) {
        for (std::size_t phase = 0; phase < 4; ++phase) {
            for (std::size_t shift : {0u, 1u, 14u, 31u}) {
                std::vector<std::byte> src(n + 32), dst(n + 32);
                for (auto& b : src) b = static_cast<std::byte>(rng());
                const std::array<std::uint8_t, 4> key{0xde, 0xad, 0xbe, 0xef};
                const auto next = mask_copy(dst.data() + shift, src.data() + 31 - shift, n, key, phase);
                for (std::size_t i = 0; i < n; ++i)
                    REQUIRE(dst[shift + i] == (src[31 - shift + i] ^ static_cast<std::byte>(key[(phase + i) & 3])));
                CHECK(next == (phase + n) % 4);
                // In place, as the receiving side unmasks.
                std::vector<std::byte> copy(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(n));
                mask_copy(src.data(), src.data(), n, key, phase);
                for (std::size_t i = 0; i < n; ++i)
                    REQUIRE(src[i] == (copy[i] ^ static_cast<std::byte>(key[(phase + i) & 3])));
            }
        }
    }
}
