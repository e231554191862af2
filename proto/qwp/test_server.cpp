#include <qwire/proto/qwp/test_server.hpp>

#include <qwire/proto/http/http.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <set>

namespace qwire::qwp {

struct test_server::impl {
    test_server_options opt;
    acceptor acc;
    std::stop_source stop;
    std::map<std::string, table_data> tables;
    counters st;
    std::set<socket_stream*> live;
    std::map<std::string, std::pair<status, std::string>> failures;

    std::optional<http::response> refuse(const http::request& req) const {
        auto plain = [](int code, const char* reason, const char* body) {
            http::response r;
            r.status = code;
            r.reason = reason;
            r.body = body;
            return r;
        };
        if (req.target != "/write/v4" && req.target != "/api/v4/write") return plain(404, "Not Found", "not found\n");
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
        return std::nullopt;
    }

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

    task<void> serve(socket_stream sock, test_server* self) {
        ++st.connections;
        live.insert(&sock);
        struct unregister {
            impl* i;
            socket_stream* s;
            ~unregister() { i->live.erase(s); }
        } guard{this, &sock};
        const op_options stop_o(stop.get_token());
        byte_buffer in;
        auto req = co_await http::read_request(sock, in, stop_o);
        if (!req) co_return;
        if (auto bad = refuse(*req)) {
            const std::string text = http::write_with_body(std::move(*bad));
            co_await sock.write_all(as_bytes(text), stop_o);
            co_return;
        }
        http::response up = ws::accept_upgrade(*req);
        up.headers.add("X-QWP-Version", "1");
        up.headers.add("X-QWP-Max-Batch-Size", std::to_string(opt.max_batch));
        const bool durable = opt.durable_ack && req->headers.get("X-QWP-Request-Durable-Ack") == std::optional<std::string_view>("true");
        if (durable) up.headers.add("X-QWP-Durable-Ack", "enabled");
        up.headers.add("X-QuestDB-Role", "STANDALONE");
        const std::string head = http::write_head(up);
        auto w = co_await sock.write_all(as_bytes(head), stop_o);
        if (!w) co_return;
        ws::stream_options so;
        so.max_message_size = opt.max_frame;
        // The stream owns the socket from here; keep the registration on it.
        live.erase(&sock);
        ws::stream<socket_stream> ws(std::move(sock), ws::role::server, std::move(in), so);
        live.insert(&ws.next_layer());
        guard.s = &ws.next_layer();

        message_decoder dec;
        std::int64_t next_seq = 0;
        bool broken = false;
        std::vector<decoded_table> pending;
        std::vector<std::byte> reply;
        for (;;) {
            auto m = co_await ws.receive(stop_o);
            if (!m) break;
            const std::int64_t seq = next_seq++;
            ++st.frames;
            st.bytes += m->payload.size();
            if (self->on_frame) self->on_frame(m->payload);
            if (broken) continue;  // QuestDB ignores frames after an error
            std::optional<std::pair<status, std::string>> error;
            auto d = dec.decode(m->payload);
            if (!d) {
                error = std::pair(d.error() == errc::dictionary_gap ? status::dictionary_gap : status::parse_error,
                                  d.error().message());
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
            ++st.commits;
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

test_server::test_server(std::unique_ptr<impl> p) : p_(std::move(p)) {}
test_server::~test_server() { stop(); }

result<std::unique_ptr<test_server>> test_server::start(test_server_options o) {
    auto ep = endpoint::ip(o.host, o.port);
    if (!ep) return ep.error();
    auto a = acceptor::listen(*ep);
    if (!a) return a.error();
    auto p = std::make_unique<impl>();
    p->opt = std::move(o);
    p->acc = std::move(*a);
    return std::unique_ptr<test_server>(new test_server(std::move(p)));
}

std::uint16_t test_server::port() const noexcept { return p_->acc.local_endpoint().port(); }

std::string test_server::conf() const { return "ws::addr=127.0.0.1:" + std::to_string(port()) + ";"; }

task<void> test_server::run() {
    scope conns;
    const op_options stop_o(p_->stop.get_token());
    for (;;) {
        auto s = co_await p_->acc.accept(stop_o);
        if (!s) break;
        conns.spawn(p_->serve(std::move(*s), this));
    }
    co_await conns.join();
}

void test_server::stop() {
    if (!p_) return;
    p_->stop.request_stop();
    p_->acc.close();
    for (auto* s : p_->live) s->close();
}

const std::map<std::string, test_server::table_data>& test_server::tables() const noexcept { return p_->tables; }
const test_server::counters& test_server::stats() const noexcept { return p_->st; }

void test_server::fail_next(const std::string& table, status s, std::string message) {
    p_->failures[table] = {s, std::move(message)};
}

}  // namespace qwire::qwp
