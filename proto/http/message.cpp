#include <qwire/proto/http/message.hpp>

#include <qwire/proto/http/detail/text.hpp>

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

void write_headers(std::string& out, const headers& h) {
    for (const auto& [name, value] : h.items()) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace

const std::error_category& category() noexcept {
    static const category_impl c;
    return c;
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
    for (const auto& h : items_)
        if (detail::iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

bool headers::has_token(std::string_view name, std::string_view token) const noexcept {
    for (const auto& h : items_) {
        if (!detail::iequals(h.name, name)) continue;
        std::string_view v = h.value;
        while (!v.empty()) {
            const std::size_t comma = v.find(',');
            if (detail::iequals(detail::trim(v.substr(0, comma)), token)) return true;
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

}  // namespace qwire::http
