#include <qwire/proto/http/parser.hpp>

#include <qwire/proto/http/detail/text.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::http {
namespace {

bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Finds the blank line ending the head; splits the lines; parses headers.
// On success *start is the start line and the head's length is returned.
result<std::optional<std::size_t>> split_head(std::span<const std::byte> in, const limits& lim, std::string_view* start,
                                              headers* out) {
    const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
    const std::size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (text.size() > lim.max_head_bytes) return make_error_code(errc::head_too_large);
        return std::optional<std::size_t>{};
    }
    if (end + 4 > lim.max_head_bytes) return make_error_code(errc::head_too_large);
    std::string_view rest = text.substr(0, end + 2);
    const std::size_t first = rest.find("\r\n");
    *start = rest.substr(0, first);
    rest.remove_prefix(first + 2);
    while (!rest.empty()) {
        const std::size_t eol = rest.find("\r\n");
        const std::string_view line = rest.substr(0, eol);
        rest.remove_prefix(eol + 2);
        const std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) return make_error_code(errc::malformed_header);
        const std::string_view name = line.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_token_char)) return make_error_code(errc::malformed_header);
        const std::string_view value = detail::trim(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) { return (c >= 0 && c < 32 && c != '\t') || c == 127; }))
            return make_error_code(errc::malformed_header);
        if (out->items().size() >= lim.max_headers) return make_error_code(errc::too_many_headers);
        out->add(std::string(name), std::string(value));
    }
    return std::optional<std::size_t>{end + 4};
}

}  // namespace

result<std::optional<parsed_request>> parse_request(std::span<const std::byte> in, const limits& lim) {
    std::string_view start;
    parsed_request p;
    auto len = split_head(in, lim, &start, &p.head.headers);
    if (!len) return len.error();
    if (!*len) return std::optional<parsed_request>{};
    // METHOD SP target SP HTTP/1.x
    const std::size_t sp1 = start.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) return make_error_code(errc::malformed_start_line);
    const std::string_view version = start.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return make_error_code(errc::malformed_start_line);
    p.head.method = std::string(start.substr(0, sp1));
    p.head.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    if (!std::all_of(p.head.method.begin(), p.head.method.end(), is_token_char))
        return make_error_code(errc::malformed_start_line);
    p.length = **len;
    return std::optional<parsed_request>(std::move(p));
}

result<std::optional<parsed_response>> parse_response(std::span<const std::byte> in, const limits& lim) {
    std::string_view start;
    parsed_response p;
    auto len = split_head(in, lim, &start, &p.head.headers);
    if (!len) return len.error();
    if (!*len) return std::optional<parsed_response>{};
    // HTTP/1.x SP 3DIGIT SP reason
    if (start.size() < 12 || (start.substr(0, 9) != "HTTP/1.1 " && start.substr(0, 9) != "HTTP/1.0 "))
        return make_error_code(errc::malformed_start_line);
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (start[i] < '0' || start[i] > '9') return make_error_code(errc::malformed_start_line);
        status = status * 10 + (start[i] - '0');
    }
    if (start.size() > 12 && start[12] != ' ') return make_error_code(errc::malformed_start_line);
    p.head.status = status;
    p.head.reason = start.size() > 13 ? std::string(start.substr(13)) : std::string();
    p.length = **len;
    return std::optional<parsed_response>(std::move(p));
}

}  // namespace qwire::http
