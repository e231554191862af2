#include <qwire/proto/qwp/arrow.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <sstream>

using namespace qwire;
using namespace qwire::qwp;

namespace {

void no_release_schema(ArrowSchema*) {}
void no_release_array(ArrowArray*) {}

// An Arrow array and schema built by hand, owning their buffers.
struct arrow_col {
    std::string format, name;
    std::vector<std::vector<std::byte>> storage;
    std::vector<const void*> buffers;
    ArrowSchema schema{};
    ArrowArray array{};
    std::unique_ptr<arrow_col> dict;
    std::vector<ArrowSchema*> schema_children;
    std::vector<ArrowArray*> array_children;
    std::vector<std::unique_ptr<arrow_col>> children;

    template <class T>
    const void* add(const std::vector<T>& v) {
        std::vector<std::byte> b(v.size() * sizeof(T));
        if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
        storage.push_back(std::move(b));
        return storage.back().data();
    }
    void finish(std::int64_t length, std::int64_t null_count = 0) {
        schema.format = format.c_str();
        schema.name = name.c_str();
        schema.release = &no_release_schema;
        schema.n_children = static_cast<std::int64_t>(children.size());
        array.length = length;
        array.null_count = null_count;
        array.n_buffers = static_cast<std::int64_t>(buffers.size());
        array.buffers = buffers.data();
        array.release = &no_release_array;
        array.n_children = static_cast<std::int64_t>(children.size());
        for (auto& c : children) {
            schema_children.push_back(&c->schema);
            array_children.push_back(&c->array);
        }
        schema.children = schema_children.data();
        array.children = array_children.data();
        if (dict) {
            schema.dictionary = &dict->schema;
            array.dictionary = &dict->array;
        }
    }
};

template <class T>
std::unique_ptr<arrow_col> primitive(std::string name, std::string format, const std::vector<T>& v,
                                     const std::vector<std::uint8_t>* valid = nullptr, std::int64_t nulls = 0) {
    auto c = std::make_unique<arrow_col>();
    c->name = std::move(name);
    c->format = std::move(format);
    c->buffers = {valid ? c->add(*valid) : nullptr, c->add(v)};
    c->finish(static_cast<std::int64_t>(v.size()), nulls);
    return c;
}

std::unique_ptr<arrow_col> utf8(std::string name, const std::vector<std::string>& v) {
    auto c = std::make_unique<arrow_col>();
    c->name = std::move(name);
    c->format = "u";
    std::vector<std::int32_t> offs{0};
    std::string bytes;
    for (const auto& s : v) {
        bytes += s;
        offs.push_back(static_cast<std::int32_t>(bytes.size()));
    }
    std::vector<char> data(bytes.begin(), bytes.end());
    c->buffers = {nullptr, c->add(offs), c->add(data)};
    c->finish(static_cast<std::int64_t>(v.size()));
    return c;
}

std::unique_ptr<arrow_col> dictionary(std::string name, const std::vector<std::int8_t>& codes,
                                      const std::vector<std::string>& values) {
    auto c = primitive(std::move(name), "c", codes);
    c->dict = utf8("", values);
    c->finish(static_cast<std::int64_t>(codes.size()));
    return c;
}

std::unique_ptr<arrow_col> batch(std::vector<std::unique_ptr<arrow_col>> cols, std::int64_t rows) {
    auto b = std::make_unique<arrow_col>();
    b->format = "+s";
    b->buffers = {nullptr};
    b->children = std::move(cols);
    b->finish(rows);
    return b;
}

std::string fixture(const char* name) { return test::first_line(std::string(QWIRE_QWP_FIXTURES) + "/" + name); }

std::string encoded(const chunk& c) {
    symbol_dict dict;
    message_builder b(dict);
    auto r = encode(b, c);
    REQUIRE(r);
    return test::hex(b.finish_copy());
}

}  // namespace

TEST_CASE("arrow: a record batch reproduces the golden fixture") {
    std::vector<std::int8_t> codes;
    std::vector<std::string> names;
    std::vector<std::int64_t> qty, ts;
    std::vector<double> px;
    for (int i = 0; i < 10; ++i) {
        codes.push_back(static_cast<std::int8_t>(i));
        names.push_back("SYM_00" + std::to_string(i));
        qty.push_back(i);
        px.push_back(100.0 + i);
        ts.push_back(1700000000000000000LL + i);
    }
    std::vector<std::unique_ptr<arrow_col>> cols;
    cols.push_back(dictionary("sym", codes, names));
    cols.push_back(primitive("qty", "l", qty));
    cols.push_back(primitive("px", "g", px));
    cols.push_back(primitive("ts", "tsn:UTC", ts));
    auto b = batch(std::move(cols), 10);
    auto c = chunk_from_arrow("trades", b->schema, b->array, "ts");
    REQUIRE(c);
    CHECK(encoded(*c) == fixture("m0-equivalent-chunk.hex"));
}

