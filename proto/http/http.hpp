// The small part of HTTP/1.1 that a WebSocket upgrade and a REST call need:
// writing a request or response head, parsing one with size limits, reading
// one from a byte_stream with its body (Content-Length or chunked), and the
// Authorization header's Basic and Bearer forms.
//
// Bytes that arrive after the head (the first WebSocket frames, or a body)
// stay in the caller's byte_buffer.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/error.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace qwire::http {

enum class errc {
    head_too_large = 1,  // no blank line within the head limit
    too_many_headers,
    malformed_start_line,
    malformed_header,
    body_too_large,
    bad_base64,
    malformed_chunk,  // Transfer-Encoding: chunked framing broken
};
const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

struct header {
    std::string name;
    std::string value;
};

struct limits {
    std::size_t max_head_bytes = 16 * 1024;
    std::size_t max_headers = 64;
    std::size_t max_body_bytes = 64 * 1024;  // bodies of error responses
};

// Header lookups compare names without regard to case.
class headers {
public:
    void add(std::string name, std::string value) { items_.push_back({std::move(name), std::move(value)}); }
    // The first value of a header, if present.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    // Whether a comma-separated header (Connection) has a token, any case.
    bool has_token(std::string_view name, std::string_view token) const noexcept;
    const std::vector<header>& items() const noexcept { return items_; }

private:
    std::vector<header> items_;
};

struct request {
    std::string method = "GET";
    std::string target = "/";
    http::headers headers;
};

struct response {
    int status = 0;
    std::string reason;
    http::headers headers;
    std::string body;
};

// Heads as text, ending with the blank line.
std::string write_head(const request& r);
std::string write_head(const response& r);
// A complete response with a text body (and Content-Length).
std::string write_with_body(response r);

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

// "Basic base64(user:password)" and "Bearer token".
std::string basic_auth(std::string_view user, std::string_view password);
std::string bearer_auth(std::string_view token);
// The user and password of a Basic Authorization value.
result<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value);

std::string base64_encode(std::span<const std::uint8_t> bytes);
result<std::string> base64_decode(std::string_view text);

// Decodes a chunked body (RFC 9112 7.1) as its bytes arrive: feed() takes
// what it can from the front of `in` into `body` and says whether the body
// (and its trailer section) is complete. Chunk extensions and trailers are
// read and dropped; the body is bounded by max_body.
class chunked_decoder {
public:
    explicit chunked_decoder(std::size_t max_body) : max_(max_body) {}
    result<bool> feed(byte_buffer& in, std::string& body);

private:
    enum class state { size_line, data, data_end, trailer, done };
    state st_ = state::size_line;
    std::size_t left_ = 0;
    std::size_t trailers_ = 0;
    std::size_t max_;
};

// Reads a head from s into `in` and parses it; its bytes are consumed from
// `in`, whatever followed stays there. A response with a Content-Length or
// a chunked body (up to lim.max_body_bytes) also gets its body.
template <byte_stream S>
task<result<request>> read_request(S& s, byte_buffer& in, op_options o = {}, limits lim = {});
template <byte_stream S>
task<result<response>> read_response(S& s, byte_buffer& in, op_options o = {}, limits lim = {});

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
            if (r.headers.has_token("Transfer-Encoding", "chunked")) {
                chunked_decoder dec(lim.max_body_bytes);
                for (;;) {
                    auto done = dec.feed(in, r.body);
                    if (!done) co_return done.error();
                    if (*done) break;
                    auto more = co_await detail::read_more(s, in, o);
                    if (!more) co_return more.error();
                }
            } else if (auto cl = r.headers.get("Content-Length")) {
                std::size_t len = 0;
                for (char c : *cl) {
                    if (c < '0' || c > '9' || len > lim.max_body_bytes) co_return make_error_code(errc::body_too_large);
                    len = len * 10 + static_cast<std::size_t>(c - '0');
                }
                if (len > lim.max_body_bytes) co_return make_error_code(errc::body_too_large);
                while (in.size() < len) {
                    auto more = co_await detail::read_more(s, in, o);
                    if (!more) co_return more.error();
                }
                r.body.assign(reinterpret_cast<const char*>(in.data().data()), len);
                in.consume(len);
            }
            co_return r;
        }
        auto more = co_await detail::read_more(s, in, o);
        if (!more) co_return more.error();
    }
}

}  // namespace qwire::http

template <>
struct std::is_error_code_enum<qwire::http::errc> : std::true_type {};
