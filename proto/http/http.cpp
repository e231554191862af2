#include <qwire/proto/http/http.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::http {

namespace {

struct category_impl : std::error_category {
    const char* name() const noexcept override { return "qwire.http"; }
    std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
        case errc::head_too_large: return "HTTP head larger than the limit";
        case errc::too_many_headers: return "too many HTTP headers";
        case errc::malformed_start_line: return "malformed HTTP start line";
        case errc::malformed_header: return "malformed HTTP header";
        case errc::body_too_large: return "HTTP body larger than the limit or a bad Content-Length";
        case errc::bad_base64: return "malformed base64";
        case errc::malformed_chunk: return "malformed HTTP chunked body";
        }
        return "unknown HTTP error";
    }
};

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

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
        const std::string_view value = trim(line.substr(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) { return (c >= 0 && c < 32 && c != '\t') || c == 127; }))
            return make_error_code(errc::malformed_header);
        if (out->items().size() >= lim.max_headers) return make_error_code(errc::too_many_headers);
        out->add(std::string(name), std::string(value));
    }
    return std::optional<std::size_t>{end + 4};
}

void write_headers(std::string& out, const headers& h) {
    for (const auto& [name, value] : h.items()) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
}

constexpr char b64_table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

const std::error_category& category() noexcept {
    static const category_impl c;
    return c;
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
    for (const auto& h : items_)
        if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

bool headers::has_token(std::string_view name, std::string_view token) const noexcept {
    for (const auto& h : items_) {
        if (!iequals(h.name, name)) continue;
        std::string_view v = h.value;
        while (!v.empty()) {
            const std::size_t comma = v.find(',');
            if (iequals(trim(v.substr(0, comma)), token)) return true;
            if (comma == std::string_view::npos) break;
            v.remove_prefix(comma + 1);
        }
    }
    return false;
}

std::string write_head(const request& r) {
    std::string out = r.method + " " + r.target + " HTTP/1.1\r\n";
    write_headers(out, r.headers);
    return out;
}

std::string write_head(const response& r) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
    write_headers(out, r.headers);
    return out;
}

std::string write_with_body(response r) {
    r.headers.add("Content-Type", "text/plain; charset=utf-8");
    r.headers.add("Content-Length", std::to_string(r.body.size()));
    r.headers.add("Connection", "close");
    return write_head(r) + r.body;
}

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

std::string base64_encode(std::span<const std::uint8_t> in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
        out += b64_table[v >> 18];
        out += b64_table[(v >> 12) & 63];
        out += b64_table[(v >> 6) & 63];
        out += b64_table[v & 63];
    }
    if (const std::size_t rest = in.size() - i; rest > 0) {
        const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (rest == 2 ? std::uint32_t{in[i + 1]} << 8 : 0);
        out += b64_table[v >> 18];
        out += b64_table[(v >> 12) & 63];
        out += rest == 2 ? b64_table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return make_error_code(errc::bad_base64);
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t v = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            std::uint32_t d = 0;
            if (c == '=' && i + 4 == text.size() && j >= 2) {
                ++pad;
            } else {
                if (pad) return make_error_code(errc::bad_base64);
                const char* p = c ? std::strchr(b64_table, c) : nullptr;
                if (!p) return make_error_code(errc::bad_base64);
                d = static_cast<std::uint32_t>(p - b64_table);
            }
            v = (v << 6) | d;
        }
        out += static_cast<char>(v >> 16);
        if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
        if (pad < 1) out += static_cast<char>(v & 0xFF);
    }
    return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
    std::string plain = std::string(user) + ":" + std::string(password);
    return "Basic " + base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
}

std::string bearer_auth(std::string_view token) { return "Bearer " + std::string(token); }

result<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value) {
    if (value.size() < 6 || !iequals(value.substr(0, 6), "Basic ")) return make_error_code(errc::malformed_header);
    auto plain = base64_decode(trim(value.substr(6)));
    if (!plain) return plain.error();
    const std::size_t colon = plain->find(':');
    if (colon == std::string::npos) return make_error_code(errc::malformed_header);
    return std::pair(plain->substr(0, colon), plain->substr(colon + 1));
}

result<bool> chunked_decoder::feed(byte_buffer& in, std::string& body) {
    constexpr std::size_t max_line = 4096;
    // The next CRLF-terminated line at the front of `in`: its length without
    // the CRLF, or nothing yet.
    auto line = [&]() -> result<std::optional<std::string_view>> {
        const auto d = in.data();
        const std::string_view text(reinterpret_cast<const char*>(d.data()), d.size());
        const std::size_t end = text.find("\r\n");
        if (end == std::string_view::npos) {
            if (text.size() > max_line) return make_error_code(errc::malformed_chunk);
            return std::optional<std::string_view>{};
        }
        if (end > max_line) return make_error_code(errc::malformed_chunk);
        return std::optional<std::string_view>(text.substr(0, end));
    };
    for (;;) {
        switch (st_) {
        case state::size_line: {
            auto l = line();
            if (!l) return l.error();
            if (!*l) return false;
            const std::string_view v = **l;
            std::size_t size = 0, digits = 0;
            for (; digits < v.size(); ++digits) {
                const char c = v[digits];
                int x;
                if (c >= '0' && c <= '9') x = c - '0';
                else if (c >= 'a' && c <= 'f') x = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') x = c - 'A' + 10;
                else break;
                if (size > (max_ >> 4)) return make_error_code(errc::body_too_large);
                size = size * 16 + static_cast<std::size_t>(x);
            }
            // Digits, then nothing or a chunk extension.
            if (digits == 0 || (digits < v.size() && v[digits] != ';' && v[digits] != ' ' && v[digits] != '\t'))
                return make_error_code(errc::malformed_chunk);
            if (size > max_ - body.size()) return make_error_code(errc::body_too_large);
            in.consume(v.size() + 2);
            left_ = size;
            st_ = size == 0 ? state::trailer : state::data;
            break;
        }
        case state::data: {
            const auto d = in.data();
            const std::size_t n = std::min(left_, d.size());
            body.append(reinterpret_cast<const char*>(d.data()), n);
            in.consume(n);
            left_ -= n;
            if (left_ > 0) return false;
            st_ = state::data_end;
            break;
        }
        case state::data_end: {
            const auto d = in.data();
            if (d.size() < 2) return false;
            if (d[0] != std::byte{'\r'} || d[1] != std::byte{'\n'}) return make_error_code(errc::malformed_chunk);
            in.consume(2);
            st_ = state::size_line;
            break;
        }
        case state::trailer: {
            auto l = line();
            if (!l) return l.error();
            if (!*l) return false;
            const bool last = (*l)->empty();
            if (!last && ++trailers_ > 64) return make_error_code(errc::too_many_headers);
            in.consume((*l)->size() + 2);
            if (last) st_ = state::done;
            break;
        }
        case state::done: return true;
        }
    }
}

}  // namespace qwire::http
