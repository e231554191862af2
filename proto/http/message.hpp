// HTTP/1.1 messages as the upgrade and REST calls need them: headers,
// request and response heads, their text, and the layer's error codes.
#pragma once

#include <qwire/core/error.hpp>

#include <cstdint>
#include <optional>
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
    std::string body;  // read by read_body (a server's requests), sent by exchange
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

}  // namespace qwire::http

template <>
struct std::is_error_code_enum<qwire::http::errc> : std::true_type {};

