#include <qwire/proto/qwp/decoder.hpp>
#include <qwire/proto/qwp/encoder.hpp>

#include "qwp/decode_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

using namespace qwire;
using namespace qwire::qwp;

using qwire::test::decode_fresh;
using qwire::test::hex;
using qwire::test::unhex;

namespace {

// The texts of a decoded varchar or symbol column, row by row.
std::vector<std::string> texts(const decoded_column& c) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < c.rows; ++i) out.emplace_back(c.text(i));
    return out;
}

std::string fixture(const char* name) { return test::first_line(std::string(QWIRE_QWP_FIXTURES) + "/" + name); }

// The golden fixtures' input: trades, 10 rows, sym/qty/px and ns timestamps.
struct m0 {
    std::vector<std::string> names;
    std::vector<std::string_view> dict;
    std::vector<std::int32_t> codes;
    std::vector<std::int64_t> qty, ts;
    std::vector<double> px;
    m0() {
        for (int i = 0; i < 10; ++i) names.push_back("SYM_00" + std::to_string(i));
        for (auto& n : names) dict.push_back(n);
        for (int i = 0; i < 10; ++i) {
            codes.push_back(i);
            qty.push_back(i);
            px.push_back(100.0 + i);
            ts.push_back(1700000000000000000LL + i);
        }
    }
};

}  // namespace

TEST_CASE("qwp encoder: the column chunk reproduces the golden fixture") {
    m0 in;
    chunk c("trades", 10);
    c.symbol<std::int32_t>("sym", in.codes, in.dict).column("qty", std::span<const std::int64_t>(in.qty));
    c.column("px", std::span<const double>(in.px)).designated(in.ts);
    symbol_dict dict;
    message_builder b(dict);
    REQUIRE(encode(b, c));
    CHECK(hex(b.finish_copy()) == fixture("m0-equivalent-chunk.hex"));
}

TEST_CASE("qwp encoder: the row buffer reproduces the golden fixture") {
    m0 in;
    row_buffer buf;
    for (int i = 0; i < 10; ++i)
        buf.table("trades").symbol("sym", in.names[i]).column("qty", in.qty[i]).column("px", in.px[i]).at(in.ts[i]);
    symbol_dict dict;
    message_builder b(dict);
    REQUIRE(buf.encode(b));
    CHECK(hex(b.finish_copy()) == fixture("m0-equivalent-buffer.hex"));
}

TEST_CASE("qwp encoder: the spec's complete example (nulls as a bitmap, microsecond timestamps)") {
    const std::string expected =
        "515750310108010" "06e000000"
        "000203455448034254430674726164657303040373796d0905707269636507037174790500" "0a"
        "00000100"
        "010200000000006fa440c3f5285cbf2ce340"
        "000a00000000000000140000000000000" "01e00000000000000"
        "0000401e18240a0600e8431e18240a0600d0471e18240a0600";
    auto strip = [](std::string s) {
        s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
        return s;
    };
    symbol_dict dict;
    message_builder b(dict);
    row_buffer buf;
    buf.table("trades").symbol("sym", "ETH").column("price", 2615.5).column("qty", 10).at(1700000000000000, type::timestamp);
    buf.table("trades").symbol("sym", "BTC").null("price", type::double_).column("qty", 20).at(1700000000001000, type::timestamp);
    buf.table("trades").symbol("sym", "ETH").column("price", 39269.98).column("qty", 30).at(1700000000002000, type::timestamp);
    REQUIRE(buf.encode(b));
    CHECK(hex(b.finish_copy()) == strip(expected));

    // The same through a chunk with an Arrow validity bitmap.
    std::vector<std::string_view> d = {"ETH", "BTC"};
    std::vector<std::int8_t> codes = {0, 1, 0};
    std::vector<double> price = {2615.5, 0, 39269.98};
    const std::uint8_t valid = 0b101;
    std::vector<std::int64_t> qty = {10, 20, 30}, ts = {1700000000000000, 1700000000001000, 1700000000002000};
    chunk c("trades", 3);
    c.symbol<std::int8_t>("sym", codes, d).column("price", std::span<const double>(price), &valid);
    c.column("qty", std::span<const std::int64_t>(qty)).designated(ts, type::timestamp);
    symbol_dict dict2;
    message_builder b2(dict2);
    REQUIRE(encode(b2, c));
    CHECK(hex(b2.finish_copy()) == strip(expected));
}

