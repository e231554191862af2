#include <qwire/proto/qwp/sender.hpp>

#include <qwire/core/timer.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace qwire::qwp {

// ---------------------------------------------------------------- config

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

result<config> config::parse(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> result<config> {
        if (why) *why = std::move(msg);
        return make_error_code(errc::bad_config);
    };
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

// ---------------------------------------------------------------- connect

task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, const config::address& a,
                                                                          std::string path, http::headers extra,
                                                                          op_options o) {
    op_options connect_o = o;
    if (c.connect_timeout.count() > 0) {
        const auto d = clock::now() + c.connect_timeout;
        connect_o.deadline = o.deadline ? std::min(*o.deadline, d) : d;
    }
    auto tcp = co_await tcp_connect(a.host, a.port, connect_o);
    if (!tcp) co_return tcp.error();
    const bool local = tcp->peer_is_local();
    any_stream s;
    if (c.tls) {
        auto ctx = tls_context::client();
        if (!ctx) co_return ctx.error();
        if (!c.tls_verify) {
            ctx->set_verify_peer(false);
        } else {
            const std::string roots = c.tls_roots.empty() ? "/etc/ssl/certs/ca-certificates.crt" : c.tls_roots;
            if (auto r = ctx->load_ca_file(roots); !r) co_return r.error();
        }
        op_options auth_o = o;
        const auto auth_deadline = clock::now() + c.auth_timeout;
        auth_o.deadline = o.deadline ? std::min(*o.deadline, auth_deadline) : auth_deadline;
        auto t = co_await tls_stream<socket_stream>::connect(std::move(*tcp), *ctx, a.host, auth_o);
        if (!t) co_return t.error();
        s = any_stream(std::move(*t), local);
    } else {
        s = any_stream(std::move(*tcp), local);
    }
    co_return co_await open_ws(c, std::move(s), a.host + ":" + std::to_string(a.port), std::move(path), std::move(extra), o);
}

task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, any_stream s, std::string host,
                                                                          std::string path, http::headers extra,
                                                                          op_options o) {
    op_options auth_o = o;
    const auto auth_deadline = clock::now() + c.auth_timeout;
    auth_o.deadline = o.deadline ? std::min(*o.deadline, auth_deadline) : auth_deadline;
    extra.add("X-QWP-Max-Version", "1");
    if (!c.client_id.empty()) extra.add("X-QWP-Client-Id", c.client_id);
    if (!c.token.empty()) extra.add("Authorization", http::bearer_auth(c.token));
    else if (!c.username.empty()) extra.add("Authorization", http::basic_auth(c.username, c.password));
    byte_buffer in;
    auto resp = co_await ws::client_handshake(s, in, std::move(host), std::move(path), extra, auth_o);
    if (!resp) co_return resp.error();
    if (resp->status == 401 || resp->status == 403) co_return make_error_code(errc::unauthorized);
    if (resp->status == 400 || resp->status == 426) co_return make_error_code(errc::bad_request);
    if (resp->status == 404) co_return make_error_code(errc::no_qwp_endpoint);
    if (resp->status != 101) co_return make_error_code(errc::handshake_rejected);
    if (auto v = resp->headers.get("X-QWP-Version"); v && *v != "1") co_return make_error_code(errc::version_mismatch);
    ws::stream_options wo;
    wo.max_message_size = 256 << 20;  // the reference clients' sanity cap
    co_return std::pair(ws::stream<any_stream>(std::move(s), ws::role::client, std::move(in), wo), std::move(*resp));
}

