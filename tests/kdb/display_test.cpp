#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/kdb/k.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

using namespace qwire::kdb;
using namespace std::chrono;

TEST_CASE("to_string: atoms as the q console prints them") {
    CHECK(to_string(new_long(42)) == "42");
    CHECK(to_string(new_long(null_long)) == "0N");
    CHECK(to_string(new_long(inf_long)) == "0W");
    CHECK(to_string(new_int(1)) == "1i");
    CHECK(to_string(new_int(null_int)) == "0Ni");
    CHECK(to_string(new_short(-234)) == "-234h");
    CHECK(to_string(new_bool(true)) == "1b");
    CHECK(to_string(new_byte(0x2a)) == "0x2a");
    CHECK(to_string(new_float(3.234)) == "3.234");
    CHECK(to_string(new_float(1.0)) == "1f");
    CHECK(to_string(new_float(null_float)) == "0n");
    CHECK(to_string(new_real(5.5f)) == "5.5e");
    CHECK(to_string(new_symbol("abc")) == "`abc");
    CHECK(to_string(new_char('a')) == "\"a\"");
    CHECK(to_string(new_timestamp(timestamp_t(sys_days(year(2024) / January / 15) + 9h + 30min))) ==
          "2024.01.15D09:30:00.000000000");
    CHECK(to_string(new_date(366)) == "2001.01.01");
    CHECK(to_string(new_month(12)) == "2001.01m");
    CHECK(to_string(new_timespan(nanoseconds(5h + 36min + 57s + 600ms))) == "0D05:36:57.600000000");
    CHECK(to_string(new_minute(minutes(12 * 60 + 1))) == "12:01");
    CHECK(to_string(new_second(seconds(12 * 3600 + 5 * 60))) == "12:05:00");
    CHECK(to_string(new_time(milliseconds(12 * 3600000 + 4 * 60000 + 59123))) == "12:04:59.123");
    CHECK(to_string(new_datetime(3.234)) == "2000.01.04T05:36:57.600");
    CHECK(to_string(new_timestamp(null_long)) == "0Np");
    CHECK(to_string(new_date(null_int)) == "0Nd");
    CHECK(to_string(new_error("type")) == "'type");
    CHECK(to_string(new_null()) == "::");
}

TEST_CASE("to_string: vectors and lists") {
    CHECK(to_string(new_long_list({1, 2, 3})) == "1 2 3");
    CHECK(to_string(new_long_list({1, null_long, 3})) == "1 0N 3");
    CHECK(to_string(new_int_list({1, 2})) == "1 2i");
    CHECK(to_string(new_float_list({1, 2})) == "1 2f");
    CHECK(to_string(new_float_list({1.5, 2})) == "1.5 2");
    CHECK(to_string(new_symbol_list({"a", "b"})) == "`a`b");
    CHECK(to_string(new_symbol_list({"a"})) == ",`a");
    CHECK(to_string(new_long_list({7})) == ",7");
    CHECK(to_string(new_string("abc")) == "\"abc\"");
    CHECK(to_string(new_vector(qtype::boolean, 3)) == "000b");
    CHECK(to_string(new_vector(qtype::long_, 0)) == "`long$()");
    CHECK(to_string(new_list()) == "()");
    CHECK(to_string(new_list_of(new_long(1), new_symbol("a"), new_string("x"))) == "1\n`a\n,\"x\"\n");
}

TEST_CASE("to_string: dictionaries and tables") {
    CHECK(to_string(new_dict(new_symbol_list({"a", "bb"}), new_long_list({1, 2})).value()) == "a | 1\nbb| 2\n");
    auto t = new_table({"sym", "price"}, {new_symbol_list({"IBM", "MSFT"}), new_float_list({101.5, 27.25})}).value();
    CHECK(to_string(t) == "sym  price\n----------\nIBM  101.5\nMSFT 27.25\n");
    auto kt = new_keyed_table(new_table({"sym"}, {new_symbol_list({"a", "b"})}).value(),
                              new_table({"px"}, {new_long_list({1, 2})}).value())
                  .value();
    CHECK(to_string(kt) == "sym| px\n---| --\na  | 1 \nb  | 2 \n");
}