TEST_CASE("qwp encoder: Gorilla timestamps match the spec's worked vector") {
    std::vector<std::int64_t> ts = {1000, 2000, 3000, 4005, 5005};
    chunk c("t", 5);
    c.column("ts", type::timestamp, std::span<const std::int64_t>(ts));
    symbol_dict dict;
    encode_options o;
    o.gorilla = true;
    message_builder b(dict, o);
    REQUIRE(encode(b, c));
    const std::string h = hex(b.finish_copy());
    CHECK(h.substr(h.size() - 42) == "0001e803000000000000d0070000000000002ab407");
    message_decoder dec;
    auto m = dec.decode(unhex(h));
    REQUIRE(m);
    for (std::size_t i = 0; i < 5; ++i) CHECK(m->tables[0].columns[0].get<std::int64_t>(i) == ts[i]);
}

TEST_CASE("qwp encoder: Gorilla with extreme timestamps round-trips (wrapping differences)") {
    const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    for (const std::vector<std::int64_t>& ts : {std::vector<std::int64_t>{hi, lo, 0, 5, hi},
                                                 std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 1000000}}) {
        chunk c("t", ts.size());
        c.column("ts", type::timestamp, std::span<const std::int64_t>(ts));
        symbol_dict dict;
        encode_options o;
        o.gorilla = true;
        message_builder b(dict, o);
        REQUIRE(encode(b, c));
        message_decoder dec;
        auto m = dec.decode(b.finish_copy());
        REQUIRE(m);
        for (std::size_t i = 0; i < ts.size(); ++i) CHECK(m->tables[0].columns[0].get<std::int64_t>(i) == ts[i]);
    }
}

TEST_CASE("qwp encoder: symbols are interned once per connection and only when referenced") {
    std::vector<std::string_view> d = {"A", "B", "C", "D"};
    std::vector<std::int16_t> codes = {2, 2, 0, 2};
    chunk c("t", 4);
    c.symbol<std::int16_t>("s", codes, d);
    symbol_dict dict;
    message_builder b(dict);
    REQUIRE(encode(b, c));
    message_decoder dec;
    auto m1 = dec.decode(b.finish_copy());
    REQUIRE(m1);
    CHECK(m1->dict_start == 0);
    CHECK(m1->dict_count == 2);  // C and A; B and D never travel
    CHECK(dec.dictionary() == std::vector<std::string>{"C", "A"});
    // A second message reuses the ids and ships only the new entry.
    std::vector<std::int16_t> codes2 = {3, 0, 2, 2};
    chunk c2("t", 4);
    c2.symbol<std::int16_t>("s", codes2, d);
    b.clear();
    REQUIRE(encode(b, c2));
    auto m2 = dec.decode(b.finish_copy());
    REQUIRE(m2);
    CHECK(m2->dict_start == 2);
    CHECK(m2->dict_count == 1);
    CHECK(texts(m2->tables[0].columns[0]) == std::vector<std::string>{"D", "A", "C", "C"});
    // The cap holds.
    symbol_dict small(2);
    message_builder b3(small);
    chunk c3("t", 4);
    std::vector<std::int16_t> codes3 = {0, 1, 2, 3};
    c3.symbol<std::int16_t>("s", codes3, d);
    auto r = encode(b3, c3);
    REQUIRE(!r);
    CHECK(r.error() == qwp::errc::symbol_cap);
}

