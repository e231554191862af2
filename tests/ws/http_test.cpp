#include <qwire/proto/http/http.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::http;

TEST_CASE("http: request and response heads round-trip through the parser") {
    request req;
    req.target = "/write/v4";
    req.headers.add("Host", "127.0.0.1:9000");
    req.headers.add("Connection", "keep-alive, Upgrade");
    const std::string text = write_head(req) + "leftover";
    auto p = parse_request(test::bytes(text));
    REQUIRE(p);
    REQUIRE(*p);
    CHECK((*p)->head.method == "GET");
    CHECK((*p)->head.target == "/write/v4");
    CHECK((*p)->head.headers.get("host") == "127.0.0.1:9000");
    CHECK((*p)->head.headers.has_token("CONNECTION", "upgrade"));
    CHECK(!(*p)->head.headers.has_token("Connection", "close"));
    CHECK(text.substr((*p)->length) == "leftover");

    // Not complete yet: no answer, no error.
    auto partial = parse_request(test::bytes(text.substr(0, 20)));
    REQUIRE(partial);
    CHECK(!*partial);

    response resp;
    resp.status = 401;
    resp.reason = "Unauthorized";
    resp.body = "no\n";
    auto r = parse_response(test::bytes(write_with_body(resp)));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK((*r)->head.status == 401);
    CHECK((*r)->head.reason == "Unauthorized");
    CHECK((*r)->head.headers.get("Content-Length") == "3");
}

TEST_CASE("http: malformed and oversized heads are errors") {
    CHECK(parse_request(test::bytes("GET\r\n\r\n")).error() == http::errc::malformed_start_line);
    CHECK(parse_request(test::bytes("GET / HTTP/2\r\n\r\n")).error() == http::errc::malformed_start_line);
    CHECK(parse_request(test::bytes("GET / HTTP/1.1\r\nno colon\r\n\r\n")).error() == http::errc::malformed_header);
    CHECK(parse_request(test::bytes("GET / HTTP/1.1\r\nbad name: x\r\n\r\n")).error() == http::errc::malformed_header);
    CHECK(parse_response(test::bytes("HTTP/1.1 2x0 OK\r\n\r\n")).error() == http::errc::malformed_start_line);
    CHECK(parse_response(test::bytes("SSH-2.0-x\r\n\r\n")).error() == http::errc::malformed_start_line);
    limits lim;
    lim.max_head_bytes = 64;
    CHECK(parse_request(test::bytes("GET / HTTP/1.1\r\nX: " + std::string(100, 'a')), lim).error() == http::errc::head_too_large);
    lim = {};
    lim.max_headers = 2;
    CHECK(parse_request(test::bytes("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n"), lim).error() == http::errc::too_many_headers);
}

TEST_CASE("http: Basic and Bearer authorization, base64") {
    CHECK(basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK(bearer_auth("tok") == "Bearer tok");
    auto up = parse_basic_auth("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    REQUIRE(up);
    CHECK(up->first == "Aladdin");
    CHECK(up->second == "open sesame");
    CHECK(!parse_basic_auth("Bearer x"));
    CHECK(!parse_basic_auth("Basic !!!!"));
    CHECK(base64_decode("Zm8=").value() == "fo");
    CHECK(base64_decode("Zg==").value() == "f");
    CHECK(!base64_decode("Zg="));
    CHECK(!base64_decode("Z=g="));
}
