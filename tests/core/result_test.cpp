#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/error.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace qwire;

TEST_CASE("result holds a value or an error") {
    result<int> ok = 42;
    REQUIRE(ok);
    CHECK(*ok == 42);
    CHECK(!ok.error());

    result<int> bad = errc::eof;
    REQUIRE(!bad);
    CHECK(bad.error() == errc::eof);
    CHECK_THROWS_AS(bad.value(), std::system_error);

    result<void> v;
    CHECK(v);
    result<void> e = std::make_error_code(std::errc::timed_out);
    CHECK(e.error() == std::errc::timed_out);
}

TEST_CASE("an error carries its detail by value: in message(), through copies and results, in value()'s exception") {
    const error e(errc::invalid_argument, "key 'window', value '0'");
    CHECK(e == errc::invalid_argument);
    CHECK(e.detail() == "key 'window', value '0'");
    CHECK(e.message() == make_error_code(errc::invalid_argument).message() + ": key 'window', value '0'");
    const error plain = errc::eof;
    CHECK(plain.detail().empty());
    CHECK(plain.message() == make_error_code(errc::eof).message());
    CHECK(e != plain);
    CHECK(e == error(errc::invalid_argument));  // errors compare by code
    const std::error_code code = e;             // code-only callers keep working
    CHECK(code == errc::invalid_argument);

    // Copies and the results they travel in keep the text.
    result<int> r = e;
    result<std::string> moved = r.error();
    const error copy = moved.error();
    CHECK(copy.detail() == "key 'window', value '0'");
    result<void> v = copy;
    CHECK(v.error().detail() == "key 'window', value '0'");
    try {
        (void)r.value();
        FAIL("value() of an error must throw");
    } catch (const std::system_error& x) {
        CHECK(x.code() == errc::invalid_argument);
        CHECK(std::string(x.what()).find("key 'window'") != std::string::npos);
    }
    CHECK(result<int>(7).error().detail().empty());
}

TEST_CASE("errno codes compare equal to the standard conditions") {
    CHECK(errno_code(-ECANCELED) == std::errc::operation_canceled);
    CHECK(errno_code(ECONNREFUSED) == std::errc::connection_refused);
    CHECK(make_error_code(errc::eof).message().find("closed") != std::string::npos);
}

TEST_CASE("byte_buffer reuses its storage") {
    byte_buffer b;
    for (int round = 0; round < 100; ++round) {
        auto space = b.prepare(1000);
        REQUIRE(space.size() >= 1000);
        std::memset(space.data(), round, 1000);
        b.commit(1000);
        CHECK(b.size() == 1000);
        CHECK(b.data()[999] == std::byte(round));
        b.consume(1000);
        CHECK(b.empty());
    }
    CHECK(b.capacity() < 4096);  // drained buffers rewind instead of growing
    b.append("abc", 3);
    b.consume(1);
    b.append("de", 2);
    CHECK(std::string(reinterpret_cast<const char*>(b.data().data()), b.size()) == "bcde");
}