TEST_CASE("qwp encoder: symbol ids of one, two and three varint bytes, codes of every width, eight rows at a time or one") {
    // 20,000 distinct symbols: connection ids 0..127 take one byte, up to
    // 16383 two, the rest three (the row loop's slow path). Rows in a
    // random order, some chunks not a multiple of eight rows.
    std::vector<std::string> names;
    for (int i = 0; i < 20000; ++i) names.push_back("S" + std::to_string(i));
    std::vector<std::string_view> d(names.begin(), names.end());
    std::mt19937 rng(11);
    auto check_width = [&](auto code_type, std::size_t distinct) {
        using code_t = decltype(code_type);
        symbol_dict dict;
        message_builder b(dict);
        message_decoder dec;
        for (std::size_t rows : {std::size_t{20003}, std::size_t{8}, std::size_t{61}}) {
            // The first chunk references every symbol (a shuffled permutation),
            // so ids reach three bytes; the others pick at random.
            std::vector<code_t> codes(rows);
            for (std::size_t i = 0; i < rows; ++i) codes[i] = static_cast<code_t>(rows > distinct ? i % distinct : rng() % distinct);
            std::shuffle(codes.begin(), codes.end(), rng);
            // Twice: the second time every id comes from the kept wire forms.
            for (int pass = 0; pass < 2; ++pass) {
                chunk c("t", rows);
                c.symbol<code_t>("s", codes, std::span<const std::string_view>(d).first(distinct));
                b.clear();
                REQUIRE(encode(b, c));
                auto m = dec.decode(b.finish_copy());
                REQUIRE(m);
                const auto got = texts(m->tables[0].columns[0]);
                REQUIRE(got.size() == rows);
                for (std::size_t i = 0; i < rows; ++i) REQUIRE(got[i] == names[static_cast<std::size_t>(codes[i])]);
            }
        }
        CHECK(dict.size() == distinct);
    };
    check_width(std::int8_t{}, 100);
    check_width(std::int16_t{}, 20000);
    check_width(std::int32_t{}, 20000);
    // A code past the dictionary in the middle of an eight-row block names its row.
    std::vector<std::int32_t> codes(24, 1);
    codes[13] = 7;
    chunk c("t", codes.size());
    c.symbol<std::int32_t>("s", codes, std::span<const std::string_view>(d).first(5));
    symbol_dict dict;
    message_builder b(dict);
    const auto e = encode(b, c);
    REQUIRE(!e);
    CHECK(std::string(e.error().detail()) == "table 't', column 's' (SYMBOL): row 13: symbol code 7 past the dictionary");
}

TEST_CASE("qwp encoder: every column type round-trips through the decoder, with nulls") {
    row_buffer buf;
    const std::int32_t i32 = -7;
    const float f32 = 1.5f;
    const std::int8_t i8 = -3;
    const std::int16_t i16 = 300;
    const std::uint16_t ch = 'Z';
    const std::int64_t date = 1700000000000LL;
    const std::uint64_t uuid[2] = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
    const std::uint64_t l256[4] = {1, 2, 3, 4};
    const std::uint32_t ip = 0xC0A8012A;
    const std::int64_t d64 = -12345;  // -123.45 at scale 2
    std::int64_t d128[2] = {123456789, 0};
    std::int64_t d256[4] = {-1, -1, -1, -1};  // -1
    const std::uint32_t dims[] = {2, 2};
    const double arr[] = {1, 2, 3, 4};
    const std::uint32_t dims1[] = {3};
    const std::int64_t larr[] = {7, 8, 9};
    const std::byte blob[] = {std::byte{0}, std::byte{0xFF}, std::byte{0x10}};
    for (int row = 0; row < 3; ++row) {
        auto r = buf.table("all_types");
        if (row == 1) {
            r.null("b", type::boolean).null("i8", type::byte).null("i16", type::short_).null("i32", type::int_);
            r.null("i64", type::long_).null("f32", type::float_).null("f64", type::double_).null("sym", type::symbol);
            r.null("ts", type::timestamp).null("date", type::date).null("uuid", type::uuid).null("l256", type::long256);
            r.null("geo", type::geohash).null("vc", type::varchar).null("d64", type::decimal64);
            r.null("d128", type::decimal128).null("d256", type::decimal256).null("ch", type::char_);
            r.null("bin", type::binary).null("ip", type::ipv4).null("arr", type::double_array).null("larr", type::long_array);
            r.at(1700000000000000001LL);
            continue;
        }
        r.column("b", row == 0).typed("i8", type::byte, &i8).typed("i16", type::short_, &i16).typed("i32", type::int_, &i32);
        r.column("i64", std::int64_t{row}).typed("f32", type::float_, &f32).column("f64", 2.25).symbol("sym", "ab");
        const std::int64_t ts = 1700000000000000LL + row;
        r.typed("ts", type::timestamp, &ts).typed("date", type::date, &date).typed("uuid", type::uuid, uuid);
        r.typed("l256", type::long256, l256).geohash("geo", 0x3FF, 10).column("vc", "h\xC3\xA9llo");
        r.typed("d64", type::decimal64, &d64, 2).typed("d128", type::decimal128, d128, 2).typed("d256", type::decimal256, d256, 2);
        r.typed("ch", type::char_, &ch).binary("bin", blob).typed("ip", type::ipv4, &ip);
        r.array("arr", dims, arr).array("larr", dims1, larr);
        r.at(1700000000000000000LL + row);
    }
    REQUIRE(!buf.error());
    const auto m = decode_fresh(buf);
    REQUIRE(m.tables.size() == 1);
    const auto& t = m.tables[0];
    CHECK(t.rows == 3);
    REQUIRE(t.columns.size() == 23);
    CHECK(row_json(t, 0) ==
          R"({"b":true,"i8":-3,"i16":300,"i32":-7,"i64":0,"f32":1.5,"f64":2.25,"sym":"ab","ts":1700000000000000,)"
          R"("date":1700000000000,"uuid":"99aabbccddeeff001122334455667788",)"
          R"("l256":"0000000000000004000000000000000300000000000000020000000000000001","geo":1023,"vc":"héllo",)"
          R"("d64":"-123.45","d128":"1234567.89","d256":"-0.01","ch":90,"bin":"00ff10","ip":"192.168.1.42",)"
          R"("arr":"020200000002000000000000000000f03f000000000000004000000000000008400000000000001040",)"
          R"("larr":"0103000000070000000000000008000000000000000900000000000000","timestamp":1700000000000000000})");
    // Row 1: every nullable type is NULL; BOOLEAN, BYTE, SHORT, CHAR travel as 0.
    CHECK(row_json(t, 1) ==
          R"({"b":false,"i8":0,"i16":0,"i32":null,"i64":null,"f32":null,"f64":null,"sym":null,"ts":null,"date":null,)"
          R"("uuid":null,"l256":null,"geo":null,"vc":null,"d64":null,"d128":null,"d256":null,"ch":0,"bin":null,)"
          R"("ip":null,"arr":null,"larr":null,"timestamp":1700000000000000001})");
    CHECK(row_json(t, 2).find(R"("b":false,)") != std::string::npos);
}