task<result<std::pair<ws::stream<any_stream>, server_info>>> open_ingress(const config& c, const config::address& a,
                                                                           op_options o, const stream_factory* factory) {
    http::headers extra;
    if (c.request_durable_ack) extra.add("X-QWP-Request-Durable-Ack", "true");
    result<std::pair<ws::stream<any_stream>, http::response>> w = make_error_code(errc::must_close);
    if (factory) {
        auto s = co_await (*factory)(o);
        if (!s) co_return s.error();
        w = co_await open_ws(c, std::move(*s), a.host + ":" + std::to_string(a.port), "/write/v4", std::move(extra), o);
    } else {
        w = co_await open_ws(c, a, "/write/v4", std::move(extra), o);
    }
    if (!w) co_return w.error();
    const http::response& resp = w->second;
    server_info info;
    if (auto m = resp.headers.get("X-QWP-Max-Batch-Size")) {
        std::uint64_t n = 0;
        if (parse_number(*m, n) && n >= 1024) info.max_batch_size = n;
    }
    if (auto r = resp.headers.get("X-QuestDB-Role")) info.role = std::string(*r);
    info.durable_ack = resp.headers.get("X-QWP-Durable-Ack") == std::optional<std::string_view>("enabled");
    if (c.request_durable_ack && !info.durable_ack) co_return make_error_code(errc::durable_ack_unavailable);
    co_return std::pair(std::move(w->first), std::move(info));
}

// ---------------------------------------------------------------- pipeline

struct pipeline::state {
    explicit state(ws::stream<any_stream> w, options o) : ws(std::move(w)), opt(o) {}

    struct entry {
        std::int64_t seq;
        bool deferred;
        byte_buffer frame;      // the masked WebSocket frame
        bool replayable = true; // false: a control frame a new connection sends afresh
    };

    ws::stream<any_stream> ws;
    options opt;
    std::deque<entry> fifo;
    std::vector<byte_buffer> spare;
    std::size_t bytes = 0;
    std::int64_t next_seq = 0;
    std::int64_t acked = -1;
    std::error_code failure;
    std::string failure_text;
    bool reader_done = false;
    bool closing = false;
    notifier changed;
    std::map<std::string, std::int64_t, std::less<>> ok_txn, durable_txn;

    void fail(std::error_code ec, std::string text = {}) {
        if (!failure) {
            failure = ec;
            failure_text = std::move(text);
        }
        changed.notify_all();
    }

    void on_ok(std::int64_t s) {
        s = std::min(s, next_seq - 1);
        // Pop through the last commit frame the OK covers: deferred frames
        // stay until a commit after them is acknowledged.
        std::size_t through = 0;
        for (std::size_t i = 0; i < fifo.size() && fifo[i].seq <= s; ++i)
            if (!fifo[i].deferred) through = i + 1;
        for (std::size_t i = 0; i < through; ++i) {
            bytes -= fifo.front().frame.size();
            fifo.front().frame.clear();
            spare.push_back(std::move(fifo.front().frame));
            fifo.pop_front();
        }
        acked = std::max(acked, s);
        changed.notify_all();
    }
};

namespace {

task<void> read_loop(std::shared_ptr<pipeline::state> s) {
    for (;;) {
        auto m = co_await s->ws.receive();
        if (!m) {
            if (!(s->closing && m.error() == ws::errc::closed)) s->fail(m.error());
            break;
        }
        auto r = decode_response(m->payload);
        if (!r) {
            s->fail(r.error());
            break;
        }
        if (r->status == status::ok) {
            for (auto& [t, txn] : r->tables) s->ok_txn[t] = std::max(s->ok_txn[t], txn);
            s->on_ok(r->sequence);
        } else if (r->status == status::durable_ack || r->status == status::local_durable_ack) {
            for (auto& [t, txn] : r->tables) s->durable_txn[t] = std::max(s->durable_txn[t], txn);
            s->changed.notify_all();
        } else {
            s->fail(status_error(r->status), r->message);
            break;
        }
    }
    s->reader_done = true;
    s->changed.notify_all();
}

}  // namespace

pipeline::pipeline(ws::stream<any_stream> w, options o) : s_(std::make_shared<state>(std::move(w), o)) {
    reactor::current()->spawn(read_loop(s_));
}

pipeline::~pipeline() {
    if (s_) {
        s_->fail(make_error_code(errc::must_close));
        s_->ws.next_layer().shutdown();
    }
}

task<result<pipeline::sent>> pipeline::send(std::span<const const_buffer> message, bool deferred, op_options o) {
    return send_frame(message, deferred, true, std::move(o));
}

task<result<pipeline::sent>> pipeline::send_control(std::span<const const_buffer> message, op_options o) {
    return send_frame(message, true, false, std::move(o));
}

