#include <qwire/proto/qwp/reader.hpp>

#include <qwire/core/timer.hpp>
#include <qwire/proto/qwp/arrow.hpp>
#include <qwire/proto/qwp/zstd.hpp>

#include <cstring>
#include <stdexcept>

namespace qwire::qwp {

// ---------------------------------------------------------------- frames

namespace egress {
namespace {

struct writer {
    std::vector<std::byte> out;
    void u8(std::uint8_t v) { out.push_back(static_cast<std::byte>(v)); }
    template <class T>
    void fixed(T v) {
        const auto* p = reinterpret_cast<const std::byte*>(&v);
        out.insert(out.end(), p, p + sizeof v);
    }
    void varint(std::uint64_t v) {
        std::uint8_t tmp[max_varint];
        const std::size_t n = put_varint(tmp, v);
        for (std::size_t i = 0; i < n; ++i) u8(tmp[i]);
    }
    void bytes(std::string_view s) {
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        out.insert(out.end(), p, p + s.size());
    }
    void str16(std::string_view s) {
        fixed(static_cast<std::uint16_t>(s.size()));
        bytes(s);
    }
    // Puts the 12-byte header in front.
    std::vector<std::byte> framed(std::uint8_t flags, std::uint16_t tables) {
        writer h;
        h.bytes("QWP1");
        h.u8(version);
        h.u8(flags);
        h.fixed(tables);
        h.fixed(static_cast<std::uint32_t>(out.size()));
        h.out.insert(h.out.end(), out.begin(), out.end());
        return std::move(h.out);
    }
};

}  // namespace

std::vector<std::byte> encode_query(std::int64_t request_id, std::string_view sql, std::uint64_t initial_credit,
                                    std::span<const std::byte> binds, std::size_t bind_count, std::uint64_t timeout_ms) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::query_request));
    w.fixed(request_id);
    w.varint(sql.size());
    w.bytes(sql);
    w.varint(initial_credit);
    w.varint(bind_count);
    w.out.insert(w.out.end(), binds.begin(), binds.end());
    if (timeout_ms > 0) {
        w.varint(query_flag_timeout);
        w.varint(timeout_ms);
    }
    return std::move(w.out);
}

std::vector<std::byte> encode_credit(std::int64_t request_id, std::uint64_t bytes) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::credit));
    w.fixed(request_id);
    w.varint(bytes);
    return std::move(w.out);
}

std::vector<std::byte> encode_cancel(std::int64_t request_id) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::cancel));
    w.fixed(request_id);
    return std::move(w.out);
}

std::vector<std::byte> server_info_frame(const server_info& s) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::server_info));
    w.u8(s.role);
    w.fixed(s.epoch);
    w.fixed(s.capabilities);
    w.fixed(s.server_wall_ns);
    w.str16(s.cluster_id);
    w.str16(s.node_id);
    if (s.capabilities & 1) w.str16(s.zone_id);
    return w.framed(0, 0);
}

std::vector<std::byte> result_end_frame(std::int64_t request_id, std::uint64_t final_seq, std::uint64_t total_rows) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::result_end));
    w.fixed(request_id);
    w.varint(final_seq);
    w.varint(total_rows);
    return w.framed(0, 0);
}

std::vector<std::byte> query_error_frame(std::int64_t request_id, status st, std::string_view message) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::query_error));
    w.fixed(request_id);
    w.u8(static_cast<std::uint8_t>(st));
    w.str16(message.substr(0, 1024));
    return w.framed(0, 0);
}

std::vector<std::byte> exec_done_frame(std::int64_t request_id, std::uint8_t op, std::uint64_t rows) {
    writer w;
    w.u8(static_cast<std::uint8_t>(kind::exec_done));
    w.fixed(request_id);
    w.u8(op);
    w.varint(rows);
    return w.framed(0, 0);
}

namespace {
struct cursor {
    std::span<const std::byte> in;
    template <class T>
    result<T> fixed() {
        if (in.size() < sizeof(T)) return make_error_code(errc::truncated);
        T v;
        std::memcpy(&v, in.data(), sizeof v);
        in = in.subspan(sizeof v);
        return v;
    }
    result<std::string> str16() {
        auto n = fixed<std::uint16_t>();
        if (!n) return n.error();
        if (in.size() < *n) return make_error_code(errc::truncated);
        std::string s(reinterpret_cast<const char*>(in.data()), *n);
        in = in.subspan(*n);
        return s;
    }
};
}  // namespace

