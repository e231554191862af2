#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/kdb/k.hpp>

#include <catch2/catch.hpp>

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
    CHECK(to_string(kt) == "sym| px\n---| --\na  | 1\nb  | 2\n");
}

TEST_CASE("to_string: never throws, for a dictionary with atom keys or extreme temporal values") {
    // 7f ff ff ff ff: a sorted dict whose key and value are boolean atoms.
    const std::vector<std::uint8_t> atom_dict = {0x7f, 0xff, 0xff, 0xff, 0xff};
    auto d = decode(std::as_bytes(std::span(atom_dict)));
    REQUIRE(d);
    std::string text;
    REQUIRE_NOTHROW(text = to_string(*d));
    CHECK(text == "(1b)!1b");
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
