#include <qwire/proto/http/json.hpp>

#include <charconv>
#include <cmath>

namespace qwire::http {

void json_escape(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        const auto ch = static_cast<unsigned char>(c);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (ch < 0x20) {
                out += "\\u00";
                out += hex[ch >> 4];
                out += hex[ch & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    json_escape(out, s);
    return out;
}

void json_writer::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) out_ += ',';
        first_.back() = false;
    }
}

json_writer& json_writer::begin_object() {
    separate();
    out_ += '{';
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_object() {
    out_ += '}';
    if (!first_.empty()) first_.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    separate();
    out_ += '[';
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_array() {
    out_ += ']';
    if (!first_.empty()) first_.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    separate();
    json_escape(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    separate();
    json_escape(out_, s);
    return *this;
}

json_writer& json_writer::value(std::int64_t v) {
    separate();
    char b[24];
    const auto r = std::to_chars(b, b + sizeof b, v);
    out_.append(b, r.ptr);
    return *this;
}

json_writer& json_writer::value(double v) {
    if (!std::isfinite(v)) return null();
    separate();
    char b[32];
    const auto r = std::to_chars(b, b + sizeof b, v);  // shortest text that round-trips
    out_.append(b, r.ptr);
    return *this;
}

json_writer& json_writer::value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    separate();
    out_ += "null";
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
}

}  // namespace qwire::http