TEST_CASE("to_string: never throws, for a dictionary with atom keys or extreme temporal values") {
    // 7f ff ff ff ff: a sorted dict whose key and value are boolean atoms.
    const std::vector<std::uint8_t> atom_dict = {0x7f, 0xff, 0xff, 0xff, 0xff};
    auto d = decode(std::as_bytes(std::span(atom_dict)));
    REQUIRE(d);
    std::string text;
    REQUIRE_NOTHROW(text = to_string(*d));
    CHECK(text == "`s#(1b)!1b");  // 7f: a sorted dictionary
    // Values at the edges of each type (UBSan checks the arithmetic).
    for (double v : {1e300, -1e300, 2147483647.0, -2147483648.0, 1e-300})
        REQUIRE_NOTHROW(text = to_string(new_datetime(v)));
    CHECK(to_string(new_datetime(1e300)) == "0w");
    CHECK(to_string(new_datetime(-1e300)) == "-0w");
    for (std::int32_t v : {2147483646, -2147483646, 0}) {
        REQUIRE_NOTHROW(text = to_string(new_month(v)));
        REQUIRE_NOTHROW(text = to_string(new_date(v)));
        REQUIRE_NOTHROW(text = to_string(new_minute(v)));
        REQUIRE_NOTHROW(text = to_string(new_second(v)));
        REQUIRE_NOTHROW(text = to_string(new_time(v)));
    }
    for (std::int64_t v : {std::int64_t{9'223'372'036'854'775'806}, std::int64_t{-9'223'372'036'854'775'806}}) {
        REQUIRE_NOTHROW(text = to_string(new_timestamp(v)));
        REQUIRE_NOTHROW(text = to_string(new_timespan(v)));
    }
    CHECK(to_string(new_month(0)) == "2000.01m");
}

TEST_CASE("to_string: q pads every table column, the last included, and rules the full width") {
    auto t = new_table({"a", "b"}, {new_long_list({1, 2}), new_symbol_list({"x", "yy"})}).value();
    CHECK(to_string(t) == "a b \n----\n1 x \n2 yy\n");
    // Keyed: the dashes run under each side's full width.
    auto kt = new_keyed_table(new_table({"sym"}, {new_symbol_list({"a", "b"})}).value(),
                              new_table({"px"}, {new_long_list({1, 2})}).value())
                  .value();
    CHECK(to_string(kt) == "sym| px\n---| --\na  | 1 \nb  | 2 \n");
    auto kt2 = new_keyed_table(new_table({"a", "c"}, {new_long_list({1, 2}), new_long_list({3, 4})}).value(),
                               new_table({"b"}, {new_symbol_list({"x", "yyy"})}).value())
                   .value();
    CHECK(to_string(kt2) == "a c| b  \n---| ---\n1 3| x  \n2 4| yyy\n");
    // An empty table: the header and the rule.
    CHECK(to_string(new_table({"a", "bb"}, {new_vector(qtype::long_, 0), new_symbol_list({})}).value()) == "a bb\n----\n");
    // String and nested columns, nulls in cells.
    auto s = new_table({"s", "n"}, {new_list_of(new_string("ab"), new_string("c")), new_long_list({null_long, 7})}).value();
    CHECK(to_string(s) == "s  n \n-----\nab 0N\nc  7 \n");
}

TEST_CASE("to_string: attributes on lists, a sorted dictionary, dictionaries of tables") {
    CHECK(to_string(new_long_list({1, 2, 3}).set_attribute(attr::sorted)) == "`s#1 2 3");
    CHECK(to_string(new_symbol_list({"a", "b"}).set_attribute(attr::unique)) == "`u#`a`b");
    CHECK(to_string(new_long_list({1, 1, 2}).set_attribute(attr::parted)) == "`p#1 1 2");
    CHECK(to_string(new_long_list({5}).set_attribute(attr::grouped)) == "`g#,5");
    CHECK(to_string(new_string("abc").set_attribute(attr::sorted)) == "`s#\"abc\"");
    CHECK(to_string(new_vector(qtype::long_, 0).set_attribute(attr::sorted)) == "`s#`long$()");
    // A sorted dictionary (type 127), inline inside a list: `s# once, outside.
    k sorted = new_dict(new_symbol_list({"a", "b"}).set_attribute(attr::sorted), new_long_list({1, 2})).value();
    sorted.node().t = qtype::sorted_dict;
    CHECK(to_string(new_list_of(sorted, new_long(3))) == "`s#`a`b!1 2\n3\n");
    // Keys that need parentheses to read back: one-item lists, keys with their own attribute.
    auto one = new_dict(new_symbol_list({"a"}), new_long_list({1})).value();
    CHECK(to_string(new_list_of(one, new_long(3))) == "(,`a)!,1\n3\n");
    auto unique_keys = new_dict(new_symbol_list({"a", "b"}).set_attribute(attr::unique), new_long_list({1, 2})).value();
    CHECK(to_string(new_list_of(unique_keys, new_long(3))) == "(`u#`a`b)!1 2\n3\n");
    // A dictionary of tables: each table inline, as q's -3! writes it.
    auto t1 = new_table({"x"}, {new_long_list({1, 2})}).value();
    auto t2 = new_table({"x", "y"}, {new_long_list({3}), new_symbol_list({"z"})}).value();
    CHECK(to_string(new_dict(new_symbol_list({"a", "b"}), new_list_of(t1, t2)).value()) ==
          "a| +(,`x)!,1 2\nb| +`x`y!(,3;,`z)\n");
}

