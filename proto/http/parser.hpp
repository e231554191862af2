// Parsing HTTP/1.1 heads with size limits, and reading a request or a
// response (with its Content-Length or chunked body) from a byte_stream.
// Bytes that arrive after the head (the first WebSocket frames, or a body)
// stay in the caller's byte_buffer.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>
#include <qwire/proto/http/chunked.hpp>
#include <qwire/proto/http/message.hpp>

#include <optional>
#include <span>

namespace qwire::http {

// Parses a head from the front of `in`: the head and its length in bytes, or
// nothing yet (more bytes are needed), or an error.
struct parsed_request {
    request head;
    std::size_t length = 0;
};
struct parsed_response {
    response head;
    std::size_t length = 0;
};
result<std::optional<parsed_request>> parse_request(std::span<const std::byte> in, const limits& lim = {});
result<std::optional<parsed_response>> parse_response(std::span<const std::byte> in, const limits& lim = {});

// Reads a head from s into `in` and parses it; its bytes are consumed from
// `in`, whatever followed stays there. A response with a Content-Length or
// a chunked body (up to lim.max_body_bytes) also gets its body.
template <byte_stream S>
task<result<request>> read_request(S& s, byte_buffer& in, op_options o = {}, limits lim = {});
template <byte_stream S>
task<result<response>> read_response(S& s, byte_buffer& in, op_options o = {}, limits lim = {});
// The body of a request or response whose head was read: chunked, or by
// Content-Length (none without either), up to lim.max_body_bytes.
template <byte_stream S, class Message>
task<result<void>> read_body(S& s, byte_buffer& in, Message& m, op_options o, const limits& lim);

namespace detail {
template <byte_stream S>
task<result<void>> read_more(S& s, byte_buffer& in, op_options o) {
    auto space = in.prepare(4096);
    auto n = co_await s.read_some(space, o);
    if (!n) co_return n.error();
    in.commit(*n);
    co_return result<void>{};
}
}  // namespace detail

template <byte_stream S, class Message>
task<result<void>> read_body(S& s, byte_buffer& in, Message& m, op_options o, const limits& lim) {
    if (m.headers.has_token("Transfer-Encoding", "chunked")) {
        chunked_decoder dec(lim.max_body_bytes);
        for (;;) {
            auto done = dec.feed(in, m.body);
            if (!done) co_return done.error();
            if (*done) co_return result<void>{};
            auto more = co_await detail::read_more(s, in, o);
            if (!more) co_return more.error();
        }
    }
    auto cl = m.headers.get("Content-Length");
    if (!cl) co_return result<void>{};
    std::size_t len = 0;
    if (cl->empty()) co_return make_error_code(errc::malformed_header);
    for (char c : *cl) {
        if (c < '0' || c > '9') co_return make_error_code(errc::malformed_header);
        if (len > lim.max_body_bytes) co_return make_error_code(errc::body_too_large);
        len = len * 10 + static_cast<std::size_t>(c - '0');
    }
    if (len > lim.max_body_bytes) co_return make_error_code(errc::body_too_large);
    while (in.size() < len) {
        auto more = co_await detail::read_more(s, in, o);
        if (!more) co_return more.error();
    }
    m.body.assign(reinterpret_cast<const char*>(in.data().data()), len);
    in.consume(len);
    co_return result<void>{};
}

template <byte_stream S>
task<result<request>> read_request(S& s, byte_buffer& in, op_options o, limits lim) {
    for (;;) {
        auto p = parse_request(in.data(), lim);
        if (!p) co_return p.error();
        if (*p) {
            in.consume((*p)->length);
            co_return std::move((*p)->head);
        }
        auto more = co_await detail::read_more(s, in, o);
        if (!more) co_return more.error();
    }
}

template <byte_stream S>
task<result<response>> read_response(S& s, byte_buffer& in, op_options o, limits lim) {
    for (;;) {
        auto p = parse_response(in.data(), lim);
        if (!p) co_return p.error();
        if (*p) {
            in.consume((*p)->length);
            response r = std::move((*p)->head);
            if (r.status == 101) co_return r;  // what follows is the new protocol's, not a body
            if (auto body = co_await read_body(s, in, r, o, lim); !body) co_return body.error();
            co_return r;
        }
        auto more = co_await detail::read_more(s, in, o);
        if (!more) co_return more.error();
    }
}

}  // namespace qwire::http