TEST_CASE("arrow: nulls, offsets, strings, decimals, uuids and lists agree with the row buffer") {
    // Three rows viewed from offset 1 of four: the first row is not part of it.
    const std::vector<std::uint8_t> valid = {0b1011};  // rows 0, 1, 3 present; 2 null
    auto px = primitive("px", "g", std::vector<double>{9, 1.5, 0, 3.5}, &valid, 1);
    px->array.offset = 1;
    px->array.length = 3;
    auto name = utf8("name", {"zero", "one", "two", "three"});
    name->array.offset = 1;
    name->array.length = 3;
    // UUIDs in RFC byte order: 00112233-4455-6677-8899-aabbccddeeff, then the
    // last byte wrapping to 00 and 01.
    std::vector<std::uint8_t> uuid_bytes;
    for (int r = 0; r < 3; ++r)
        for (int k = 0; k < 16; ++k) uuid_bytes.push_back(static_cast<std::uint8_t>(k * 0x11 + (k == 15 ? r : 0)));
    auto u = primitive("u", "w:16", uuid_bytes);
    u->array.length = 3;
    std::vector<std::int64_t> d128 = {12345, 0, -5, -1, 0, 0};
    auto dec = primitive("dec", "d:10,2", d128);
    dec->array.length = 3;
    // list<double>: [1], [], [2, 3]
    auto list = std::make_unique<arrow_col>();
    list->name = "arr";
    list->format = "+l";
    list->children.push_back(primitive("item", "g", std::vector<double>{1, 2, 3}));
    list->buffers = {nullptr, list->add(std::vector<std::int32_t>{0, 1, 1, 3})};
    list->finish(3);
    std::vector<std::unique_ptr<arrow_col>> cols;
    cols.push_back(std::move(px));
    cols.push_back(std::move(name));
    cols.push_back(std::move(u));
    cols.push_back(std::move(dec));
    cols.push_back(std::move(list));
    auto b = batch(std::move(cols), 3);
    auto c = chunk_from_arrow("t", b->schema, b->array);
    REQUIRE(c);

    row_buffer rows;
    const std::uint64_t u0[2] = {0x8899aabbccddeeffULL, 0x0011223344556677ULL};
    const std::uint64_t u1[2] = {0x8899aabbccddee00ULL, 0x0011223344556677ULL};
    const std::uint64_t u2[2] = {0x8899aabbccddee01ULL, 0x0011223344556677ULL};
    const std::int64_t dv0[2] = {12345, 0}, dv1[2] = {-5, -1}, dv2[2] = {0, 0};
    const std::uint32_t one[] = {1}, none[] = {0}, two[] = {2};
    const double a0[] = {1}, a2[] = {2, 3};
    rows.table("t").column("px", 1.5).column("name", "one").typed("u", type::uuid, u0)
        .typed("dec", type::decimal128, dv0, 2).array("arr", one, a0).at_now();
    rows.table("t").null("px", type::double_).column("name", "two").typed("u", type::uuid, u1)
        .typed("dec", type::decimal128, dv1, 2).array("arr", none, std::span<const double>()).at_now();
    rows.table("t").column("px", 3.5).column("name", "three").typed("u", type::uuid, u2)
        .typed("dec", type::decimal128, dv2, 2).array("arr", two, a2).at_now();
    REQUIRE(!rows.error());
    symbol_dict dict;
    message_builder mb(dict);
    REQUIRE(rows.encode(mb));
    CHECK(encoded(*c) == test::hex(mb.finish_copy()));
}

TEST_CASE("arrow: malformed structs are errors, never crashes") {
    std::vector<std::int64_t> v = {1, 2, 3};
    auto fresh = [&] { return primitive("v", "l", v); };
    auto check_bad = [](arrow_col& col) {
        chunk c("t", 3);
        auto r = append_arrow(c, "v", col.schema, col.array);
        CHECK(r.error() == qwp::errc::bad_arrow);
    };
    { auto a = fresh(); a->array.release = nullptr; check_bad(*a); }             // released
    { auto a = fresh(); a->schema.format = nullptr; check_bad(*a); }             // no format
    { auto a = fresh(); a->schema.format = "x"; check_bad(*a); }                 // unknown format
    { auto a = fresh(); a->array.n_buffers = 1; check_bad(*a); }                 // wrong buffer count
    { auto a = fresh(); a->buffers[1] = nullptr; check_bad(*a); }                // no data
    { auto a = fresh(); a->array.buffers = nullptr; check_bad(*a); }             // no buffer list
    { auto a = fresh(); a->array.offset = -1; check_bad(*a); }                   // negative offset
    { auto a = fresh(); a->array.null_count = 2; check_bad(*a); }                // nulls without a bitmap
    { auto a = fresh(); a->array.length = 2; check_bad(*a); }                    // length != rows
    {
        auto s = utf8("v", {"a", "b", "c"});
        auto* offs = static_cast<std::int32_t*>(const_cast<void*>(s->buffers[1]));
        offs[2] = 0;  // backwards
        check_bad(*s);
    }
    {
        auto d = dictionary("v", {0, 1, 7}, {"a", "b"});  // code 7 out of range
        check_bad(*d);
    }
    {
        auto d = dictionary("v", {0, 1, 0}, {"a", "b"});
        d->schema.dictionary = nullptr;  // schema says plain int8: a BYTE column, fine
        chunk c("t", 3);
        CHECK(append_arrow(c, "v", d->schema, d->array));
        d->schema.dictionary = &d->dict->schema;
        d->array.dictionary = nullptr;  // schema says dictionary, array has none
        check_bad(*d);
    }
    {
        std::vector<std::unique_ptr<arrow_col>> cols;
        cols.push_back(fresh());
        auto b = batch(std::move(cols), 3);
        b->array.n_children = 2;  // disagrees with the schema
        CHECK(!chunk_from_arrow("t", b->schema, b->array));
        b->array.n_children = 1;
        b->array.children[0] = nullptr;
        CHECK(!chunk_from_arrow("t", b->schema, b->array));
    }
}