result<server_info> decode_server_info(std::span<const std::byte> payload) {
    cursor c{payload};
    server_info s;
    auto k = c.fixed<std::uint8_t>();
    if (!k || *k != static_cast<std::uint8_t>(kind::server_info)) return make_error_code(errc::parse_error);
    auto role = c.fixed<std::uint8_t>();
    auto epoch = c.fixed<std::uint64_t>();
    auto caps = c.fixed<std::uint32_t>();
    auto wall = c.fixed<std::int64_t>();
    if (!role || !epoch || !caps || !wall) return make_error_code(errc::truncated);
    s.role = *role;
    s.epoch = *epoch;
    s.capabilities = *caps;
    s.server_wall_ns = *wall;
    auto cl = c.str16();
    if (!cl) return cl.error();
    auto node = c.str16();
    if (!node) return node.error();
    s.cluster_id = std::move(*cl);
    s.node_id = std::move(*node);
    if (s.capabilities & 1) {
        auto z = c.str16();
        if (!z) return z.error();
        s.zone_id = std::move(*z);
    }
    return s;
}

}  // namespace egress

const decoded_column* result_batch::column(std::string_view name) const noexcept {
    for (const auto& c : table.columns)
        if (c.name == name) return &c;
    return nullptr;
}

std::string_view egress::role_name(std::uint8_t role) noexcept {
    static constexpr std::string_view names[] = {"STANDALONE", "PRIMARY", "REPLICA", "PRIMARY_CATCHUP"};
    return role < 4 ? names[role] : "node of unknown role";
}

// ---------------------------------------------------------------- binds

binds& binds::put(type t, const void* v, std::size_t n) {
    out_.push_back(static_cast<std::byte>(t));
    out_.push_back(std::byte{0});  // no NULL: no bitmap
    const auto* b = static_cast<const std::byte*>(v);
    out_.insert(out_.end(), b, b + n);
    ++n_;
    return *this;
}

binds& binds::boolean(bool v) {
    const std::uint8_t bit = v ? 1 : 0;  // one row: bit 0 of one byte
    return put(type::boolean, &bit, 1);
}
binds& binds::byte(std::int8_t v) { return put(type::byte, &v, 1); }
binds& binds::short_(std::int16_t v) { return put(type::short_, &v, 2); }
binds& binds::char_(char16_t v) { return put(type::char_, &v, 2); }
binds& binds::int_(std::int32_t v) { return put(type::int_, &v, 4); }
binds& binds::long_(std::int64_t v) { return put(type::long_, &v, 8); }
binds& binds::float_(float v) { return put(type::float_, &v, 4); }
binds& binds::double_(double v) { return put(type::double_, &v, 8); }
binds& binds::date_millis(std::int64_t v) { return put(type::date, &v, 8); }
binds& binds::timestamp_micros(std::int64_t v) { return put(type::timestamp, &v, 8); }
binds& binds::timestamp_nanos(std::int64_t v) { return put(type::timestamp_nanos, &v, 8); }
binds& binds::uuid(std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t v[2] = {lo, hi};
    return put(type::uuid, v, 16);
}
binds& binds::varchar(std::string_view v) {
    if (v.size() > (1u << 20) && !problem_)
        problem_ = error(errc::bad_length, "bind $" + std::to_string(n_ + 1) + ": a VARCHAR over 1 MiB");
    // One value: offsets 0 and its length, then its bytes.
    const std::uint32_t offsets[2] = {0, static_cast<std::uint32_t>(v.size())};
    put(type::varchar, offsets, sizeof offsets);
    const auto* b = reinterpret_cast<const std::byte*>(v.data());
    out_.insert(out_.end(), b, b + v.size());
    return *this;
}
binds& binds::null(type t) {
    switch (t) {
    case type::boolean: case type::byte: case type::short_: case type::char_: case type::int_: case type::long_:
    case type::float_: case type::double_: case type::date: case type::timestamp: case type::timestamp_nanos:
    case type::uuid: case type::varchar:
        break;
    default:
        if (!problem_)
            problem_ = error(std::make_error_code(std::errc::invalid_argument),
                             "bind $" + std::to_string(n_ + 1) + ": no NULL bind of " + std::string(type_name(t)));
        return *this;
    }
    // Flag 1, bitmap 1 (row 0 is NULL), no values; VARCHAR sends no
    // offsets for a NULL, as QuestDB's server reads it.
    out_.push_back(static_cast<std::byte>(t));
    out_.push_back(std::byte{1});
    out_.push_back(std::byte{1});
    ++n_;
    return *this;
}

