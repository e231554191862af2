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

// Keys QuestDB's clients know and qwire has no behaviour for: an error that
// says so, never silently ignored.
bool is_unsupported_questdb_key(std::string_view key) {
    static constexpr std::string_view keys[] = {
        "zone", "buffer_pool_size", "query_close_timeout_ms", "query_pool_min", "query_pool_max", "pool_reap",
        "drain_orphans", "max_background_drainers",
        "close_flush_timeout_millis", "durable_ack_keepalive_interval_millis",
        "error_inbox_capacity", "max_frame_rejections", "poison_min_escalation_window_millis", "path", "auth",
        "init_buf_size", "max_name_len", "auto_flush_rows", "auto_flush_interval", "auto_flush_bytes",
        "request_min_throughput", "retry_timeout", "retry_max_backoff_millis", "max_in_flight",
    };
    return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

// QuestDB's server-error policy keys (on_server_error and the per-status ones).
bool is_error_policy_key(std::string_view key) {
    static constexpr std::string_view keys[] = {"on_server_error",   "on_schema_error",   "on_parse_error",
                                                "on_internal_error", "on_security_error", "on_write_error"};
    return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

}  // namespace

result<config> config::parse(std::string_view text) {
    auto fail = [](std::string msg) -> result<config> { return error(errc::bad_config, msg); };
    config c;
    const std::size_t sep = text.find("::");
    if (sep == std::string_view::npos) return fail("a connect string starts with ws:: or wss::");
    const std::string_view schema = text.substr(0, sep);
    if (schema == "wss" || schema == "qwpwss") c.tls = true;
    else if (schema != "ws" && schema != "qwpws")
        return fail("unsupported schema '" + std::string(schema) + "' (ws, wss, qwpws or qwpwss)");
    bool tls_keys = false;   // a tls_* key was given
    bool pem_file = false;   // tls_ca=pem_file
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
            if (value.empty()) return bad();
            c.tls_roots = value;
            tls_keys = true;
        } else if (key == "tls_ca") {
            // Debian's ca-certificates bundle is Mozilla's list, the one
            // webpki-roots carries too: the three store names mean one file.
            if (value == "pem_file") pem_file = true;
            else if (value != "os_roots" && value != "webpki_roots" && value != "webpki_and_os_roots") return bad();
            tls_keys = true;
        } else if (key == "tls_roots_password") {
            return fail("tls_roots_password: qwire reads PEM trust files only (no JKS or PKCS#12 keystores); "
                        "give tls_roots a PEM file");
        } else if (key == "connect_timeout") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.connect_timeout = std::chrono::milliseconds(n);
        } else if (key == "auth_timeout_ms" || key == "auth_timeout") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.auth_timeout = std::chrono::milliseconds(n);
        } else if (key == "in_flight_window") {
            if (!parse_number(value, n) || n == 0 || n > 1'000'000) return bad();
            c.in_flight_window = n;
        } else if (key == "max_in_flight_bytes" || key == "max_buf_size") {
            // The bytes the sender holds: frames sent and not yet
            // acknowledged, kept for replay.
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
        } else if (key == "pool_size" || key == "sender_pool_min") {
            if (!parse_number(value, n)) return bad();
            c.pool_size = n;
        } else if (key == "pool_max" || key == "sender_pool_max") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.pool_max = n;
        } else if (key == "acquire_timeout_ms") {
            if (!parse_number(value, n)) return bad();
            c.acquire_timeout = std::chrono::milliseconds(n);
        } else if (key == "lazy_connect") {
            if (!parse_bool(value, c.lazy_connect)) return bad();
        } else if (key == "request_timeout") {
            if (!parse_number(value, n)) return bad();
            c.request_timeout = std::chrono::milliseconds(n);
        } else if (key == "max_version") {
            if (value != "1") return fail("bad value '" + value + "' for max_version (QWP has version 1)");
        } else if (key == "protocol_version") {
            if (value != "1" && value != "auto")
                return fail("bad value '" + value + "' for protocol_version (QWP has version 1: 1 or auto)");
        } else if (is_error_policy_key(key)) {
            // qwire halts: the sync covering a rejected frame fails with the
            // server's text and the sender must reconnect.
            if (value != "halt")
                return fail(key + "=" + value + ": qwire halts on a rejected frame (" + key + "=halt)");
        } else if (key == "pool_idle_timeout_ms" || key == "idle_timeout_ms") {
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
        } else if (key == "compression") {
            if (value == "raw") c.compression = compression::raw;
            else if (value == "zstd") c.compression = compression::zstd;
            else if (value == "auto") c.compression = compression::auto_;
            else return bad();
        } else if (key == "compression_level") {
            if (!parse_number(value, n) || n < 1 || n > 22) return bad();
            c.compression_level = static_cast<int>(n);
        } else if (key == "target") {
            if (value == "any") c.target = target::any;
            else if (value == "primary") c.target = target::primary;
            else if (value == "replica") c.target = target::replica;
            else return bad();
        } else if (key == "sf_dir") {
            if (value.empty()) return bad();
            c.sf.dir = value;
        } else if (key == "sender_id") {
            if (value.empty() || value.find('/') != std::string::npos || value == "." || value == "..") return bad();
            c.sf.sender_id = value;
        } else if (key == "sf_durability") {
            if (value == "memory") c.sf.durability = sf_durability::memory;
            else if (value == "flush") c.sf.durability = sf_durability::flush;
            else if (value == "append") c.sf.durability = sf_durability::append;
            else if (value == "periodic") c.sf.durability = sf_durability::periodic;
            else return bad();
        } else if (key == "sf_sync_interval_millis") {
            if (!parse_number(value, n) || n == 0) return bad();
            c.sf.sync_interval = std::chrono::milliseconds(n);
        } else if (key == "sf_max_segment_bytes") {
            if (!parse_size(value, n) || n < 4096) return bad();
            c.sf.max_segment_bytes = n;
        } else if (key == "sf_max_total_bytes") {
            if (!parse_size(value, n) || n < 4096) return bad();
            c.sf.max_total_bytes = n;
        } else if (key == "sf_append_deadline_millis") {
            if (!parse_number(value, n)) return bad();
            c.sf_append_deadline = std::chrono::milliseconds(n);
        } else if (key == "initial_connect_retry") {
            if (value == "off" || value == "false") c.initial_connect_retry = connect_retry::off;
            else if (value == "on" || value == "true" || value == "sync") c.initial_connect_retry = connect_retry::sync;
            else if (value == "async") c.initial_connect_retry = connect_retry::async;
            else return bad();
        } else if (key == "query_timeout_ms") {
            if (!parse_number(value, n) || n > (std::uint64_t{1} << 62)) return bad();
            c.query_timeout = std::chrono::milliseconds(n);
        } else if (key == "failover") {
            if (!parse_bool(value, c.failover)) return bad();
        } else if (key == "failover_max_attempts") {
            if (!parse_number(value, n) || n == 0 || n > 1000) return bad();
            c.failover_max_attempts = n;
        } else if (key == "failover_backoff_initial_ms" || key == "failover_backoff_max_ms" ||
                   key == "failover_max_duration_ms") {
            if (!parse_number(value, n) || n > 3'600'000) return bad();
            (key == "failover_backoff_initial_ms" ? c.failover_backoff_initial
             : key == "failover_backoff_max_ms"   ? c.failover_backoff_max
                                                  : c.failover_max_duration) = std::chrono::milliseconds(n);
        } else if (is_unsupported_questdb_key(key)) {
            return fail("'" + key + "' is a key of QuestDB's clients that qwire does not support");
        } else {
            return fail("unknown key '" + key + "'");
        }
    }
    if (c.addrs.empty()) return fail("addr is required");
    if (c.pool_size > c.pool_max) return fail("pool_size is larger than pool_max");
    if (!c.token.empty() && (!c.username.empty() || !c.password.empty()))
        return fail("token and username/password exclude each other");
    if (c.username.empty() != c.password.empty()) return fail("username and password go together");
    if (c.sf.max_segment_bytes > c.sf.max_total_bytes) return fail("sf_max_segment_bytes is larger than sf_max_total_bytes");
    if (!c.tls_verify && !c.tls_roots.empty()) return fail("tls_verify=unsafe_off and tls_roots exclude each other");
    if (!c.tls && (tls_keys || !c.tls_verify)) return fail("tls_* keys need wss::");
    if (pem_file && c.tls_roots.empty()) return fail("tls_ca=pem_file needs tls_roots=FILE");
    return c;
}

}  // namespace qwire::qwp