task<result<pipeline::sent>> pipeline::send_frame(std::span<const const_buffer> message, bool deferred, bool replayable,
                                                  op_options o) {
    auto& s = *s_;
    std::size_t size = 0;
    for (const auto& p : message) size += p.size;
    for (;;) {
        if (s.failure) co_return s.failure;
        // One slot stays free for a commit frame: deferred frames are not
        // acknowledged until a commit after them is.
        const std::size_t limit = deferred ? s.opt.window - 1 : s.opt.window;
        const bool bytes_ok = s.fifo.empty() || s.bytes + size <= s.opt.max_bytes;
        if (s.fifo.size() < limit && bytes_ok) break;
        if (deferred && all_deferred_in_flight()) {
            deferred = false;  // waiting would never end: commit instead
            continue;
        }
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w.error();
    }
    byte_buffer frame;
    if (!s.spare.empty()) {
        frame = std::move(s.spare.back());
        s.spare.pop_back();
    }
    const auto key = ws::random_mask();
    ws::append_frame(frame, ws::opcode::binary, message, &key);
    if (!deferred) {
        // Clear FLAG_DEFER_COMMIT if the message had it (the flags byte is
        // the payload's sixth; masking is a XOR, so the bit flips in place).
        auto h = ws::parse_header(frame.data());
        auto& flags_byte = frame.data()[h->h.header_length + 5];
        if (std::to_integer<unsigned>(flags_byte ^ static_cast<std::byte>(key[1])) & flags::defer_commit)
            flags_byte ^= static_cast<std::byte>(flags::defer_commit);
    }
    const std::int64_t seq = s.next_seq++;
    s.bytes += frame.size();
    s.fifo.push_back({seq, deferred, std::move(frame), replayable});
    const std::span<const std::byte> bytes = s.fifo.back().frame.data();
    auto w = co_await s.ws.write_raw(bytes, o);
    if (!w) {
        s.fail(w.error());
        co_return w.error();
    }
    co_return sent{seq, deferred};
}

task<result<void>> pipeline::replay(std::deque<std::pair<std::vector<std::byte>, bool>>& frames, op_options o) {
    while (!frames.empty()) {
        auto& [msg, deferred] = frames.front();
        const const_buffer piece = buffer(std::span<const std::byte>(msg));
        auto r = co_await send(std::span(&piece, 1), deferred, o);
        if (!r) co_return r.error();
        frames.pop_front();
    }
    co_return result<void>{};
}

task<result<void>> pipeline::wait_acked(std::int64_t seq, ack_level level, op_options o) {
    auto& s = *s_;
    while (s.acked < seq) {
        if (s.failure) co_return s.failure;
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w.error();
    }
    if (level == ack_level::ok) co_return result<void>{};
    if (!s.opt.durable) co_return make_error_code(errc::durable_ack_unavailable);
    // Every table committed so far must be durable at its committed txn.
    const auto want = s.ok_txn;
    auto durable = [&] {
        for (const auto& [t, txn] : want) {
            auto it = s.durable_txn.find(t);
            if (it == s.durable_txn.end() || it->second < txn) return false;
        }
        return true;
    };
    while (!durable()) {
        if (s.failure) co_return s.failure;
        // The server sends durable acks only on inbound activity: ping every
        // 200 ms while waiting.
        op_options tick = o;
        const auto next = clock::now() + std::chrono::milliseconds(200);
        tick.deadline = o.deadline ? std::min(*o.deadline, next) : next;
        auto w = co_await s.changed.wait(tick);
        if (!w && w.error() == std::errc::timed_out && (!o.deadline || clock::now() < *o.deadline)) {
            const std::array<std::byte, 0> empty{};
            auto p = co_await s.ws.send(ws::opcode::ping, std::span<const std::byte>(empty), o);
            if (!p) co_return p.error();
            continue;
        }
        if (!w) co_return w.error();
    }
    co_return result<void>{};
}

