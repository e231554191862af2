// Random objects of every type survive encode -> decode (and compression).
#include <qwire/proto/kdb/codec.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace qwire::kdb;
using qwire::byte_buffer;

namespace {

k random_object(std::mt19937_64& rng, int depth) {
    static const type_t vector_types[] = {1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
    const int pick = static_cast<int>(rng() % (depth > 3 ? 3 : 7));
    const type_t t = vector_types[rng() % std::size(vector_types)];
    const std::size_t n = rng() % 20;
    switch (pick) {
        case 0: {  // an atom: one item of a random vector
            k v = new_vector(t, 1);
            if (t == qtype::symbol) return new_symbol("s" + std::to_string(rng() % 1000));
            for (auto& b : v.data<std::uint8_t>()) b = static_cast<std::uint8_t>(rng());
            return v.item(0).value();
        }
        case 1:
        case 2: {  // a vector with random bits (NaNs and nulls included by chance)
            if (t == qtype::symbol) {
                std::vector<std::string> names(n);
                for (auto& s : names) s = std::string(rng() % 6, static_cast<char>('a' + rng() % 26));
                return new_symbol_list(names);
            }
            k v = new_vector(t, n);
            for (auto& b : v.data<std::uint8_t>()) b = static_cast<std::uint8_t>(rng());
            if (t == qtype::boolean)
                for (auto& b : v.data<std::uint8_t>()) b &= 1;
            v.set_attribute(static_cast<attr>(rng() % 5));
            return v;
        }
        case 3: {
            std::vector<k> items;
            for (std::size_t i = 0; i < n % 6; ++i) items.push_back(random_object(rng, depth + 1));
            return new_list(std::move(items));
        }
        case 4: {
            const std::size_t m = 1 + rng() % 4;
            std::vector<std::string> names;
            for (std::size_t i = 0; i < m; ++i) names.push_back("c" + std::to_string(i));
            std::vector<k> cols;
            const std::size_t rows = rng() % 8;
            for (std::size_t i = 0; i < m; ++i) {
                k c = new_vector(vector_types[rng() % std::size(vector_types)], 0);
                if (c.type() == qtype::symbol) {
                    std::vector<std::string> s(rows, "x");
                    c = new_symbol_list(s);
                } else {
                    c = new_vector(c.type(), rows);
                    for (auto& b : c.data<std::uint8_t>()) b = static_cast<std::uint8_t>(rng() % 3);
                }
                cols.push_back(c);
            }
            return new_table(new_symbol_list(names), new_list(std::move(cols))).value();
        }
        case 5: return new_dict(new_symbol_list({"a", "b"}), new_list_of(random_object(rng, depth + 1), random_object(rng, depth + 1)), rng() % 2).value();
        default: return new_function(qtype::projection, {new_lambda("", "{x+y}"), random_object(rng, depth + 1)});
    }
}

}  // namespace

TEST_CASE("random round trip: encode, decode, compress, decompress") {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 5000; ++i) {
        const k x = random_object(rng, 0);
        byte_buffer msg;
        REQUIRE(encode_message(x, msg_type::sync, msg));
        auto back = decode_message(msg.data());
        REQUIRE(back);
        REQUIRE(back->value == x);
        byte_buffer packed, unpacked;
        if (compress(msg.data(), packed)) {
            REQUIRE(decompress(packed.data(), unpacked));
            REQUIRE(unpacked.size() == msg.size());
            REQUIRE(std::memcmp(unpacked.data().data(), msg.data().data(), msg.size()) == 0);
        }
    }
}
