#include <qwire/io/pipe.hpp>
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

TEST_CASE("http: chunked bodies, fed a byte at a time or whole, and their errors") {
    const std::string wire = "4\r\nWiki\r\n7;ext=1\r\npedia i\r\nB\r\nn chunks.\r\n\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
    for (const std::size_t step : {std::size_t{1}, std::size_t{3}, wire.size()}) {
        chunked_decoder dec(1024);
        byte_buffer in;
        std::string body;
        bool done = false;
        std::size_t at = 0;
        for (; at < wire.size() && !done; at += step) {
            const std::string piece = wire.substr(at, step);
            in.append(piece.data(), piece.size());
            auto r = dec.feed(in, body);
            REQUIRE(r);
            done = *r;
        }
        REQUIRE(done);
        if (at < wire.size()) in.append(wire.data() + at, wire.size() - at);
        CHECK(body == "Wikipedia in chunks.\r\n");
        CHECK(test::text(in.data()) == "NEXT");  // what follows stays
    }
    auto fails = [](const std::string& wire, std::size_t max = 1024) {
        chunked_decoder dec(max);
        byte_buffer in;
        in.append(wire.data(), wire.size());
        std::string body;
        auto r = dec.feed(in, body);
        return r ? std::error_code{} : r.error().code();
    };
    CHECK(fails("zz\r\n") == http::errc::malformed_chunk);
    CHECK(fails("\r\n") == http::errc::malformed_chunk);
    CHECK(fails("4\r\nWikiXX") == http::errc::malformed_chunk);           // no CRLF after the data
    CHECK(fails("800\r\n", 1024) == http::errc::body_too_large);         // 2048 > 1024
    CHECK(fails("ffffffffffffffffffff\r\n") == http::errc::body_too_large);  // would overflow
    CHECK(fails(std::string(5000, '1')) == http::errc::malformed_chunk);  // a size line without end
    std::string many = "0\r\n";
    for (int i = 0; i < 65; ++i) many += "T: x\r\n";
    CHECK(fails(many) == http::errc::too_many_headers);
}

TEST_CASE("http: read_response reads a chunked body over a stream") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair();
    r.block_on([](pipe_stream& a, pipe_stream& b) -> task<void> {
        const std::string text =
            "HTTP/1.1 404 Not Found\r\nServer: questDB/1.0\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n0b\r\nNot Found\r\n\r\n00\r\n\r\n";
        auto w = co_await a.write_all(test::bytes(text));
        REQUIRE(w);
        byte_buffer in;
        auto resp = co_await read_response(b, in);
        REQUIRE(resp);
        CHECK(resp->status == 404);
        CHECK(resp->body == "Not Found\r\n");
        CHECK(in.empty());
    }(a, b));
}