std::deque<std::pair<std::vector<std::byte>, bool>> pipeline::take_unacked() {
    std::deque<std::pair<std::vector<std::byte>, bool>> out;
    for (auto& e : s_->fifo) {
        if (!e.replayable) continue;
        // Unmask the stored frame back into the message.
        auto h = ws::parse_header(e.frame.data());
        if (!h || !h->complete) continue;
        const auto payload = e.frame.data().subspan(h->h.header_length);
        std::vector<std::byte> msg(payload.size());
        ws::mask_copy(msg.data(), payload.data(), payload.size(), h->h.mask);
        out.emplace_back(std::move(msg), e.deferred);
    }
    s_->fifo.clear();
    s_->bytes = 0;
    return out;
}

std::size_t pipeline::in_flight() const noexcept { return s_->fifo.size(); }
std::int64_t pipeline::next_sequence() const noexcept { return s_->next_seq; }
std::int64_t pipeline::acked() const noexcept { return s_->acked; }
std::error_code pipeline::failure() const noexcept { return s_->failure; }
const std::string& pipeline::failure_text() const noexcept { return s_->failure_text; }
bool pipeline::all_deferred_in_flight() const noexcept {
    return std::all_of(s_->fifo.begin(), s_->fifo.end(), [](const auto& e) { return e.deferred; });
}

task<result<void>> pipeline::close(op_options o) {
    auto& s = *s_;
    if (s.next_seq > 0) {
        auto w = co_await wait_acked(s.next_seq - 1, ack_level::ok, o);
        if (!w) co_return w;
    }
    s.closing = true;
    auto c = co_await s.ws.close(ws::close_code::normal, {}, o);
    if (!c) co_return c;
    while (!s.reader_done) {
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w;
    }
    s.ws.next_layer().shutdown();
    if (s.failure) co_return s.failure;
    co_return result<void>{};
}

// ---------------------------------------------------------------- sender

struct sender::impl {
    config cfg;
    stream_factory factory;  // empty: TCP (or TLS) to cfg.addrs
    server_info info;
    symbol_dict dict;
    message_builder mb;
    std::unique_ptr<pipeline> pipe;
    std::size_t addr = 0;
    bool first_frame = true;
    bool uncommitted = false;       // deferred frames since the last commit frame
    std::int64_t last_commit = -1;  // its sequence
    std::error_code terminal;
    std::error_code last;
    std::string last_text;
    stats st;

    explicit impl(config c)
        : cfg(std::move(c)), dict(cfg.max_symbols), mb(dict, encode_options{cfg.gorilla}) {}

    std::size_t cap() const noexcept {
        const std::size_t server = info.max_batch_size * 9 / 10;
        return cfg.max_batch_bytes ? std::min(cfg.max_batch_bytes, info.max_batch_size) : server;
    }

    pipeline::options pipe_options() const {
        pipeline::options po;
        po.window = cfg.in_flight_window;
        po.max_bytes = cfg.max_in_flight_bytes;
        po.durable = info.durable_ack;
        return po;
    }

    // Frames written on earlier connections and not yet covered by an OK,
    // oldest first, waiting to be replayed. Kept here, not in a local, so a
    // reconnect that fails halfway through its replay loses none of them.
    std::deque<std::pair<std::vector<std::byte>, bool>> unsent;

    // Moves the dead pipeline's unacknowledged frames in front of those
    // still waiting from an earlier attempt (they were written before them).
    void take_unacked() {
        if (!pipe) return;
        auto frames = pipe->take_unacked();
        for (auto& f : unsent) frames.push_back(std::move(f));
        unsent = std::move(frames);
        pipe.reset();
    }

    static bool terminal_error(std::error_code err) {
        return err == errc::unauthorized || err == errc::bad_request || err == errc::version_mismatch ||
               err == errc::durable_ack_unavailable || err == std::errc::operation_canceled || !retriable(err);
    }

