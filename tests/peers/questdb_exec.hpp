// Reading rows back from a real QuestDB through its HTTP /exec endpoint
// (JSON, parsed with simdjson), and the text QuestDB's JSON gives each
// value, so a test can compare what it sent with what the server stored.
#pragma once

#include <qwire/core/timer.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/http/http.hpp>

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qwire::test {

struct exec_result {
    std::vector<std::pair<std::string, std::string>> columns;  // name, type as QuestDB names it
    std::vector<std::vector<std::string>> rows;  // each cell as JSON text: strings quoted, NULL as null
    std::string error;                            // QuestDB's message when the statement failed
};

inline std::string url_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// /exec's JSON: {"columns":[{"name","type"}...],"dataset":[[...]...]}, or
// {"ddl":"OK"} / {"dml":"OK"}, or {"error":"..."}.
inline result<exec_result> parse_exec(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc)) return make_error_code(std::errc::bad_message);
    exec_result out;
    std::string_view err;
    if (!doc["error"].get(err)) {
        out.error = std::string(err);
        return out;
    }
    simdjson::dom::array cols, data;
    if (doc["columns"].get(cols)) return out;  // a statement without a result set
    for (simdjson::dom::element c : cols) {
        std::string_view name, type;
        if (c["name"].get(name) || c["type"].get(type)) return make_error_code(std::errc::bad_message);
        out.columns.emplace_back(std::string(name), std::string(type));
    }
    if (doc["dataset"].get(data)) return make_error_code(std::errc::bad_message);
    for (simdjson::dom::element row : data) {
        simdjson::dom::array cells;
        if (row.get(cells)) return make_error_code(std::errc::bad_message);
        auto& r = out.rows.emplace_back();
        for (simdjson::dom::element cell : cells) r.push_back(simdjson::to_string(cell));
        if (r.size() != out.columns.size()) return make_error_code(std::errc::bad_message);
    }
    return out;
}

// Runs one SQL statement through http://127.0.0.1:port/exec.
inline task<result<exec_result>> questdb_exec(std::uint16_t port, std::string sql) {
    auto s = co_await connect_tcp("127.0.0.1", port, {after(std::chrono::seconds(10))});
    if (!s) co_return s.error();
    http::request req;
    req.target = "/exec?query=" + url_encode(sql);
    req.headers.add("Host", "127.0.0.1:" + std::to_string(port));
    const std::string head = http::write_head(req);
    auto w = co_await s->write_all(as_bytes(std::string_view(head)));
    if (!w) co_return w.error();
    byte_buffer in;
    http::limits lim;
    lim.max_body_bytes = 64 << 20;
    auto resp = co_await http::read_response(*s, in, {after(std::chrono::seconds(60))}, lim);
    if (!resp) co_return resp.error();
    co_return parse_exec(resp->body);
}

// ---- the text QuestDB's JSON gives a value (checked against a real server)

inline std::string json_string(std::string_view s) { return "\"" + std::string(s) + "\""; }

// 2023-11-14T22:13:20.123Z with as many fraction digits as Dur has
// (milliseconds 3, microseconds 6, nanoseconds 9); before 1970 too.
template <class Dur>
std::string iso_time(Dur since_epoch) {
    using namespace std::chrono;
    const sys_time<Dur> t{since_epoch};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<Dur> hms{t - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%0*lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()), hh_mm_ss<Dur>::fractional_width,
                  static_cast<long long>(hms.subseconds().count()));
    return json_string(buf);
}
inline std::string json_date(std::int64_t ms) { return iso_time(std::chrono::milliseconds(ms)); }
inline std::string json_timestamp(std::int64_t us) { return iso_time(std::chrono::microseconds(us)); }
inline std::string json_timestamp_ns(std::int64_t ns) { return iso_time(std::chrono::nanoseconds(ns)); }
// UUID from its two 64-bit halves (QWP sends lo then hi).
inline std::string json_uuid(std::uint64_t lo, std::uint64_t hi) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xffff),
                  static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return json_string(buf);
}
inline std::string json_ipv4(std::uint32_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    return json_string(buf);
}
// A DECIMAL from its unscaled value and scale.
inline std::string json_decimal(std::int64_t unscaled, unsigned scale) {
    const bool neg = unscaled < 0;
    std::string digits = std::to_string(neg ? -static_cast<unsigned long long>(unscaled) : static_cast<unsigned long long>(unscaled));
    if (scale > 0) {
        if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
        digits.insert(digits.size() - scale, ".");
    }
    return json_string((neg ? "-" : "") + digits);
}

}  // namespace qwire::test
