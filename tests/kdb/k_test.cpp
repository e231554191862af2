#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/codec.hpp>

#include <catch2/catch.hpp>

#include <cmath>


using namespace qwire::kdb;
using qwire::byte_buffer;
using qwire::result;
using namespace std::chrono;

TEST_CASE("k: atoms and their accessors") {
    CHECK(new_long(42).get_long().value() == 42);
    CHECK(new_bool(true).get_bool().value());
    CHECK(new_symbol("IBM").get_symbol().value() == "IBM");
    CHECK(new_char('x').get_char().value() == 'x');
    CHECK(new_float(1.5).get_float().value() == 1.5);
    CHECK(new_timestamp(7).get_long().value() == 7);
    CHECK(new_date(3).get_int().value() == 3);
    // Wrong type: an error, not a crash.
    CHECK(new_long(1).get_float().error() == errc::type_mismatch);
    CHECK(new_symbol("a").get_long().error() == errc::type_mismatch);
    CHECK(new_long(1).column("x").error() == errc::type_mismatch);
    // A symbol ends at its first NUL, as on the wire.
    CHECK(new_symbol(std::string_view("ab\0cd", 5)).get_symbol().value() == "ab");
}

TEST_CASE("k: vectors are viewed in place") {
    auto v = new_long_list({1, 2, 3});
    auto view = v.get_long_list().value();
    CHECK(view.size() == 3);
    CHECK(view[2] == 3);
    CHECK(view.data() == v.data<std::int64_t>().data());  // no copy
    CHECK(v.get_int_list().error() == errc::type_mismatch);
    CHECK(v.item(1).value().get_long().value() == 2);
    CHECK(v.item(3).error() == errc::index_out_of_range);
    REQUIRE(v.push_back(new_long(4)));
    CHECK(v.count() == 4);
    CHECK(v.push_back(new_int(5)).error() == errc::type_mismatch);

    auto s = new_symbol_list({"a", "bc", ""});
    auto names = s.get_symbol_list().value();
    CHECK(names.size() == 3);
    CHECK(names[1] == "bc");
    CHECK(names[2].empty());
    REQUIRE(s.push_back(new_symbol("d")));
    CHECK(s.get_symbol_list().value()[3] == "d");
    CHECK(new_string("hello").get_string().value() == "hello");
}

TEST_CASE("k: dictionaries, tables, keyed tables") {
    auto d = new_dict(new_symbol_list({"a", "b"}), new_long_list({1, 2})).value();
    CHECK(d.is_dict());
    CHECK(d.count() == 2);
    CHECK(new_dict(new_symbol_list({"a"}), new_long_list({1, 2})).error() == errc::length_mismatch);

    auto t = new_table({"sym", "price"}, {new_symbol_list({"a", "b"}), new_float_list({1.5, 2.5})}).value();
    CHECK(t.is_table());
    CHECK(t.count() == 2);
    CHECK(t.column("price").value().get_float_list().value()[1] == 2.5);
    CHECK(t.column("size").error() == errc::no_such_column);
    CHECK(new_table({"a", "b"}, {new_long_list({1}), new_long_list({1, 2})}).error() == errc::length_mismatch);

    auto kt = new_keyed_table(new_table({"sym"}, {new_symbol_list({"a"})}).value(),
                              new_table({"px"}, {new_float_list({1.0})}).value())
                  .value();
    CHECK(kt.is_keyed_table());
    CHECK(kt.column("px").value().get_float_list().value()[0] == 1.0);
}

TEST_CASE("k: std::chrono conversions") {
    const auto ts = sys_days(year(2024) / January / 15) + 9h + 30min;
    CHECK(from_kdb_timestamp(to_kdb_timestamp(timestamp_t(ts))) == ts);
    CHECK(to_kdb_timestamp(timestamp_t(sys_days(year(2000) / January / 1))) == 0);
    CHECK(to_kdb_date(sys_days(year(2001) / January / 1)) == 366);
    CHECK(from_kdb_date(-1) == sys_days(year(1999) / December / 31));
    CHECK(to_kdb_month(year(2001) / January) == 12);
    CHECK(from_kdb_month(-1) == year(1999) / December);
    CHECK(from_kdb_datetime(to_kdb_datetime(sys_time<milliseconds>(sys_days(year(2010) / May / 3) + 1234ms))) ==
          sys_time<milliseconds>(sys_days(year(2010) / May / 3) + 1234ms));
}