    // On a new connection: registers the symbol dictionary again, then
    // replays the frames no OK covered.
    task<result<void>> catch_up(op_options o) {
        dict.forget_sent();
        first_frame = true;
        // Ids the replayed frames (and later ones) use, registered again.
        std::size_t from = 0;
        while (from < dict.size()) {
            const std::size_t to = catchup_end(dict, from, cap());
            const auto msg = catchup_message(dict, from, to);
            const const_buffer piece = buffer(std::span<const std::byte>(msg));
            auto s = co_await pipe->send_control(std::span(&piece, 1), o);
            if (!s) co_return s.error();
            from = to;
        }
        dict.mark_sent();
        const std::size_t replaying = unsent.size();
        if (!unsent.empty()) first_frame = false;
        auto rp = co_await pipe->replay(unsent, o);
        st.replayed_frames += replaying - unsent.size();
        if (!rp) co_return rp.error();
        // Sequences restarted: the next sync sends a fresh commit frame.
        uncommitted = true;
        last_commit = -1;
        co_return result<void>{};
    }

    // Connects to the next address that answers and catches up, retrying
    // (with backoff, across the addresses) until reconnect_max_duration has
    // passed since `since`; a failure during the catch-up is retried the
    // same way as a failed connect.
    task<result<void>> reconnect(op_options o, bool initial, clock::time_point since = clock::now()) {
        take_unacked();
        const auto give_up = since + cfg.reconnect_max_duration;
        auto backoff = cfg.reconnect_initial_backoff;
        std::error_code err;
        for (std::size_t attempt = 0;; ++attempt) {
            const config::address& a = cfg.addrs[addr % cfg.addrs.size()];
            auto r = co_await open_ingress(cfg, a, o, factory ? &factory : nullptr);
            if (r) {
                info = std::move(r->second);
                pipe = std::make_unique<pipeline>(std::move(r->first), pipe_options());
                auto c = co_await catch_up(o);
                if (c) break;
                err = c.error();
                take_unacked();
            } else {
                err = r.error();
            }
            if (terminal_error(err)) co_return err;
            ++addr;
            if (initial && attempt + 1 >= cfg.addrs.size()) co_return err;
            if ((attempt + 1) % cfg.addrs.size() == 0) {
                if (clock::now() + backoff > give_up) co_return err;
                auto slept = co_await sleep_for(backoff, o.stop);
                if (!slept) co_return slept.error();
                backoff = std::min(backoff * 2, cfg.reconnect_max_backoff);
            }
        }
        if (!initial) ++st.reconnects;
        co_return result<void>{};
    }

    // Handles a failure: terminal errors stick, retriable ones reconnect
    // (within reconnect_max_duration of `since`, the first failure).
    task<result<void>> recover(std::error_code ec, op_options o, clock::time_point since = clock::now()) {
        last = ec;
        if (pipe && pipe->failure()) last_text = pipe->failure_text();
        if (!retriable(ec) || ec == std::errc::operation_canceled || ec == std::errc::timed_out) {
            if (ec != std::errc::operation_canceled && ec != std::errc::timed_out) terminal = ec;
            co_return ec;
        }
        auto r = co_await reconnect(o, false, since);
        if (!r) {
            last = r.error();
            if (!retriable(r.error())) terminal = r.error();
            co_return r.error();
        }
        co_return result<void>{};
    }

    // Sends the builder's message. A frame that failed after it entered the
    // pipeline is kept there and replayed by the reconnect; one that never
    // entered it is sent again on the new connection. Either way the rows
    // are delivered or an error is returned: the loop ends only with
    // success, a terminal error, or reconnect_max_duration spent.
    task<result<void>> send_built(bool want_defer, op_options o) {
        std::optional<clock::time_point> first_failure;
        for (;;) {
            if (terminal) co_return terminal;
            const bool deferred = want_defer && !(first_frame && cfg.first_frame_commits);
            const auto pieces = mb.finish(deferred ? flags::defer_commit : 0);
            const std::int64_t seq_before = pipe->next_sequence();
            std::size_t size = 0;
            for (const auto& p : pieces) size += p.size;
            auto seq = co_await pipe->send(pieces, deferred, o);
            if (seq) {
                ++st.frames;
                st.bytes += size;
                first_frame = false;
                if (seq->deferred) {
                    uncommitted = true;
                } else {
                    uncommitted = false;
                    last_commit = seq->seq;
                }
                mb.clear();
                co_return result<void>{};
            }
            const bool kept = pipe->next_sequence() > seq_before;
            if (!first_failure) first_failure = clock::now();
            if (clock::now() >= *first_failure + cfg.reconnect_max_duration) co_return seq.error();
            auto r = co_await recover(seq.error(), o, *first_failure);
            if (!r) co_return r;
            if (kept) {
                // Replayed on the new connection: it counts as sent.
                ++st.frames;
                st.bytes += size;
                first_frame = false;
                uncommitted = true;
                mb.clear();
                co_return result<void>{};
            }
        }
    }

