// Untrusted bytes: every truncation, lie and random corruption must end in an
// error (or a valid value), never a crash, a hang or a huge allocation.
#include <qwire/proto/kdb/codec.hpp>

#include <catch2/catch.hpp>

#include <random>


using namespace qwire::kdb;
using qwire::byte_buffer;
using qwire::result;

namespace {

k sample() {
    return new_list_of(new_long_list({1, 2, 3}), new_symbol_list({"ab", "c"}), new_string("text"),
                       new_table({"a", "s"}, {new_long_list({1, 2}), new_symbol_list({"x", "y"})}).value(),
                       new_dict(new_symbol_list({"k"}), new_list_of(new_float(1.5))).value(),
                       new_function(qtype::projection, {new_lambda("", "{x+y}"), new_long(1)}), new_guid({}));
}

std::vector<std::byte> encoded(const k& x) {
    byte_buffer b;
    REQUIRE(encode(x, b));
    return {b.data().begin(), b.data().end()};
}

}  // namespace

TEST_CASE("decode: every truncation of a valid body is an error") {
    const auto body = encoded(sample());
    for (std::size_t n = 0; n < body.size(); ++n) {
        INFO("prefix " << n);
        CHECK(!decode(std::span(body).first(n)));
    }
    CHECK(decode(body));
}

TEST_CASE("decode: trailing bytes, lying counts, bad types") {
    auto body = encoded(new_long_list({1}));
    body.push_back(std::byte{0});
    CHECK(decode(body).error() == errc::trailing_bytes);

    // A list claiming two billion items in a 6-byte body: no allocation, an error.
    const std::vector<std::uint8_t> huge_list = {0x00, 0x00, 0xff, 0xff, 0xff, 0x7f};
    CHECK(decode(std::as_bytes(std::span(huge_list))).error() == errc::truncated);
    const std::vector<std::uint8_t> huge_longs = {0x07, 0x00, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
    CHECK(decode(std::as_bytes(std::span(huge_longs))).error() == errc::truncated);
    const std::vector<std::uint8_t> negative = {0x07, 0x00, 0xff, 0xff, 0xff, 0xff};
    CHECK(decode(std::as_bytes(std::span(negative))).error() == errc::negative_count);
    const std::vector<std::uint8_t> enum_type = {20, 0x00, 0, 0, 0, 0};
    CHECK(decode(std::as_bytes(std::span(enum_type))).error() == errc::enumeration);
    const std::vector<std::uint8_t> bad = {0x03, 0x00};
    CHECK(decode(std::as_bytes(std::span(bad))).error() == errc::bad_type);
    const std::vector<std::uint8_t> unterminated = {0xf5, 'a', 'b'};
    CHECK(decode(std::as_bytes(std::span(unterminated))).error() == errc::unterminated_symbol);
    // A table whose dictionary is not (symbols; columns).
    const std::vector<std::uint8_t> bad_table = {0x62, 0x00, 0x63, 0xf9, 1, 0, 0, 0, 0, 0, 0, 0, 0xf9, 1, 0, 0, 0, 0, 0, 0, 0};
    CHECK(decode(std::as_bytes(std::span(bad_table))).error() == errc::bad_type);
}

TEST_CASE("decode: nesting deeper than the limit") {
    k x = new_long(1);
    for (int i = 0; i < 200; ++i) x = new_list_of(x);
    const auto body = encoded(x);
    CHECK(decode(body).error() == errc::too_deep);
    limits deep;
    deep.max_depth = 1000;
    CHECK(decode(body, true, deep));
}

TEST_CASE("decode_message: header checks and size limit") {
    byte_buffer msg;
    REQUIRE(encode_message(new_long_list({1, 2, 3}), msg_type::sync, msg));
    std::vector<std::byte> m(msg.data().begin(), msg.data().end());
    CHECK(decode_message(m));
    auto bad = m;
    bad[0] = std::byte{7};
    CHECK(decode_message(bad).error() == errc::bad_header);
    bad = m;
    bad[1] = std::byte{3};
    CHECK(decode_message(bad).error() == errc::bad_header);
    CHECK(decode_message(std::span(m).first(m.size() - 1)).error() == errc::truncated);
    limits small;
    small.max_message_bytes = 16;
    CHECK(decode_message(m, small).error() == errc::too_large);
}

TEST_CASE("decompress: corrupt streams are errors") {
    std::vector<std::int64_t> v(2000, 5);
    byte_buffer msg;
    REQUIRE(encode_message(new_long_list(v), msg_type::async, msg, true));
    std::vector<std::byte> m(msg.data().begin(), msg.data().end());
    REQUIRE(m[2] == std::byte{1});
    byte_buffer out;
    REQUIRE(decompress(m, out));

    // Lie about the uncompressed size: too big for the limit, too small, or cut short.
    auto lie = m;
    lie[11] = std::byte{0x7f};
    CHECK(decompress(lie, out).error() == errc::too_large);
    lie = m;
    lie[8] = std::byte{9};
    lie[9] = lie[10] = lie[11] = std::byte{0};
    CHECK(decompress(lie, out).error() == errc::bad_compression);
    // Cut the stream short (and fix the header length so only the stream lies).
    auto cut = std::vector<std::byte>(m.begin(), m.end() - 3);
    const auto len = static_cast<std::uint32_t>(cut.size());
    std::memcpy(cut.data() + 4, &len, 4);
    CHECK(decompress(cut, out).error() == errc::bad_compression);
}

TEST_CASE("decode and decompress: random corruption never crashes (bounded)") {
    std::mt19937_64 rng(12345);
    const auto body = encoded(sample());
    std::vector<std::int64_t> big(3000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::int64_t>(i % 17);
    byte_buffer cm;
    REQUIRE(encode_message(new_long_list(big), msg_type::async, cm, true));
    const std::vector<std::byte> compressed(cm.data().begin(), cm.data().end());
    int decoded = 0;
    for (int round = 0; round < 20000; ++round) {
        auto b = round % 2 ? body : compressed;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::byte>(rng());
        if (round % 2) {
            if (decode(b)) ++decoded;
        } else {
            if (decode_message(b)) ++decoded;
        }
    }
    SUCCEED("survived; " << decoded << " corrupted inputs still decoded to some value");
}

TEST_CASE("header: lengths over 4 GB use byte 3 (capability 5/6, provisional)") {
    std::vector<std::byte> h(8);
    const std::uint64_t five_gb = (std::uint64_t{5} << 30) + 123;
    write_header(h, msg_type::sync, five_gb);
    CHECK(static_cast<int>(h[3]) == 1);
    auto parsed = parse_header(h);
    REQUIRE(parsed);
    CHECK(parsed->length == five_gb);
}