// ---------------------------------------------------------------- reader

namespace {

// The reader's connection: a ws::stream<S> for the stream it was opened
// over, behind one pointer (one indirect call per message, never per read
// or write).
struct link {
    virtual ~link() = default;
    virtual task<result<void>> send(std::span<const std::byte> payload, op_options o) = 0;
    virtual task<result<ws::message>> receive(op_options o) = 0;
};

template <byte_stream S>
struct ws_link final : link {
    explicit ws_link(ws::stream<S> w) : ws(std::move(w)) {}
    task<result<void>> send(std::span<const std::byte> payload, op_options o) override {
        return ws.send(ws::opcode::binary, payload, std::move(o));
    }
    task<result<ws::message>> receive(op_options o) override { return ws.receive(std::move(o)); }
    ws::stream<S> ws;
};

struct upgraded {
    std::unique_ptr<link> ws;
    http::response answer;
};

template <byte_stream S>
task<result<upgraded>> upgrade(const config& c, S s, std::string host, http::headers extra, op_options o) {
    auto w = co_await open_ws(c, std::move(s), std::move(host), "/read/v1", std::move(extra), o);
    if (!w) co_return w.error();
    co_return upgraded{std::make_unique<ws_link<S>>(std::move(w->first)), std::move(w->second)};
}

}  // namespace

struct reader::impl {
    config cfg;
    std::unique_ptr<link> ws;
    egress::server_info info;
    std::vector<std::string> dict;  // connection-scoped symbol dictionary
    std::vector<std::pair<std::string, type>> schema;
    std::int64_t next_id = 1;
    std::int64_t running = 0;  // 0: no query
    std::uint64_t pending_credit = 0;
    result_batch batch;
    std::string error_text;
    std::uint64_t total_rows = 0, rows_affected = 0;
    bool broken = false;
    bool zstd = false;  // the server said it compresses
    zstd_unpacker inflate;
    std::size_t addr = 0;       // the address connected to
    std::vector<std::byte> query;  // the running query's QUERY_REQUEST, sent again by a failover
    bool answered = false;      // the running query has had a message back
    std::size_t attempts = 0;   // sends of the running query
    std::optional<clock::time_point> failing_since;
    std::uint64_t failovers = 0;

    // The QWP payload of a server frame: header checked, flags returned.
    static result<std::pair<std::uint8_t, std::span<const std::byte>>> unframe(std::span<const std::byte> f) {
        if (f.size() < header_size) return make_error_code(errc::truncated);
        if (std::memcmp(f.data(), magic, 4) != 0) return make_error_code(errc::bad_magic);
        if (std::to_integer<std::uint8_t>(f[4]) != version) return make_error_code(errc::bad_version);
        std::uint32_t len;
        std::memcpy(&len, f.data() + 8, 4);
        if (len != f.size() - header_size) return make_error_code(errc::bad_length);
        return std::pair(std::to_integer<std::uint8_t>(f[5]), f.subspan(header_size));
    }