    // Rows [from, from + count) of c, halved until each piece fits.
    task<result<void>> send_split(const chunk& c, std::size_t from, std::size_t count, op_options o) {
        mb.clear();
        auto e = encode(mb, c, from, count);
        if (!e) co_return e;
        if (mb.message_size() <= cap()) co_return co_await send_built(true, o);
        mb.clear();
        if (count <= 1) co_return make_error_code(errc::frame_too_large);
        const std::size_t half = count / 2;
        auto a = co_await send_split(c, from, half, o);
        if (!a) co_return a;
        co_return co_await send_split(c, from + half, count - half, o);
    }

    task<result<void>> ensure(op_options o) {
        if (terminal) co_return terminal;
        if (pipe && !pipe->must_close()) co_return result<void>{};
        const std::error_code ec = pipe ? pipe->failure() : make_error_code(errc::must_close);
        co_return co_await recover(ec, o);
    }

    task<result<void>> flush(std::span<const chunk> chunks, op_options o) {
        auto ok = co_await ensure(o);
        if (!ok) co_return ok;
        mb.clear();
        for (const chunk& c : chunks) {
            if (c.rows() == 0) continue;
            const auto before = mb.mark();
            auto e = encode(mb, c);
            if (!e) {
                mb.reset_to(before);
                co_return e;
            }
            if (mb.message_size() <= cap()) continue;
            mb.reset_to(before);
            if (mb.table_count() > 0) {
                auto s = co_await send_built(true, o);
                if (!s) co_return s;
            }
            auto s = co_await send_split(c, 0, c.rows(), o);
            if (!s) co_return s;
        }
        if (mb.table_count() > 0) co_return co_await send_built(true, o);
        co_return result<void>{};
    }

    task<result<void>> sync(ack_level level, op_options o) {
        std::optional<clock::time_point> first_failure;
        for (;;) {
            auto ok = co_await ensure(o);
            if (!ok) co_return ok;
            if (uncommitted || last_commit < 0 || pipe->next_sequence() == 0) {
                mb.clear();
                auto s = co_await send_built(false, o);
                if (!s) co_return s;
                if (!pipe || pipe->must_close()) continue;
            }
            auto w = co_await pipe->wait_acked(last_commit, level, o);
            if (w) co_return w;
            // The OK did not come: reconnect, replay, commit again, within
            // the reconnect budget counted from the first failure.
            if (!first_failure) first_failure = clock::now();
            if (clock::now() >= *first_failure + cfg.reconnect_max_duration) co_return w;
            auto r = co_await recover(w.error(), o, *first_failure);
            if (!r) co_return r;
        }
    }
};

sender::sender(std::unique_ptr<impl> p) : p_(std::move(p)) {}
sender::sender(sender&&) noexcept = default;
sender& sender::operator=(sender&&) noexcept = default;
sender::~sender() = default;

task<result<sender>> sender::connect(std::string_view conf, op_options o) {
    std::string why;
    auto c = config::parse(conf, &why);
    if (!c) co_return c.error();
    co_return co_await connect(std::move(*c), o);
}

task<result<sender>> sender::connect(config c, op_options o) { co_return co_await connect(std::move(c), {}, o); }

task<result<sender>> sender::connect(config c, stream_factory factory, op_options o) {
    auto p = std::make_unique<impl>(std::move(c));
    p->factory = std::move(factory);
    auto r = co_await p->reconnect(o, true);
    if (!r) co_return r.error();
    co_return sender(std::move(p));
}

task<result<void>> sender::flush(const chunk& c, op_options o) {
    co_return co_await p_->flush(std::span(&c, 1), o);
}