TEST_CASE("qwp encoder: rows that skip columns, and bad input is an error") {
    row_buffer buf;
    buf.table("t").column("a", 1).at_now();
    buf.table("t").column("b", 2.0).at_now();  // a is NULL here, b NULL in row 0
    const auto m = decode_fresh(buf);
    CHECK(row_json(m.tables[0], 0) == R"({"a":1,"b":null})");
    CHECK(row_json(m.tables[0], 1) == R"({"a":null,"b":2})");

    // Errors name the table and column, and say what is wrong.
    row_buffer bad;
    bad.table("t").column("a", 1).column("a", 2).at_now();
    CHECK(bad.error() == qwp::errc::bad_column);
    CHECK(std::string(bad.error().detail()) == "table 't', column 'a': set twice in one row");
    row_buffer bad2;
    bad2.table("t").column("a", 1).at_now();
    bad2.table("t").column("a", 1.5).at_now();  // type change
    CHECK(bad2.error() == qwp::errc::bad_column);
    CHECK(std::string(bad2.error().detail()) == "table 't', column 'a': DOUBLE value for a LONG column");
    row_buffer bad3;
    bad3.table(std::string(128, 'x')).column("a", 1).at_now();
    CHECK(bad3.error() == qwp::errc::bad_name);

    std::vector<std::int32_t> codes = {0, 5};
    std::vector<std::string_view> d = {"x"};
    chunk c("t", 2);
    c.symbol<std::int32_t>("s", codes, d);
    symbol_dict dict2;
    message_builder b2(dict2);
    const auto e1 = encode(b2, c);
    CHECK(e1.error() == qwp::errc::bad_column);  // code out of the dictionary
    CHECK(std::string(e1.error().detail()) == "table 't', column 's' (SYMBOL): row 1: symbol code 5 past the dictionary");
    CHECK(b2.table_count() == 0);
    CHECK(b2.body_size() == 0);
    std::vector<std::int32_t> offs = {0, 5, 3};
    const std::byte data[8]{};
    chunk c2("t", 2);
    c2.varchar("v", std::span<const std::int32_t>(offs), data);
    const auto e2 = encode(b2, c2);
    CHECK(e2.error() == qwp::errc::bad_column);  // offsets going backwards
    CHECK(std::string(e2.error().detail()) == "table 't', column 'v' (VARCHAR): row 1: offsets decrease");
}