    // Walks the addresses from `addr` to the first that upgrades, offers a
    // codec this side reads and plays the role the target asks for.
    task<result<void>> open(op_options o) {
        error last = make_error_code(errc::handshake_rejected);
        std::string offer = "raw";
        if (cfg.compression != compression::raw) {
            offer = "zstd;level=" + std::to_string(cfg.compression_level);
            if (cfg.compression == compression::auto_) offer += ",raw";
        }
        for (std::size_t i = 0; i < cfg.addrs.size(); ++i) {
            const std::size_t at = (addr + i) % cfg.addrs.size();
            const config::address& a = cfg.addrs[at];
            http::headers extra;
            extra.add("X-QWP-Accept-Encoding", offer);
            if (cfg.max_batch_rows) extra.add("X-QWP-Max-Batch-Rows", std::to_string(cfg.max_batch_rows));
            const std::string host = detail::host_header(a);
            auto w = co_await with_stream<upgraded>(cfg, a, o, [&](auto st) {
                return upgrade(cfg, std::move(st), host, std::move(extra), o);
            });
            if (!w) {
                last = w.error();
                if (last == errc::unauthorized || last == errc::bad_request) co_return last;
                continue;  // 421 and the rest: the next address
            }
            const auto enc = w->answer.headers.get("X-QWP-Content-Encoding");
            auto z = zstd_selected(enc ? *enc : std::string_view());
            if (!z) co_return z.error();
            if (*z && cfg.compression == compression::raw)
                co_return error(errc::bad_compression, "the server chose zstd, and the reader offered only raw");
            auto link = std::move(w->ws);
            // SERVER_INFO comes first.
            auto m = co_await link->receive(o);
            if (!m) {
                last = m.error();
                continue;
            }
            auto body = unframe(m->payload);
            if (!body) co_return body.error();
            auto si = egress::decode_server_info(body->second);
            if (!si) co_return si.error();
            // STANDALONE counts as a primary, so target=primary works with one node.
            const bool replica = si->role == egress::role_replica;
            const bool fits = cfg.target == target::any || (cfg.target == target::primary && !replica) ||
                              (cfg.target == target::replica && replica);
            if (!fits) {
                last = error(errc::role_mismatch, a.host + ":" + std::to_string(a.port) + " is a " +
                                                      std::string(egress::role_name(si->role)) + ", not the " +
                                                      (cfg.target == target::primary ? "primary" : "replica") +
                                                      " target asks for");
                continue;
            }
            ws = std::move(link);
            zstd = *z;
            info = std::move(*si);
            addr = at;
            dict.clear();  // a new connection starts a new dictionary
            broken = false;
            co_return result<void>{};
        }
        co_return last;
    }

    // The connection failed (ec) before the running query's first answer:
    // connect again, starting with the next address, and send the query
    // anew, within the failover budget. Returns ec when that is not allowed
    // or the budget is spent.
    task<result<void>> fail_over(error ec, op_options o) {
        if (!cfg.failover || answered || !is_disconnect(ec) || ec == std::errc::operation_canceled) co_return ec;
        if (!failing_since) failing_since = clock::now();
        for (;;) {
            if (attempts >= cfg.failover_max_attempts || clock::now() - *failing_since > cfg.failover_max_duration)
                co_return ec;
            ++attempts;  // 2 or more: the first send was execute's
            const auto pause =
                std::min(cfg.failover_backoff_max, cfg.failover_backoff_initial * (1 << std::min<std::size_t>(attempts - 2, 16)));
            if (pause.count() > 0) {
                auto slept = co_await sleep_for(pause, o.stop);
                if (!slept) co_return slept.error();
            }
            ws.reset();
            ++addr;
            ++failovers;
            auto r = co_await open(o);
            if (!r) {
                ec = r.error();
                if (ec == errc::unauthorized || ec == errc::bad_request) co_return ec;
                continue;
            }
            schema.clear();
            auto w = co_await send(query, o);
            if (w) co_return w;
            ec = w.error();
        }
    }

    task<result<void>> send(const std::vector<std::byte>& payload, op_options o) {
        auto w = co_await ws->send(std::span<const std::byte>(payload), o);
        if (!w) broken = true;
        co_return w;
    }
};

reader::reader(std::unique_ptr<impl> p) : p_(std::move(p)) {}
reader::reader(reader&&) noexcept = default;
reader& reader::operator=(reader&&) noexcept = default;
reader::~reader() = default;

task<result<reader>> reader::connect(std::string_view conf, op_options o) {
    auto c = config::parse(conf);
    if (!c) co_return c.error();
    auto p = std::make_unique<impl>();
    p->cfg = std::move(*c);
    auto r = co_await p->open(o);
    if (!r) co_return r.error();
    co_return reader(std::move(p));
}

