// Every IPC body captured from a real kdb+ (tests/kdb/vectors) must decode,
// and encode back to the same bytes; the compressed ones must decompress to
// what the encoder produces and compress back to the captured stream.
#include <qwire/proto/kdb/codec.hpp>

#include <catch2/catch.hpp>

#include "support.hpp"

#include <fstream>
#include <string>
#include <vector>


using namespace qwire::kdb;
using qwire::byte_buffer;
using qwire::result;
using qwire::test::unhex;

namespace {

struct vector_case {
    std::string expr;
    std::vector<std::byte> bytes;
};


std::vector<vector_case> load(const char* file) {
    std::ifstream in(std::string(QWIRE_KDB_VECTORS) + "/" + file);
    REQUIRE(in);
    std::vector<vector_case> out;
    std::string expr, hex;
    while (std::getline(in, expr) && std::getline(in, hex)) {
        while (!hex.empty() && (hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
        out.push_back({expr, unhex(hex)});
    }
    return out;
}

std::vector<std::byte> encode_body(const k& x) {
    byte_buffer b;
    REQUIRE(encode(x, b));
    return {b.data().begin(), b.data().end()};
}

}  // namespace

TEST_CASE("kdb vectors: every captured body decodes and re-encodes byte for byte") {
    const auto cases = load("QExpressions3.out");
    REQUIRE(cases.size() >= 115);
    for (const auto& c : cases) {
        INFO("q) " << c.expr);
        auto x = decode(c.bytes);
        REQUIRE(x);
        CHECK(encode_body(*x) == c.bytes);
        auto size = encoded_size(*x);
        REQUIRE(size);
        CHECK(*size == c.bytes.size());
    }
}

TEST_CASE("kdb vectors: compressed captures decompress and compress back exactly") {
    const auto cases = load("QCompressedExpressions3.out");
    REQUIRE(cases.size() == 3);
    for (const auto& c : cases) {
        INFO("q) " << c.expr);
        // Rebuild the whole message: header, then the captured body.
        const std::uint64_t total = header_size + c.bytes.size();
        std::vector<std::byte> msg(total);
        write_header(msg, msg_type::response, total, 1);
        std::copy(c.bytes.begin(), c.bytes.end(), msg.begin() + header_size);

        byte_buffer plain;
        REQUIRE(decompress(msg, plain));
        auto m = decode_message(plain.data());
        REQUIRE(m);
        auto direct = decode_message(msg);  // decode_message decompresses by itself too
        REQUIRE(direct);
        CHECK(direct->value == m->value);

        byte_buffer again;
        REQUIRE(encode_message(m->value, msg_type::response, again, true));
        const std::vector<std::byte> got(again.data().begin(), again.data().end());
        CHECK(got == msg);
    }
}

TEST_CASE("kdb vectors: the examples of KX's serialization page") {
    struct {
        k value;
        const char* hex;
    } cases[] = {
        {new_int(1), "fa01000000"},
        {new_int_list({1}), "06000100000001000000"},
        {new_byte_list(std::vector<std::uint8_t>{0, 1, 2, 3, 4}), "0400050000000001020304"},
        {new_symbol_list({"a", "b"}), "0b00020000006100620 0"},
        {new_dict(new_symbol_list({"a", "b"}), new_int_list({2, 3})).value(),
         "630b0002000000610062000600020000000200000003000000"},
        {new_table({"a", "b"}, {new_int_list({2}), new_int_list({3})}).value(),
         "6200630b00020000006100620000000200000006000100000002000000060001000000 03000000"},
        {new_null(), "6500"},
        {new_error("type"), "807479706500"},
        {new_lambda("", "{x+y}"), "64000a00050000007b782b797d"},
    };
    for (auto& c : cases) {
        std::string h = c.hex;
        std::erase(h, ' ');
        INFO(h);
        CHECK(encode_body(c.value) == unhex(h));
        auto back = decode(unhex(h));
        REQUIRE(back);
        CHECK(*back == c.value);
    }
}

TEST_CASE("kdb compression: the specification's vectors, whole messages") {
    SECTION("sync 2000#0b") {
        auto x = new_vector(qtype::boolean, 2000);
        byte_buffer out;
        REQUIRE(encode_message(x, msg_type::sync, out, true));
        const auto want = unhex("0101010024000000de070000c00100d007000000ff00ff3f00ff00ff00ff00ff00ff00c7");
        CHECK(std::vector<std::byte>(out.data().begin(), out.data().end()) == want);
    }
    SECTION("response 2000#1b") {
        auto x = new_vector(qtype::boolean, 2000);
        for (auto& b : x.data<std::uint8_t>()) b = 1;
        byte_buffer out;
        REQUIRE(encode_message(x, msg_type::response, out, true));
        std::string h = "0102010026000000de070000000100d00700000101ff00ff00ff00ff00ff00ff00ff00ff00c5";
        CHECK(std::vector<std::byte>(out.data().begin(), out.data().end()) == unhex(h));
    }
    SECTION("til 1000: 3276 bytes, as KX documents for count -18!til 1000") {
        std::vector<std::int64_t> v(1000);
        for (int i = 0; i < 1000; ++i) v[static_cast<std::size_t>(i)] = i;
        byte_buffer out;
        REQUIRE(encode_message(new_long_list(v), msg_type::async, out, true));
        CHECK(out.size() == 3276);
        std::string h = "01000100cc0c00004e1f0000400700e8030000000601ad000502000503060400050500052e060005";
        const auto want = unhex(h);
        CHECK(std::vector<std::byte>(out.data().begin(), out.data().begin() + static_cast<long>(want.size())) == want);
        auto back = decode_message(out.data());
        REQUIRE(back);
        CHECK(back->value == new_long_list(v));
    }
}