TEST_CASE("qwp encoder: a row buffer reused after clear() writes what a fresh one writes") {
    // Batch 1 names sym, qty, px; batch 2 only sym and a new column, px
    // again with another type, and a symbol batch 1 did not have.
    auto batch2 = [](row_buffer& buf) {
        buf.table("trades").symbol("sym", "BTC").column("px", std::int64_t{7}).at(2);
        buf.table("trades").symbol("sym", "SOL").column("venue", "x").at(3);
    };
    row_buffer reused;
    reused.table("trades").symbol("sym", "ETH").column("qty", 1).column("px", 1.5).at(1);
    reused.table("other").column("v", 1).at_now();
    reused.clear();
    CHECK(reused.empty());
    batch2(reused);
    row_buffer fresh;
    batch2(fresh);

    auto bytes = [](const row_buffer& buf) {
        symbol_dict dict;
        message_builder b(dict);
        REQUIRE(buf.encode(b));
        return hex(b.finish_copy());
    };
    CHECK(bytes(reused) == bytes(fresh));
    const auto m = decode_fresh(reused);
    REQUIRE(m.tables.size() == 1);  // "other" had no rows in this batch
    CHECK(row_json(m.tables[0], 0) == R"({"sym":"BTC","px":7,"timestamp":2,"venue":null})");
    CHECK(row_json(m.tables[0], 1) == R"({"sym":"SOL","px":null,"timestamp":3,"venue":"x"})");
}

TEST_CASE("qwp encoder: names and symbols that differ in one byte stay apart, at every length and position") {
    for (std::size_t len = 1; len <= 70; ++len) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            std::string a(len, 'n'), b = a;
            b[pos] = 'm';
            symbol_dict d;
            const auto ia = d.intern(a), ib = d.intern(b), ia2 = d.intern(a);
            REQUIRE((ia && ib && ia2));
            CHECK(*ia != *ib);
            CHECK(*ia2 == *ia);
            row_buffer buf;
            buf.table("t").column(a, std::int64_t{1}).column(b, std::int64_t{2}).at_now();
            buf.table("t").column(a, std::int64_t{3}).column(b, std::int64_t{4}).at_now();
            REQUIRE(!buf.error());
            const auto chunks = buf.chunks();
            REQUIRE(chunks.size() == 1);
            CHECK(chunks[0].columns().size() == 2);
        }
    }
}

TEST_CASE("qwp encoder: a dictionary changed in place, or a cleared symbol_dict, never reuses a stale id") {
    char store[] = "AB";  // the caller's dictionary bytes, changed between chunks
    const std::vector<std::string_view> d = {std::string_view(store, 1), std::string_view(store + 1, 1)};
    const std::vector<std::int32_t> both = {0, 1}, first = {0};
    symbol_dict dict;
    message_builder b(dict);
    message_decoder dec;
    auto send = [&](const std::vector<std::int32_t>& codes) {
        chunk c("t", codes.size());
        c.symbol<std::int32_t>("s", codes, d);
        b.clear();
        REQUIRE(encode(b, c));
        auto m = dec.decode(b.finish_copy());
        REQUIRE(m);
        std::vector<std::string> out;
        for (std::size_t i = 0; i < codes.size(); ++i) out.push_back(row_json(m->tables[0], i));
        return out;
    };
    CHECK(send(both) == std::vector<std::string>{R"({"s":"A"})", R"({"s":"B"})"});
    CHECK(send(first) == std::vector<std::string>{R"({"s":"A"})"});  // the kept map, still right
    store[0] = 'C';
    CHECK(send(first) == std::vector<std::string>{R"({"s":"C"})"});  // same place, new text: a new id
    CHECK(dict.size() == 3);
    // A cleared dictionary (a new connection's) numbers from 0 again.
    dict.clear();
    dec = message_decoder{};
    CHECK(send(both) == std::vector<std::string>{R"({"s":"C"})", R"({"s":"B"})"});
    CHECK(dict.size() == 2);
}

TEST_CASE("qwp encoder: varchar with 32/64-bit offsets, sliced views and nulls") {
    const std::string text = "xxfoobarbaz";
    const auto* bytes = reinterpret_cast<const std::byte*>(text.data());
    std::vector<std::int32_t> o32 = {2, 5, 5, 8, 11};
    std::vector<std::int64_t> o64 = {2, 5, 5, 8, 11};
    const std::uint8_t valid = 0b1101;  // row 1 null
    for (int wide = 0; wide < 2; ++wide) {
        chunk c("t", 4);
        if (wide)
            c.varchar("v", std::span<const std::int64_t>(o64), bytes, &valid);
        else
            c.varchar("v", std::span<const std::int32_t>(o32), bytes, &valid);
        symbol_dict dict;
        message_builder b(dict);
        REQUIRE(encode(b, c));
        const std::string h = hex(b.finish_copy());
        // The spec's 4.4 example.
        CHECK(h.find("0102" "00000000" "03000000" "06000000" "09000000" "666f6f62617262617a") != std::string::npos);
        // Rows 2..3 only.
        b.clear();
        REQUIRE(encode(b, c, 2, 2));
        message_decoder dec;
        auto m = dec.decode(b.finish_copy());
        REQUIRE(m);
        CHECK(texts(m->tables[0].columns[0]) == std::vector<std::string>{"bar", "baz"});
    }
}