task<result<void>> reader::execute(std::string_view sql, op_options o) {
    const binds none;
    co_return co_await execute(sql, none, o);
}

task<result<void>> reader::execute(std::string_view sql, const binds& b, op_options o) {
    auto& s = *p_;
    if (b.problem()) co_return *b.problem();
    if (b.size() > 1024) co_return error(errc::bad_length, std::to_string(b.size()) + " bind values, over QuestDB's 1024");
    // A timeout the server would not apply is refused, not dropped.
    if (s.cfg.query_timeout.count() > 0 && !(s.info.capabilities & egress::cap_query_timeout))
        co_return error(errc::bad_config, "query_timeout_ms: the server does not take a per-query timeout (no CAP_QUERY_TIMEOUT)");
    if (s.broken) co_return make_error_code(errc::must_close);
    if (s.running) co_return make_error_code(std::errc::operation_in_progress);
    if (sql.size() > (1u << 20)) co_return make_error_code(errc::bad_length);
    s.running = s.next_id++;
    s.schema.clear();
    s.error_text.clear();
    s.total_rows = s.rows_affected = 0;
    s.pending_credit = 0;
    s.answered = false;
    s.attempts = 1;
    s.failing_since.reset();
    s.query = egress::encode_query(s.running, sql, s.cfg.initial_credit, b.bytes(), b.size(),
                                   static_cast<std::uint64_t>(s.cfg.query_timeout.count()));
    auto w = co_await s.send(s.query, o);
    if (!w) {
        auto f = co_await s.fail_over(w.error(), o);
        if (!f) s.running = 0;
        co_return f;
    }
    co_return w;
}