TEST_CASE("k: capability limits what may be encoded") {
    byte_buffer b;
    CHECK(encode(new_guid({}), b, 2).error() == errc::capability);
    CHECK(encode(new_timestamp(0), b, 0).error() == errc::capability);
    CHECK(encode(new_list_of(new_long(1), new_temporal_list(qtype::timespan, std::vector<std::int64_t>{1})), b, 0).error() ==
          errc::capability);
    CHECK(encode(new_guid({}), b, 3));
}

TEST_CASE("k: big-endian input decodes to the same values") {
    // `1 2 3` and (1i;`ab;1.5) as a big-endian sender (javakdb <= 2.1.1) writes them.
    const std::vector<std::uint8_t> be_longs = {0x07, 0x00, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,
                                                0,    0,    0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3};
    auto x = decode(std::as_bytes(std::span(be_longs)), false);
    REQUIRE(x);
    CHECK(*x == new_long_list({1, 2, 3}));

    const std::vector<std::uint8_t> be_mixed = {0x00, 0x00, 0, 0, 0, 3, 0xfa, 0, 0, 0, 1, 0xf5, 'a', 'b', 0,
                                                0xf7, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    auto y = decode(std::as_bytes(std::span(be_mixed)), false);
    REQUIRE(y);
    CHECK(*y == new_list_of(new_int(1), new_symbol("ab"), new_float(1.5)));

    // A whole big-endian message: header byte 0 = 0, length big-endian.
    byte_buffer le;
    REQUIRE(encode_message(new_int(7), msg_type::sync, le));
    std::vector<std::uint8_t> be = {0, 1, 0, 0, 0, 0, 0, 13, 0xfa, 0, 0, 0, 7};
    auto m = decode_message(std::as_bytes(std::span(be)));
    REQUIRE(m);
    CHECK(m->type == msg_type::sync);
    CHECK(m->value.get_int().value() == 7);
}

TEST_CASE("k: nulls and infinities survive a round trip") {
    auto v = new_list_of(new_short(null_short), new_int(null_int), new_long(null_long), new_real(null_real),
                         new_float(null_float), new_long(inf_long), new_long(-inf_long), new_symbol(""), new_char(' '));
    byte_buffer b;
    REQUIRE(encode(v, b));
    auto back = decode(b.data());
    REQUIRE(back);
    CHECK(*back == v);
    CHECK(std::isnan(back->item(4).value().get_float().value()));
}

TEST_CASE("k: functions round-trip as opaque values") {
    auto proj = new_function(qtype::projection, {new_lambda("", "{x+y}"), new_long(3)});
    auto comp = new_function(qtype::composition, {new_primitive(qtype::unary_primitive, 0x1c), proj});
    auto each = new_function(qtype::each, {new_lambda("q", "{x}")});
    for (const k& f : {proj, comp, each, new_primitive(qtype::binary_primitive, 5), new_primitive(qtype::iterator, 2)}) {
        byte_buffer b;
        REQUIRE(encode(f, b));
        auto back = decode(b.data());
        REQUIRE(back);
        CHECK(*back == f);
        CHECK(back->is_function());
    }
}

TEST_CASE("k: take and join, as q's @ and , on vectors, lists and tables") {
    const k t = new_table({"sym", "px", "n"}, {new_symbol_list({"a", "b", "c"}), new_float_list({1, 2, 3}), new_list_of(new_long(1), new_symbol("x"), new_string("yz"))}).value();
    const std::size_t rows[] = {2, 0, 2};
    auto picked = take(t, rows);
    REQUIRE(picked);
    CHECK(to_string(*picked) == to_string(new_table({"sym", "px", "n"}, {new_symbol_list({"c", "a", "c"}), new_float_list({3, 1, 3}),
                                                                          new_list_of(new_string("yz"), new_long(1), new_string("yz"))})
                                               .value()));
    const std::size_t bad[] = {3};
    CHECK(take(t, bad).error() == errc::index_out_of_range);
    CHECK(take(new_long(1), rows).error() == errc::index_out_of_range);
    auto both = join(t, *picked);
    REQUIRE(both);
    CHECK(both->count() == 6);
    CHECK(to_string(both->column("px").value()) == "1 2 3 3 1 3f");
    CHECK(to_string(join(new_long_list({1, 2}), new_long_list({3})).value()) == "1 2 3");
    CHECK(to_string(join(new_symbol_list({"a"}), new_symbol_list({"b"})).value()) == "`a`b");
    CHECK(join(new_long_list({1}), new_float_list({2})).value().type() == qtype::list);
    const k other = new_table({"x"}, {new_long_list({1})}).value();
    CHECK(join(t, other).error() == errc::length_mismatch);
    CHECK(join(new_long(1), new_long(2)).error() == errc::type_mismatch);
}
