#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/http/http.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

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

TEST_CASE("http: read_response reads a body by Content-Length, and refuses a lying or oversized one") {
    reactor r;
    const auto read = [&r](std::string text, std::size_t max_body) {
        auto [a, b] = pipe_stream::make_pair();
        return r.block_on([](pipe_stream& a, pipe_stream& b, std::string text, std::size_t max_body) -> task<result<response>> {
            auto w = co_await a.write_all(test::bytes(text));
            REQUIRE(w);
            a.close();
            byte_buffer in;
            http::limits lim;
            lim.max_body_bytes = max_body;
            co_return co_await read_response(b, in, {}, lim);
        }(a, b, std::move(text), max_body));
    };
    auto ok = read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1024);
    REQUIRE(ok);
    CHECK(ok->body == "hello");
    CHECK(read("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello", 1024).error() == http::errc::malformed_header);
    CHECK(read("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", 1024).error() == http::errc::malformed_header);
    CHECK(read("HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n", 1024).error() == http::errc::body_too_large);
    CHECK_FALSE(read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1024));  // the peer went mid-body
}

TEST_CASE("json: the writer puts commas and colons in, escapes, and spells numbers shortest") {
    json_writer w;
    w.begin_object().key("s").value("a\"b\\c\n\x01").key("n").value(std::int64_t{-7}).key("x").value(100.01);
    w.key("inf").value(std::numeric_limits<double>::infinity()).key("nan").value(std::nan(""));
    w.key("list").begin_array().value(true).value(false).null().begin_object().end_object().begin_array().end_array();
    w.raw("{\"k\":1}").end_array().end_object();
    CHECK(w.str() == R"({"s":"a\"b\\c\n\u0001","n":-7,"x":100.01,"inf":null,"nan":null,"list":[true,false,null,{},[],{"k":1}]})");
    w.clear();
    w.begin_array().value(0.1 + 0.2).value(1e300).value(-0.0).end_array();
    CHECK(std::move(w).take() == "[0.30000000000000004,1e+300,-0]");
    CHECK(json_quote("tab\there") == "\"tab\\there\"");
}

namespace {
// An HTTP client's half of a test: writes text, then reads n responses.
task<std::vector<response>> ask(pipe_stream& s, std::string text, int n) {
    std::vector<response> out;
    auto w = co_await s.write_all(test::bytes(text));
    REQUIRE(w);
    byte_buffer in;
    for (int i = 0; i < n; ++i) {
        auto r = co_await read_response(s, in);
        if (!r) break;
        out.push_back(std::move(*r));
    }
    s.close();
    co_return out;
}

task<void> serve_pipe(pipe_stream& s, server_limits lim, bool& returned) {
    byte_buffer in;
    co_await serve_requests(
        s, in,
        [](request& q) -> task<response> {
            if (q.target == "/none") co_return response{};
            co_return make_response(200, q.method + " " + q.target + " " + q.body, "text/plain");
        },
        lim);
    returned = true;
    s.close();
}
}  // namespace

TEST_CASE("http server: keep-alive, pipelined requests, bodies by length and chunks, 4xx for what cannot be read") {
    reactor r;
    struct step {
        std::string text;
        int responses;
        std::vector<std::string> bodies;
        std::vector<int> statuses;
    };
    server_limits lim;
    lim.lim.max_body_bytes = 16;
    const std::string post = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    const std::string get = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string chunked = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    const std::vector<step> steps{
        // Three requests in one write, answered in order on one connection.
        {post + get + chunked, 3, {"POST /a hello", "GET /b ", "POST /c abcde"}, {200, 200, 200}},
        // A body over the limit is refused before it is read.
        {"POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 1, {}, {413}},
        // A lying length, a broken head, a head too long.
        {"POST /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 1, {}, {400}},
        {"GARBAGE\r\n\r\n", 1, {}, {400}},
        {"GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n", 1, {}, {431}},
        // A handler without an answer is a 500, and the connection goes on.
        {"GET /none HTTP/1.1\r\n\r\n" + get, 2, {"", "GET /b "}, {500, 200}},
        // Connection: close is honoured.
        {"GET /b HTTP/1.1\r\nConnection: close\r\n\r\n" + get, 2, {"GET /b "}, {200}},
    };
    for (const auto& st : steps) {
        INFO(st.text.substr(0, 60));
        auto [a, b] = pipe_stream::make_pair();
        bool returned = false;
        auto [got, done] = r.block_on(when_all(ask(a, st.text, st.responses), [&]() -> task<int> {
            co_await serve_pipe(b, lim, returned);
            co_return 0;
        }()));
        (void)done;
        CHECK(returned);
        std::vector<int> statuses;
        for (auto& g : got) statuses.push_back(g.status);
        CHECK(statuses == st.statuses);
        for (std::size_t i = 0; i < st.bodies.size() && i < got.size(); ++i)
            if (got[i].status == 200) CHECK(got[i].body == st.bodies[i]);
        if (!got.empty() && got.back().status >= 400) CHECK(got.back().headers.get("Connection") == "close");
    }
}