task<result<const result_batch*>> reader::next(op_options o) {
    auto& s = *p_;
    if (!s.running) co_return static_cast<const result_batch*>(nullptr);
    // The batch handed out last time has been used: grant its bytes again.
    if (s.cfg.initial_credit && s.pending_credit) {
        const auto credit = egress::encode_credit(s.running, std::exchange(s.pending_credit, 0));
        auto w = co_await s.send(credit, o);
        if (!w) co_return w.error();
    }
    for (;;) {
        auto m = co_await s.ws->receive(o);
        if (!m) {
            auto f = co_await s.fail_over(m.error(), o);
            if (f) continue;
            s.broken = true;
            s.running = 0;
            co_return f.error();
        }
        auto framed = impl::unframe(m->payload);
        auto fail = [&](error ec) {
            s.broken = true;
            s.running = 0;
            return ec;
        };
        if (!framed) co_return fail(framed.error());
        const std::uint8_t flags = framed->first;
        std::span<const std::byte> in = framed->second;
        if (in.empty()) co_return fail(make_error_code(errc::truncated));
        const auto k = static_cast<egress::kind>(std::to_integer<std::uint8_t>(in[0]));
        in = in.subspan(1);
        if ((flags & flags::zstd) && k != egress::kind::result_batch)
            co_return fail(error(errc::bad_compression, "FLAG_ZSTD on a message that is not a RESULT_BATCH"));
        std::int64_t id = 0;
        if (k != egress::kind::cache_reset && k != egress::kind::server_info) {
            if (in.size() < 8) co_return fail(make_error_code(errc::truncated));
            std::memcpy(&id, in.data(), 8);
            in = in.subspan(8);
            if (id != s.running) co_return fail(make_error_code(errc::parse_error));
            s.answered = true;
        }
        switch (k) {
        case egress::kind::result_batch: {
            auto seq = get_varint(in);
            if (!seq) co_return fail(seq.error());
            if (flags & flags::zstd) {
                // Everything after batch_seq is one zstd frame.
                if (!s.zstd) co_return fail(error(errc::bad_compression, "a zstd batch on a connection that agreed on raw"));
                auto body = s.inflate.unpack(in);
                if (!body) co_return fail(body.error());
                in = *body;
            }
            if (flags & flags::delta_symbol_dict) {
                auto start = get_varint(in);
                auto count = start ? get_varint(in) : start;
                if (!start || !count) co_return fail(make_error_code(errc::truncated));
                if (*start != s.dict.size() || *count > in.size()) co_return fail(make_error_code(errc::dictionary_gap));
                for (std::uint64_t i = 0; i < *count; ++i) {
                    auto len = get_varint(in);
                    if (!len || *len > in.size()) co_return fail(make_error_code(errc::truncated));
                    s.dict.emplace_back(reinterpret_cast<const char*>(in.data()), static_cast<std::size_t>(*len));
                    in = in.subspan(static_cast<std::size_t>(*len));
                }
            }
            block_mode mode;
            mode.egress = true;
            mode.max_rows = egress::max_batch_rows;
            if (*seq > 0) {
                if (s.schema.empty()) co_return fail(make_error_code(errc::parse_error));
                mode.schema = &s.schema;
            }
            auto t = decode_block(in, flags, s.dict, mode);
            if (!t) co_return fail(t.error());
            if (!in.empty()) co_return fail(make_error_code(errc::trailing_bytes));
            if (*seq == 0) {
                s.schema.clear();
                for (const auto& c : t->columns) s.schema.emplace_back(c.name, c.type);
            }
            s.batch.request_id = id;
            s.batch.seq = *seq;
            s.batch.table = std::move(*t);
            s.pending_credit = m->payload.size();
            co_return &s.batch;
        }
        case egress::kind::result_end: {
            auto final_seq = get_varint(in);
            auto rows = final_seq ? get_varint(in) : final_seq;
            if (!rows) co_return fail(rows.error());
            s.total_rows = *rows;
            s.running = 0;
            co_return static_cast<const result_batch*>(nullptr);
        }
        case egress::kind::exec_done: {
            if (in.empty()) co_return fail(make_error_code(errc::truncated));
            in = in.subspan(1);
            auto rows = get_varint(in);
            if (!rows) co_return fail(rows.error());
            s.rows_affected = *rows;
            s.running = 0;
            co_return static_cast<const result_batch*>(nullptr);
        }
        case egress::kind::query_error: {
            if (in.size() < 3) co_return fail(make_error_code(errc::truncated));
            const auto st = static_cast<status>(std::to_integer<std::uint8_t>(in[0]));
            std::uint16_t len;
            std::memcpy(&len, in.data() + 1, 2);
            if (in.size() < 3u + len) co_return fail(make_error_code(errc::truncated));
            s.error_text.assign(reinterpret_cast<const char*>(in.data()) + 3, len);
            s.running = 0;
            const std::error_code ec = status_error(st);
            co_return error(ec ? ec : make_error_code(errc::unknown_status), s.error_text);
        }
        case egress::kind::cache_reset:
            if (!in.empty() && (std::to_integer<unsigned>(in[0]) & 1)) s.dict.clear();
            continue;
        case egress::kind::server_info:
            continue;
        default:
            co_return fail(make_error_code(errc::parse_error));
        }
    }
}

task<result<bool>> reader::next_arrow(ArrowSchema* schema, ArrowArray* array, op_options o) {
    auto b = co_await next(o);
    if (!b) co_return b.error();
    if (!*b) co_return false;
    auto e = export_arrow(std::move(p_->batch.table), schema, array);
    p_->batch.table = decoded_table{};
    if (!e) co_return e.error();
    co_return true;
}

task<result<void>> reader::cancel(op_options o) {
    auto& s = *p_;
    if (!s.running) co_return result<void>{};
    const auto c = egress::encode_cancel(s.running);
    auto w = co_await s.send(c, o);
    if (!w) co_return w;
    for (;;) {
        auto b = co_await next(o);
        if (!b) {
            // A cancelled query ends with QUERY_ERROR CANCELLED.
            if (!s.broken) co_return result<void>{};
            co_return b.error();
        }
        if (!*b) co_return result<void>{};
    }
}

const egress::server_info& reader::server() const noexcept { return p_->info; }
std::uint64_t reader::failovers() const noexcept { return p_->failovers; }
const std::string& reader::error_text() const noexcept { return p_->error_text; }
std::uint64_t reader::total_rows() const noexcept { return p_->total_rows; }
std::uint64_t reader::rows_affected() const noexcept { return p_->rows_affected; }

}  // namespace qwire::qwp
