#include <qwire/proto/qwp/config.hpp>

#include <algorithm>
#include <charconv>

namespace qwire::qwp {

namespace {

bool parse_number(std::string_view v, std::uint64_t& out) {
    if (v.empty()) return false;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && p == v.data() + v.size();
}

// "64k", "1m" and plain numbers.
bool parse_size(std::string_view v, std::uint64_t& out) {
    std::uint64_t mul = 1;
    if (!v.empty()) {
        const char last = v.back();
        if (last == 'k' || last == 'K') mul = 1024;
        if (last == 'm' || last == 'M') mul = 1024 * 1024;
        if (mul != 1) v.remove_suffix(1);
    }
    if (!parse_number(v, out)) return false;
    out *= mul;
    return true;
}

bool parse_bool(std::string_view v, bool& out) {
    if (v == "on" || v == "true") return out = true, true;
    if (v == "off" || v == "false") return out = false, true;
    return false;
}

}  // namespace

result<config> config::parse(std::string_view text) {
    auto fail = [](std::string msg) -> result<config> { return error(errc::bad_config, msg); };
    config c;
    const std::size_t sep = text.find("::");
    if (sep == std::string_view::npos) return fail("a connect string starts with ws:: or wss::");
    const std::string_view schema = text.substr(0, sep);
    if (schema == "wss") c.tls = true;
    else if (schema != "ws") return fail("unsupported schema '" + std::string(schema) + "' (ws or wss)");
    std::string_view rest = text.substr(sep + 2);
    std::vector<std::string> seen;
    while (!rest.empty()) {
        const std::size_t eq = rest.find('=');
        if (eq == std::string_view::npos) return fail("expected key=value in '" + std::string(rest) + "'");
        const std::string key(rest.substr(0, eq));
        rest.remove_prefix(eq + 1);
        // The value runs to a ';' that is not doubled.
        std::string value;
        std::size_t i = 0;
        for (; i < rest.size(); ++i) {
            if (rest[i] == ';') {
                if (i + 1 < rest.size() && rest[i + 1] == ';') {
                    value += ';';
                    ++i;
                    continue;
                }
                break;
            }
            if (static_cast<unsigned char>(rest[i]) < 0x20) return fail("control character in the value of " + key);
            value += rest[i];
        }
        rest.remove_prefix(std::min(rest.size(), i + 1));
        if (key.empty() || !std::all_of(key.begin(), key.end(), [](char ch) {
                return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
            }))
            return fail("bad key '" + key + "'");
        if (key != "addr" && std::find(seen.begin(), seen.end(), key) != seen.end()) return fail("key " + key + " given twice");
        seen.push_back(key);
        std::uint64_t n = 0;
        auto bad = [&] { return fail("bad value '" + value + "' for " + key); };
        if (key == "addr") {
            std::string_view list = value;
            while (!list.empty()) {
                const std::size_t comma = list.find(',');
                std::string_view one = list.substr(0, comma);
                list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
                address a;
                const std::size_t colon = one.rfind(':');
                if (colon != std::string_view::npos && one.find(']') == std::string_view::npos && one.find(':') != colon)
                    return fail("IPv6 addresses go in brackets: " + std::string(one));
                if (colon != std::string_view::npos && (one.find(']') == std::string_view::npos || one.rfind(']') < colon)) {
                    if (!parse_number(one.substr(colon + 1), n) || n == 0 || n > 65535) return bad();
                    a.port = static_cast<std::uint16_t>(n);
                    one = one.substr(0, colon);
                }
                if (one.size() >= 2 && one.front() == '[' && one.back() == ']') one = one.substr(1, one.size() - 2);
                if (one.empty()) return bad();
                a.host = std::string(one);
                for (const auto& x : c.addrs)
                    if (x.host == a.host && x.port == a.port) return fail("duplicate addr " + std::string(one));
                c.addrs.push_back(std::move(a));
            }
        } else if (key == "username" || key == "user") {
            c.username = value;
        } else if (key == "password" || key == "pass") {
            c.password = value;
        } else if (key == "token") {
            c.token = value;
        } else if (key == "tls_verify") {
            if (value == "on") c.tls_verify = true;
            else if (value == "unsafe_off") c.tls_verify = false;
            else return bad();
        } else if (key == "tls_roots") {
            c.tls_roots = value;
        } else if (key == "connect_timeout") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.connect_timeout = std::chrono::milliseconds(n);
        } else if (key == "auth_timeout_ms" || key == "auth_timeout") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.auth_timeout = std::chrono::milliseconds(n);
        } else if (key == "in_flight_window") {
            if (!parse_number(value, n) || n == 0 || n > 1'000'000) return bad();
            c.in_flight_window = n;
        } else if (key == "max_in_flight_bytes") {
            if (!parse_size(value, n) || n == 0) return bad();
            c.max_in_flight_bytes = n;
        } else if (key == "max_batch_bytes") {
            if (!parse_size(value, n) || n < 1024) return bad();
            c.max_batch_bytes = n;
        } else if (key == "request_durable_ack") {
            if (!parse_bool(value, c.request_durable_ack)) return bad();
        } else if (key == "client_id") {
            c.client_id = value;
        } else if (key == "gorilla") {
            if (!parse_bool(value, c.gorilla)) return bad();
        } else if (key == "first_frame_commits") {
            if (!parse_bool(value, c.first_frame_commits)) return bad();
        } else if (key == "max_symbols") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.max_symbols = n;
        } else if (key == "reconnect_initial_backoff_millis") {
            if (!parse_number(value, n)) return bad();
            c.reconnect_initial_backoff = std::chrono::milliseconds(n);
        } else if (key == "reconnect_max_backoff_millis") {
            if (!parse_number(value, n)) return bad();
            c.reconnect_max_backoff = std::chrono::milliseconds(n);
        } else if (key == "reconnect_max_duration_millis") {
            if (!parse_number(value, n)) return bad();
            c.reconnect_max_duration = std::chrono::milliseconds(n);
        } else if (key == "pool_size") {
            if (!parse_number(value, n)) return bad();
            c.pool_size = n;
        } else if (key == "pool_max") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.pool_max = n;
        } else if (key == "pool_idle_timeout_ms") {
            if (!parse_number(value, n)) return bad();
            c.pool_idle_timeout = std::chrono::milliseconds(n);
        } else if (key == "auto_flush") {
            if (value != "off") return fail("auto_flush: qwire flushes when told to (auto_flush=off)");
        } else if (key == "initial_credit") {
            if (!parse_size(value, n)) return bad();
            c.initial_credit = n;
        } else if (key == "max_batch_rows") {
            if (!parse_number(value, n) || n == 0 || n > (1u << 20)) return bad();
            c.max_batch_rows = n;
        } else if (key == "target" || key == "zone" || key == "failover" || key == "compression" ||
                   key == "compression_level" ||
                   key == "buffer_pool_size" || key == "query_close_timeout_ms" || key.rfind("failover_", 0) == 0) {
            // Egress and pool keys: for the other direction or the pool.
        } else {
            return fail("unknown key '" + key + "'");
        }
    }
    if (c.addrs.empty()) return fail("addr is required");
    if (c.pool_size > c.pool_max) return fail("pool_size is larger than pool_max");
    if (!c.token.empty() && (!c.username.empty() || !c.password.empty()))
        return fail("token and username/password exclude each other");
    if (c.username.empty() != c.password.empty()) return fail("username and password go together");
    if (!c.tls_verify && !c.tls_roots.empty()) return fail("tls_verify=unsafe_off and tls_roots exclude each other");
    if (!c.tls && (!c.tls_roots.empty() || !c.tls_verify)) return fail("tls_* keys need wss::");
    return c;
}

}  // namespace qwire::qwp