TEST_CASE("to_string: empty lists of each type, nested and mixed lists") {
    const std::pair<type_t, const char*> empties[] = {
        {qtype::boolean, "`boolean$()"}, {qtype::guid, "`guid$()"},     {qtype::byte, "`byte$()"},
        {qtype::short_, "`short$()"},    {qtype::int_, "`int$()"},      {qtype::long_, "`long$()"},
        {qtype::real, "`real$()"},       {qtype::float_, "`float$()"},  {qtype::char_, "\"\""},
        {qtype::symbol, "`symbol$()"},   {qtype::timestamp, "`timestamp$()"}, {qtype::month, "`month$()"},
        {qtype::date, "`date$()"},       {qtype::datetime, "`datetime$()"},   {qtype::timespan, "`timespan$()"},
        {qtype::minute, "`minute$()"},   {qtype::second, "`second$()"}, {qtype::time, "`time$()"}};
    for (const auto& [t, text] : empties) {
        INFO("type " << int(t));
        CHECK(to_string(t == qtype::symbol ? new_symbol_list({}) : new_vector(t, 0)) == text);
    }
    CHECK(to_string(new_list_of(new_long_list({1, 2}), new_long_list({3, 4}))) == "1 2\n3 4\n");
    CHECK(to_string(new_list_of(new_list_of(new_long(1), new_symbol("a")), new_string("xy"))) == "(1;`a)\n\"xy\"\n");
    CHECK(to_string(new_list_of(new_list(), new_list_of(new_long(1)))) == "()\n,1\n");
    CHECK(to_string(new_list_of(new_null(), new_long(1))) == "::\n1\n");
    // Infinities and nulls of each integral type, in vectors.
    CHECK(to_string(new_int_list({inf_int, -inf_int, null_int})) == "0W -0W 0Ni");
    CHECK(to_string(new_float_list({std::numeric_limits<double>::infinity(), null_float})) == "0w 0n");
}

TEST_CASE("to_string: functions, primitives, projections, iterators") {
    CHECK(to_string(new_lambda("", "{x+y}")) == "{x+y}");
    CHECK(to_string(new_primitive(qtype::binary_primitive, 1)) == "+");
    CHECK(to_string(new_primitive(qtype::binary_primitive, 0x17)) == "in");
    CHECK(to_string(new_primitive(qtype::unary_primitive, 2)) == "-:");
    CHECK(to_string(new_primitive(qtype::unary_primitive, 0x29)) == "enlist");
    CHECK(to_string(new_primitive(qtype::unary_primitive, 0x80)) == "<primitive 128>");
    CHECK(to_string(new_function(qtype::projection, {new_lambda("", "{x+y}"), new_long(3)})) == "{x+y}[3]");
    const k elided = new_primitive(qtype::unary_primitive, 0xff);
    CHECK(to_string(new_function(qtype::projection, {new_lambda("", "{x+y+z}"), elided, new_long(2), elided})) ==
          "{x+y+z}[;2;]");
    CHECK(to_string(new_function(static_cast<type_t>(qtype::each + 1), {new_primitive(qtype::binary_primitive, 1)})) == "+/");
    CHECK(to_string(new_function(qtype::each, {new_lambda("", "{x}")})) == "{x}'");
    CHECK(to_string(new_function(qtype::each_left, {new_primitive(qtype::binary_primitive, 12)})) == ",\\:");
    CHECK(to_string(new_function(qtype::composition,
                                 {new_primitive(qtype::unary_primitive, 2), new_primitive(qtype::binary_primitive, 1)})) ==
          "'[-:;+]");
}

TEST_CASE("to_string at a console size: q's .. for long lines and for more lines than fit") {
    std::vector<std::int64_t> til100(100);
    for (std::int64_t i = 0; i < 100; ++i) til100[static_cast<std::size_t>(i)] = i;
    // Inside 79 columns: 76 characters and "..".
    const std::string line = to_string(new_long_list(til100), console_size{23, 79});
    CHECK(line == "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28..");
    CHECK(line.size() == 78);
    // \c 10 10: eight lines, then "..".
    std::vector<k> rows;
    for (int i = 0; i < 10; ++i) rows.push_back(new_long_list(til100));
    CHECK(to_string(new_list(rows), console_size{10, 10}) ==
          "0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n0 1 2 3..\n..\n");
    // Sizes outside 10..2000 are brought inside, as q does.
    CHECK(to_string(new_list(rows), console_size{5, 5}) == to_string(new_list(rows), console_size{10, 10}));
    // What fits is printed whole.
    CHECK(to_string(new_long_list({1, 2, 3}), console_size{}) == "1 2 3");
    // A million-row table at 25x80: header, rule, 21 rows, "..".
    const std::size_t n = 1'000'000;
    k prices = new_vector(qtype::float_, n), syms = new_symbol_list(std::vector<std::string>(n, "IBM"));
    for (std::size_t i = 0; i < n; ++i) {
        const double v = 100.0 + static_cast<double>(i % 100) / 4;
        std::memcpy(prices.node().data.data() + i * 8, &v, 8);
    }
    const std::string big = to_string(new_table({"sym", "price"}, {syms, prices}).value(), console_size{});
    CHECK(big.starts_with("sym price \n----------\nIBM 100   \nIBM 100.25\n"));
    CHECK(std::count(big.begin(), big.end(), '\n') == 24);
    CHECK(big.ends_with("\n..\n"));
}
