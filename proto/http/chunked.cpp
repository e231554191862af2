#include <qwire/proto/http/chunked.hpp>

#include <optional>
#include <string_view>

namespace qwire::http {

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
