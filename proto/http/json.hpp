// Writing JSON: one writer for every JSON qwire produces (REST bodies, the
// test server's dump, egress rows, the perf harness). Numbers use the
// shortest text that reads back to the same double (std::to_chars); NaN and
// the infinities, which JSON cannot spell, are written as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::http {

// Appends s to out as a JSON string literal (quotes included).
void json_escape(std::string& out, std::string_view s);
// s as a JSON string literal.
std::string json_quote(std::string_view s);

// Builds one JSON text into a string, putting the commas and colons in:
//
//     json_writer w;
//     w.begin_object().key("mount").value("rdb").key("pos").value(std::int64_t{7}).end_object();
//     std::string body = std::move(w).take();
class json_writer {
public:
    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view k);
    json_writer& value(std::string_view s);
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(std::int64_t v);
    json_writer& value(double v);
    json_writer& value(bool v);
    json_writer& null();
    // Text that is already JSON, written as one value.
    json_writer& raw(std::string_view json);

    const std::string& str() const noexcept { return out_; }
    std::string take() && { return std::move(out_); }
    void clear() {
        out_.clear();
        first_.clear();
        after_key_ = false;
    }

private:
    void separate();
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written in it yet
    bool after_key_ = false;
};

}  // namespace qwire::http