TEST_CASE("qwp decoder: random bytes and corruptions give errors, never crashes") {
    const auto golden = unhex(fixture("m0-equivalent-buffer.hex"));
    {
        message_decoder dec;
        auto m = dec.decode(golden);
        REQUIRE(m);
        CHECK(m->tables[0].rows == 10);
    }
    for (std::size_t cut = 0; cut < golden.size(); ++cut) {
        message_decoder dec;
        CHECK(!dec.decode(std::span(golden).first(cut)));
    }
    std::mt19937 rng(7);
    std::size_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        auto m = golden;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<std::byte>(rng());
        message_decoder dec;
        accepted += dec.decode(m).has_value();
    }
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::byte> m(12 + rng() % 64);
        for (auto& x : m) x = static_cast<std::byte>(rng());
        std::memcpy(m.data(), "QWP1\x01", 5);
        const std::uint32_t len = static_cast<std::uint32_t>(m.size() - 12);
        std::memcpy(m.data() + 8, &len, 4);
        message_decoder dec;
        (void)dec.decode(m);
    }
    CHECK(accepted < 20000);
}

TEST_CASE("qwp responses: the spec's examples, and length checks") {
    auto ok = decode_response(unhex("0005000000000000000100060074726164657" "32a00000000000000"));
    REQUIRE(ok);
    CHECK(ok->status == status::ok);
    CHECK(ok->sequence == 5);
    REQUIRE(ok->tables.size() == 1);
    CHECK(ok->tables[0] == std::pair<std::string, std::int64_t>("trades", 42));
    CHECK(hex(encode_response(*ok)) == "0005000000000000000100060074726164657" "32a00000000000000");
    auto err = decode_response(unhex("050300000000000000030062616" "4"));
    REQUIRE(err);
    CHECK(err->status == status::parse_error);
    CHECK(err->sequence == 3);
    CHECK(err->message == "bad");
    CHECK(err->is_error());
    CHECK(!decode_response(unhex("00050000000000000000000000")));  // trailing bytes
    CHECK(!decode_response(unhex("000500000000")));                 // truncated
    auto minimal = decode_response(unhex("0007000000000000000000"));
    REQUIRE(minimal);
    CHECK(minimal->tables.empty());
    auto unknown = decode_response(unhex("7f01"));
    REQUIRE(unknown);
    CHECK(unknown->is_error());
    CHECK(status_error(unknown->status) == qwp::errc::unknown_status);
    CHECK(retriable(status_error(unknown->status)));
    CHECK(!retriable(status_error(status::schema_mismatch)));
    CHECK(retriable(status_error(status::write_error)));
}


TEST_CASE("qwp decoder: columns come out as flat views (a NULL bitmap, offsets into one byte buffer), no object per row") {
    row_buffer buf;
    buf.table("t").column("s", "ab").column("v", 1).at_now();
    buf.table("t").null("s", type::varchar).column("v", 2).at_now();
    buf.table("t").column("s", "").column("v", 3).at_now();
    buf.table("t").column("s", "cde").null("v", type::long_).at_now();
    const auto m = decode_fresh(buf);
    const decoded_column* s = nullptr;
    const decoded_column* v = nullptr;
    for (const auto& c : m.tables[0].columns) {
        if (c.name == "s") s = &c;
        if (c.name == "v") v = &c;
    }
    REQUIRE(s);
    REQUIRE(v);
    CHECK(s->rows == 4);
    CHECK(std::vector<std::uint32_t>(s->text_offsets().begin(), s->text_offsets().end()) ==
          std::vector<std::uint32_t>{0, 2, 2, 2, 5});
    CHECK(std::string(reinterpret_cast<const char*>(s->text_bytes().data()), s->text_bytes().size()) == "abcde");
    CHECK(s->null_bitmap().size() == 1);
    CHECK(s->null_bitmap()[0] == 0b0010);
    CHECK(s->null_bit(1));
    CHECK_FALSE(s->null_bit(2));  // an empty string is not NULL
    CHECK(s->text(3) == "cde");
    const auto values = v->values<std::int64_t>();
    REQUIRE(values.size() == 4);
    CHECK(values[0] == 1);
    CHECK(values[2] == 3);
    CHECK(v->null_bit(3));
    CHECK(v->is_null(3));
}