task<result<void>> sender::flush(std::span<const chunk> chunks, op_options o) { co_return co_await p_->flush(chunks, o); }

task<result<void>> sender::flush(row_buffer& rows, op_options o) {
    if (rows.error()) co_return rows.error();
    const auto chunks = rows.chunks();
    auto r = co_await p_->flush(chunks, o);
    if (r) rows.clear();
    co_return r;
}

task<result<void>> sender::sync(ack_level level, op_options o) { co_return co_await p_->sync(level, o); }

task<result<void>> sender::close(op_options o) {
    auto s = co_await p_->sync(ack_level::ok, o);
    if (!s) co_return s;
    if (!p_->pipe) co_return make_error_code(errc::must_close);
    co_return co_await p_->pipe->close(o);
}

const server_info& sender::server() const noexcept { return p_->info; }
const config& sender::conf() const noexcept { return p_->cfg; }
bool sender::must_close() const noexcept { return static_cast<bool>(p_->terminal); }
std::error_code sender::last_error() const noexcept { return p_->last; }
const std::string& sender::last_error_text() const noexcept { return p_->last_text; }
const sender::stats& sender::counters() const noexcept { return p_->st; }
std::size_t sender::in_flight() const noexcept { return p_->pipe ? p_->pipe->in_flight() : 0; }

// ---------------------------------------------------------------- pool

struct sender_pool::state {
    config cfg;
    struct idle_sender {
        std::unique_ptr<sender> s;
        clock::time_point since;
    };
    std::vector<idle_sender> idle;  // most recently returned last
    std::size_t lent = 0;
    std::size_t connecting = 0;
    notifier returned;

    void reap() {
        const auto now = clock::now();
        // Oldest returns first; keep pool_size of the whole pool.
        std::size_t i = 0;
        while (i < idle.size() && idle.size() + lent > cfg.pool_size) {
            if (idle[i].s->must_close() || now - idle[i].since >= cfg.pool_idle_timeout)
                idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
            else
                ++i;
        }
    }
    void give_back(std::unique_ptr<sender> s) {
        --lent;
        if (!s->must_close()) idle.push_back({std::move(s), clock::now()});
        // A borrower waiting gets this one; otherwise idle ones may expire.
        if (returned.has_waiters()) returned.notify_all();
        else reap();
    }
};

sender_pool::sender_pool(config c) : s_(std::make_shared<state>()) { s_->cfg = std::move(c); }
sender_pool::sender_pool(sender_pool&&) noexcept = default;
sender_pool& sender_pool::operator=(sender_pool&&) noexcept = default;
sender_pool::~sender_pool() = default;

result<sender_pool> sender_pool::from_conf(std::string_view conf, std::string* why) {
    auto c = config::parse(conf, why);
    if (!c) return c.error();
    return sender_pool(std::move(*c));
}

sender_pool::lease::~lease() {
    if (pool_ && s_) pool_->give_back(std::move(s_));
}

task<result<sender_pool::lease>> sender_pool::borrow(op_options o) {
    reap();
    for (;;) {
        while (!s_->idle.empty()) {
            auto s = std::move(s_->idle.back().s);
            s_->idle.pop_back();
            if (s->must_close()) continue;  // never hand out a broken one
            ++s_->lent;
            co_return lease(s_, std::move(s));
        }
        if (s_->lent + s_->connecting + s_->idle.size() < s_->cfg.pool_max) {
            ++s_->connecting;
            auto c = co_await sender::connect(s_->cfg, o);
            --s_->connecting;
            if (!c) {
                s_->returned.notify_all();
                co_return c.error();
            }
            ++s_->lent;
            co_return lease(s_, std::make_unique<sender>(std::move(*c)));
        }
        auto w = co_await s_->returned.wait(o);
        if (!w) co_return w.error();
    }
}

std::size_t sender_pool::idle() const noexcept { return s_->idle.size(); }
std::size_t sender_pool::open() const noexcept { return s_->idle.size() + s_->lent; }

void sender_pool::reap() { s_->reap(); }

}  // namespace qwire::qwp
