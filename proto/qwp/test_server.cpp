#include <qwire/proto/qwp/test_server.hpp>

#include <qwire/core/log.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/test_sql.hpp>
#include <qwire/proto/qwp/zstd.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <cctype>
#include <future>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

namespace qwire::qwp {

struct test_server::impl {
    test_server_options opt;
    acceptor acc;
    std::stop_source stop;
    std::map<std::string, table_data> tables;
    counters st;
    // The streams being served, each with what closes it (stop() does).
    std::map<void*, void (*)(void*)> live;
    std::optional<tls_context> tls;
    std::map<std::string, std::pair<status, std::string>> failures;
    std::size_t active = 0;          // connections being served
    std::uint64_t chaos_state = 0;   // splitmix64 state for fault injection
    unsigned dropped_queries = 0;    // of chaos_drop_queries

    // True one time in n (n == 0: never).
    bool one_in(unsigned n) {
        if (n == 0) return false;
        std::uint64_t z = (chaos_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return (z ^ (z >> 31)) % n == 0;
    }

    static void log(std::string_view peer, std::string_view what) { log_peer("qwp test server", peer, what); }

    op_options until(std::chrono::milliseconds d) const {
        op_options o(stop.get_token());
        if (d.count() > 0) o.deadline = clock::now() + d;
        return o;
    }

    std::optional<http::response> refuse(const http::request& req) const {
        auto plain = [](int code, const char* reason, const char* body) {
            http::response r;
            r.status = code;
            r.reason = reason;
            r.body = body;
            return r;
        };
        if (req.target != "/write/v4" && req.target != "/api/v4/write" && req.target != "/read/v1")
            return plain(404, "Not Found", "not found\n");
        if (auto bad = ws::check_upgrade(req)) return bad;
        if (req.headers.get("Origin"))
            return plain(400, "Bad Request", "Origin header not allowed on QWP WebSocket\n");
        const auto auth = req.headers.get("Authorization");
        if (!opt.username.empty()) {
            auto up = auth ? http::parse_basic_auth(*auth) : result<std::pair<std::string, std::string>>(make_error_code(errc::unauthorized));
            if (!up || up->first != opt.username || up->second != opt.password)
                return plain(401, "Unauthorized", "bad credentials\n");
        }
        if (!opt.token.empty() && auth != std::optional<std::string_view>(http::bearer_auth(opt.token)))
            return plain(401, "Unauthorized", "bad token\n");
        if (req.target != "/read/v1" && (opt.role == test_server_options::node_role::replica ||
                                         opt.role == test_server_options::node_role::primary_catchup)) {
            auto r = plain(421, "Misdirected Request", "this node does not take writes\n");
            r.headers.add("X-QuestDB-Role", role_name());
            return r;
        }
        return std::nullopt;
    }

    std::string role_name() const { return std::string(egress::role_name(static_cast<std::uint8_t>(opt.role))); }

    // SCHEMA_MISMATCH when a column changes type; registers new columns.
    std::optional<std::pair<status, std::string>> check(const decoded_table& t) {
        if (auto f = failures.find(t.name); f != failures.end()) {
            auto out = f->second;
            failures.erase(f);
            return out;
        }
        auto& schema = tables[t.name].schema;
        for (const auto& c : t.columns) {
            const std::string name = c.name.empty() ? "timestamp" : c.name;
            auto it = std::find_if(schema.begin(), schema.end(), [&](const auto& s) { return s.first == name; });
            if (it == schema.end()) {
                schema.emplace_back(name, c.type);
            } else if (it->second != c.type) {
                return std::pair(status::schema_mismatch, "column '" + name + "' of table '" + t.name + "' is " +
                                                              std::string(type_name(it->second)) + ", not " +
                                                              std::string(type_name(c.type)));
            }
        }
        return std::nullopt;
    }

    template <class S>
    void track(S* s) {
        live[s] = [](void* p) { close_stream(*static_cast<S*>(p)); };
    }
    struct unregister {
        impl* i;
        void* s;
        ~unregister() { i->live.erase(s); }
    };

    template <byte_stream S>
    task<void> serve_egress(ws::stream<S>& ws, const http::request& req, int zstd_level);

    task<void> serve(socket_stream raw, test_server* self) {
        ++active;
        struct release {
            std::size_t& n;
            ~release() { --n; }
        } counted{active};
        std::string peer = raw.peer_address();
        if (!tls) {
            co_await serve_stream(std::move(raw), std::move(peer), self);
            co_return;
        }
        auto t = co_await tls_stream<socket_stream>::accept(std::move(raw), *tls, until(opt.handshake_timeout));
        if (!t) {
            ++st.refused;
            log(peer, "refused: TLS handshake failed (" + t.error().message() + ")");
            co_return;
        }
        co_await serve_stream(std::move(*t), std::move(peer), self);
    }

    template <byte_stream S>
    task<void> serve_stream(S sock, std::string peer, test_server* self) {
        const op_options stop_o(stop.get_token());
        ++st.connections;
        track(&sock);
        unregister guard{this, &sock};
        byte_buffer in;
        auto req = co_await http::read_request(sock, in, until(opt.handshake_timeout));
        if (!req) {
            if (req.error() != qwire::errc::eof && !stop.stop_requested()) {
                ++st.refused;
                log(peer, "refused: bad or unfinished upgrade request (" + req.error().message() + ")");
            }
            co_return;
        }
        if (auto bad = refuse(*req)) {
            ++st.refused;
            log(peer, "refused: HTTP " + std::to_string(bad->status) + " for " + req->target);
            const std::string text = http::write_with_body(std::move(*bad));
            co_await sock.write_all(as_bytes(text), stop_o);
            co_return;
        }
        const bool egress_path = req->target == "/read/v1";
        http::response up = ws::accept_upgrade(*req);
        up.headers.add("X-QWP-Version", "1");
        const bool durable = !egress_path && opt.durable_ack &&
                             req->headers.get("X-QWP-Request-Durable-Ack") == std::optional<std::string_view>("true");
        if (!egress_path) up.headers.add("X-QWP-Max-Batch-Size", std::to_string(opt.max_batch));
        if (durable) up.headers.add("X-QWP-Durable-Ack", "enabled");
        up.headers.add("X-QuestDB-Role", role_name());
        int zstd_level = 0;  // 0: raw
        if (egress_path && opt.zstd)
            if (auto enc = req->headers.get("X-QWP-Accept-Encoding")) zstd_level = zstd_offered(*enc);
        if (zstd_level) up.headers.add("X-QWP-Content-Encoding", "zstd;level=" + std::to_string(zstd_level));
        const std::string head = http::write_head(up);
        auto w = co_await sock.write_all(as_bytes(head), stop_o);
        if (!w) co_return;
        ws::stream_options so;
        so.max_message_size = opt.max_frame;
        // The stream owns the socket from here; keep the registration on it.
        live.erase(&sock);
        ws::stream<S> ws(std::move(sock), ws::role::server, std::move(in), so);
        track(&ws.next_layer());
        guard.s = &ws.next_layer();
        if (egress_path) {
            co_await serve_egress(ws, *req, zstd_level);
            co_return;
        }

        message_decoder dec(2'000'000, opt.keep_rows);
        std::int64_t next_seq = 0;
        bool broken = false;
        std::vector<decoded_table> pending;
        std::vector<std::byte> reply;
        // Memory the uncommitted rows may still take; refilled at each commit.
        std::uint64_t budget = opt.max_connection_bytes;
        for (;;) {
            auto m = co_await ws.receive(until(opt.idle_timeout));
            if (!m) {
                if (m.error() == std::errc::timed_out && !stop.stop_requested())
                    log(peer, "closed: no whole message for " + std::to_string(opt.idle_timeout.count()) +
                                  " ms (idle_timeout)");
                else if (m.error() != ws::errc::closed && !is_disconnect(m.error()) && !stop.stop_requested())
                    log(peer, "closed: " + m.error().message());
                break;
            }
            if (one_in(opt.chaos_reset_one_in)) {
                ++st.chaos_resets;
                break;  // as if the connection died before this frame was read
            }
            const std::int64_t seq = next_seq++;
            ++st.frames;
            st.bytes += m->payload.size();
            if (self->on_frame) self->on_frame(m->payload);
            if (broken) continue;  // QuestDB ignores frames after an error
            std::optional<std::pair<status, std::string>> error;
            auto d = dec.decode(m->payload, opt.keep_rows ? &budget : nullptr);
            if (!d) {
                error = std::pair(d.error() == errc::dictionary_gap ? status::dictionary_gap : status::parse_error,
                                  d.error().message());
                if (d.error() == errc::over_budget)
                    error->second += " (max_connection_bytes " + std::to_string(opt.max_connection_bytes) + ")";
                log(peer, "answered " + std::string(error->first == status::dictionary_gap ? "DICTIONARY_GAP" : "PARSE_ERROR") +
                              " to frame " + std::to_string(seq) + ": " + error->second);
            } else {
                for (auto& t : d->tables) {
                    if ((error = check(t))) break;
                    pending.push_back(std::move(t));
                }
            }
            if (error) {
                broken = true;
                ++st.errors;
                pending.clear();
                response r;
                r.status = error->first;
                r.sequence = seq;
                r.message = error->second;
                reply = encode_response(r);
                co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
                // Past the budget the connection holds nothing more: close it.
                if (d.error() == errc::over_budget) break;
                continue;
            }
            if (d->flags & flags::defer_commit) continue;
            // Commit: every pending block, then one OK covering this frame.
            response ok;
            ok.sequence = seq;
            for (auto& t : pending) {
                auto& td = tables[t.name];
                ++td.seq_txn;
                td.rows += t.rows;
                st.rows += t.rows;
                auto e = std::find_if(ok.tables.begin(), ok.tables.end(), [&](const auto& x) { return x.first == t.name; });
                if (e == ok.tables.end()) ok.tables.emplace_back(t.name, td.seq_txn);
                else e->second = td.seq_txn;
                if (self->on_commit) self->on_commit(t);
                if (opt.keep_rows) td.blocks.push_back(std::move(t));
            }
            pending.clear();
            budget = opt.max_connection_bytes;
            ++st.commits;
            if (one_in(opt.chaos_lost_ok_one_in)) {
                ++st.chaos_resets;
                break;  // committed, but the OK never leaves
            }
            if (opt.ack_delay.count() > 0) {
                auto slept = co_await sleep_for(opt.ack_delay, stop.get_token());
                if (!slept) break;
            }
            reply = encode_response(ok);
            auto sent = co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
            if (!sent) break;
            if (durable && !ok.tables.empty()) {
                ok.status = status::durable_ack;
                reply = encode_response(ok);
                co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
            }
        }
        // Deferred rows of a dropped connection are rolled back.
    }
};

// ---------------------------------------------------------------- egress

template <byte_stream S>
task<void> test_server::impl::serve_egress(ws::stream<S>& ws, const http::request& req, int zstd_level) {
    const op_options stop_o(stop.get_token());
    std::size_t batch_rows = 65536;
    if (auto h = req.headers.get("X-QWP-Max-Batch-Rows")) {
        std::size_t n = 0;
        for (char ch : *h) n = ch >= '0' && ch <= '9' ? n * 10 + static_cast<std::size_t>(ch - '0') : 0;
        if (n > 0) batch_rows = std::min<std::size_t>(n, egress::max_batch_rows);
    }

    egress::server_info info;
    info.role = static_cast<std::uint8_t>(opt.role);
    if (opt.query_timeouts) info.capabilities |= egress::cap_query_flags | egress::cap_query_timeout;
    info.cluster_id = "qwire";
    info.node_id = "test-server";
    const auto hello = egress::server_info_frame(info);
    auto sent = co_await ws.send(ws::opcode::binary, std::span<const std::byte>(hello), stop_o);
    if (!sent) co_return;

    symbol_dict dict;  // this connection's
    message_builder mb(dict);
    zstd_packer packer(zstd_level);
    for (;;) {
        auto m = co_await ws.receive(until(opt.idle_timeout));
        if (!m) co_return;
        std::span<const std::byte> p = m->payload;
        if (p.empty()) co_return;
        const auto k = static_cast<egress::kind>(std::to_integer<std::uint8_t>(p[0]));
        if (k != egress::kind::query_request) continue;  // credit/cancel outside a query
        if (dropped_queries < opt.chaos_drop_queries) {
            ++dropped_queries;
            ++st.chaos_resets;
            co_return;  // the stream closes with this coroutine
        }
        if (p.size() < 9) co_return;
        std::int64_t id;
        std::memcpy(&id, p.data() + 1, 8);
        p = p.subspan(9);
        auto sql_len = get_varint(p);
        if (!sql_len || *sql_len > p.size()) co_return;
        const std::string sql(reinterpret_cast<const char*>(p.data()), static_cast<std::size_t>(*sql_len));
        p = p.subspan(static_cast<std::size_t>(*sql_len));
        auto credit = get_varint(p);
        auto binds = credit ? get_varint(p) : credit;
        if (!binds) co_return;
        std::vector<std::byte> reply;
        auto params = test_sql::decode_binds(p, *binds);
        // The optional trailer: query_flags, then timeout_ms with QUERY_FLAG_TIMEOUT.
        std::uint64_t timeout_ms = 0;
        if (params && !p.empty()) {
            auto qf = get_varint(p);
            if (!qf) co_return;
            if (*qf & egress::query_flag_timeout) {
                auto t = get_varint(p);
                if (!t) co_return;
                timeout_ms = *t;
                if (timeout_ms == 0 || timeout_ms > (std::uint64_t{1} << 62))
                    params = error(make_error_code(errc::parse_error), "timeout_ms must be positive");
            }
        }
        if (opt.query_delay.count() > 0) {
            const bool times_out = timeout_ms && std::chrono::milliseconds(timeout_ms) < opt.query_delay;
            auto slept = co_await sleep_for(times_out ? std::chrono::milliseconds(timeout_ms) : opt.query_delay, stop.get_token());
            if (!slept) co_return;
            if (times_out) {
                reply = egress::query_error_frame(id, status::limit_exceeded,
                                                  "timeout, query aborted [timeout=" + std::to_string(timeout_ms) + "ms]");
                auto e = co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
                if (!e) co_return;
                continue;
            }
        }
        auto rs = params ? test_sql::run(sql, tables, *params) : result<test_sql::result_set>(params.error());
        if (!rs) {
            reply = egress::query_error_frame(id, status::parse_error, rs.error().detail().empty() ? rs.error().message() : rs.error().detail());
            auto e = co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
            if (!e) co_return;
            continue;
        }
        std::vector<column_view> views;
        for (auto& c : rs->columns) views.push_back(c.view());
        std::int64_t remaining = *credit ? static_cast<std::int64_t>(*credit) : std::numeric_limits<std::int64_t>::max();
        std::uint64_t seq = 0;
        bool cancelled = false;
        for (std::size_t from = 0; from < rs->rows || seq == 0; from += batch_rows, ++seq) {
            // Credit: the first batch always goes; later ones wait for more.
            while (seq > 0 && remaining <= 0 && !cancelled) {
                auto c = co_await ws.receive(stop_o);
                if (!c) co_return;
                std::span<const std::byte> cp = c->payload;
                if (cp.size() < 9) co_return;
                const auto ck = static_cast<egress::kind>(std::to_integer<std::uint8_t>(cp[0]));
                cp = cp.subspan(9);
                if (ck == egress::kind::cancel) cancelled = true;
                if (ck == egress::kind::credit) {
                    auto more = get_varint(cp);
                    if (!more) co_return;
                    remaining += static_cast<std::int64_t>(*more);
                }
            }
            if (cancelled) break;
            const std::size_t count = std::min(batch_rows, rs->rows - std::min(from, rs->rows));
            std::vector<column_view> slice;
            for (const auto& v : views) slice.push_back(v.sliced(from, count));
            mb.clear();
            auto r = mb.add_result_block(count, slice, seq == 0);
            if (!r) co_return;
            std::vector<std::byte> prefix{static_cast<std::byte>(egress::kind::result_batch)};
            prefix.resize(9);
            std::memcpy(prefix.data() + 1, &id, 8);
            std::uint8_t tmp[max_varint];
            const std::size_t n = put_varint(tmp, seq);
            for (std::size_t i = 0; i < n; ++i) prefix.push_back(static_cast<std::byte>(tmp[i]));
            auto pieces = mb.finish(0, prefix);
            if (zstd_level) {
                auto packed = packer.pack(pieces, prefix.size());
                if (!packed) co_return;
                pieces = *packed;
                ++st.zstd_batches;
            }
            ++st.result_batches;
            std::size_t size = 0;
            for (const auto& piece : pieces) size += piece.size;
            remaining -= static_cast<std::int64_t>(size);
            auto b = co_await ws.send(ws::opcode::binary, pieces, stop_o);
            if (!b) co_return;
            if (count == 0) {
                ++seq;
                break;
            }
        }
        reply = cancelled ? egress::query_error_frame(id, status::cancelled, "cancelled")
                          : egress::result_end_frame(id, seq ? seq - 1 : 0, rs->rows);
        auto e = co_await ws.send(ws::opcode::binary, std::span<const std::byte>(reply), stop_o);
        if (!e) co_return;
    }
}

test_server::test_server(std::unique_ptr<impl> p) : p_(std::move(p)) {}
test_server::~test_server() { stop(); }

result<std::unique_ptr<test_server>> test_server::start(test_server_options o) {
    result<acceptor> a = make_error_code(qwire::errc::invalid_argument);
    if (!o.unix_path.empty()) {
        a = unix_listen(o.unix_path);
    } else {
        auto ep = endpoint::ip(o.host, o.port);
        if (!ep) return ep.error();
        a = acceptor::listen(*ep);
    }
    if (!a) return a.error();
    auto p = std::make_unique<impl>();
    if (!o.tls_cert.empty()) {
        auto ctx = tls_context::server(o.tls_cert, o.tls_key);
        if (!ctx) return ctx.error();
        p->tls = std::move(*ctx);
    }
    p->chaos_state = o.chaos_seed;
    p->opt = std::move(o);
    p->acc = std::move(*a);
    return std::unique_ptr<test_server>(new test_server(std::move(p)));
}

std::uint16_t test_server::port() const noexcept { return p_->opt.unix_path.empty() ? p_->acc.local_endpoint().port() : 0; }

std::string test_server::conf() const {
    return std::string(p_->tls ? "wss" : "ws") + "::addr=127.0.0.1:" + std::to_string(port()) + ";";
}

task<void> test_server::serve_stream(pipe_stream s, std::string peer) {
    co_await p_->serve_stream(std::move(s), std::move(peer), this);
}

task<void> test_server::serve_stream(socket_stream s, std::string peer) {
    co_await p_->serve_stream(std::move(s), std::move(peer), this);
}

task<void> test_server::serve_stream(any_stream s, std::string peer) {
    co_await p_->serve_stream(std::move(s), std::move(peer), this);
}

task<void> test_server::run() {
    scope conns;
    const op_options stop_o(p_->stop.get_token());
    for (;;) {
        auto s = co_await p_->acc.accept(stop_o);
        if (!s) break;
        if (p_->active >= p_->opt.max_connections) {
            ++p_->st.refused;
            p_->log(s->peer_address(), "refused: " + std::to_string(p_->active) + " connections already (max_connections)");
            continue;  // the socket closes here
        }
        conns.spawn(p_->serve(std::move(*s), this));
    }
    co_await conns.join();
}

void test_server::stop() {
    if (!p_) return;
    p_->stop.request_stop();
    p_->acc.close();
    const auto live = p_->live;  // a copy: closing a stream may end its coroutine
    for (auto [s, close] : live) close(s);
}

const std::map<std::string, test_server::table_data>& test_server::tables() const noexcept { return p_->tables; }
const test_server::counters& test_server::stats() const noexcept { return p_->st; }

void test_server::fail_next(const std::string& table, status s, std::string message) {
    p_->failures[table] = {s, std::move(message)};
}

test_server_thread::test_server_thread(test_server_options o, std::function<void(test_server&)> setup,
                                       std::function<std::error_code()> enter) {
    std::promise<std::error_code> ready;
    auto up = ready.get_future();
    thread_ = std::thread([this, &ready, &o, &setup, &enter] {
        if (enter) {
            if (auto ec = enter()) {
                ready.set_value(ec);
                return;
            }
        }
        reactor r;
        auto s = test_server::start(std::move(o));
        if (!s) {
            ready.set_value(s.error());
            return;
        }
        server_ = std::move(*s);
        if (setup) setup(*server_);
        mailbox_ = r.get_mailbox();
        ready.set_value({});
        r.block_on(server_->run());
    });
    if (auto ec = up.get()) {
        thread_.join();
        throw std::system_error(ec, "qwp test server");
    }
}

test_server_thread::~test_server_thread() { stop(); }

void test_server_thread::stop() {
    if (!thread_.joinable()) return;
    mailbox_->post([this] { server_->stop(); });
    thread_.join();
}

}  // namespace qwire::qwp
