// rdb --tp HOST:PORT --sm HOST:PORT [--from POSITION] [--port N] [--mount NAME] [--callback NAME]
//
// An RDB-like kdb Insights Data Access process in C++: it registers its
// stream mount with the Storage Manager (q IPC), follows the stream
// through the RT interface from a position, keeps the rows in memory (a
// new bucket on each _prtnEnd), drops the rows a reload signal says are on
// disk now (before its minTS), and answers q clients on --port:
//
//   count trade                          select from trade where sym=`IBM
//   select from trade                    tables[]
//   .rdb.pos      the last stream position processed (null before any)
//   .rdb.wait P   answers .rdb.pos once position P has been processed
//
// Without --from it starts where SM's last reload signal for the mount
// says the rows it should hold begin (its pos), or at the start of the
// tickerplant's day. The rows it holds follow from the stream alone (the
// stream carries the _reload rows too), so restarted from any earlier
// position it ends with exactly the rows it had.
#include "kdb_cli.hpp"

#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/rt.hpp>
#include <qwire/proto/sm/client.hpp>

#include <cstdio>
#include <limits>
#include <map>

using namespace qwire;
using kdb::k;

namespace {

// The rows of one update, with each row's time as a timestamp.
struct chunk {
    k rows;
    std::vector<std::int64_t> stamps;  // kdb+ timestamps; null: the row has no time and is never purged
    int bucket = 0;
};

class store {
public:
    void add(const std::string& table, const k& rows, std::int64_t pos) {
        chunk c{rows, {}, bucket_};
        const auto day = kdb::to_kdb_timestamp(kdb::timestamp_t(kdb::rt::position_day(pos)));
        const auto time = rows.column("time");
        for (std::size_t i = 0; i < rows.count(); ++i) {
            std::int64_t t = kdb::null_long;
            if (time && time->type() == kdb::qtype::timespan) t = day + time->get_long_list().value()[i];
            else if (time && time->type() == kdb::qtype::timestamp) t = time->get_long_list().value()[i];
            c.stamps.push_back(t);
        }
        if (!empty_.contains(table)) empty_[table] = kdb::take(rows, {}).value();
        tables_[table].push_back(std::move(c));
    }
    void new_bucket() { ++bucket_; }
    int bucket() const { return bucket_; }
    // Drops the rows before min; how many.
    std::size_t purge(kdb::timestamp_t min) {
        const std::int64_t m = kdb::to_kdb_timestamp(min);
        std::size_t dropped = 0;
        for (auto& [name, chunks] : tables_) {
            std::vector<chunk> kept;
            for (auto& c : chunks) {
                std::vector<std::size_t> keep;
                for (std::size_t i = 0; i < c.stamps.size(); ++i)
                    if (c.stamps[i] == kdb::null_long || c.stamps[i] >= m) keep.push_back(i);
                dropped += c.stamps.size() - keep.size();
                if (keep.empty()) continue;
                if (keep.size() < c.stamps.size()) {
                    std::vector<std::int64_t> stamps;
                    for (auto i : keep) stamps.push_back(c.stamps[i]);
                    c = chunk{kdb::take(c.rows, keep).value(), std::move(stamps), c.bucket};
                }
                kept.push_back(std::move(c));
            }
            chunks = std::move(kept);
        }
        return dropped;
    }
    std::size_t count(const std::string& table) const {
        std::size_t n = 0;
        if (auto t = tables_.find(table); t != tables_.end())
            for (const auto& c : t->second) n += c.rows.count();
        return n;
    }
    std::size_t total() const {
        std::size_t n = 0;
        for (const auto& [name, chunks] : tables_) n += count(name);
        return n;
    }
    bool has(const std::string& table) const { return empty_.contains(table); }
    // The table's rows, those whose sym is `sym` when it is not empty.
    result<k> select(const std::string& table, const std::string& sym) const {
        const auto e = empty_.find(table);
        if (e == empty_.end()) return kdb::remote_error(table);
        k out = e->second;
        for (const auto& c : tables_.at(table)) {
            k part = c.rows;
            if (!sym.empty()) {
                auto syms = c.rows.column("sym");
                if (!syms || syms->type() != kdb::qtype::symbol) return kdb::remote_error("sym");
                std::vector<std::size_t> keep;
                const auto names = syms->get_symbol_list().value();
                for (std::size_t i = 0; i < names.size(); ++i)
                    if (names[i] == sym) keep.push_back(i);
                part = kdb::take(c.rows, keep).value();
            }
            auto joined = kdb::join(out, part);
            if (!joined) return joined.error();
            out = std::move(*joined);
        }
        return out;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, e] : empty_) out.push_back(name);
        return out;
    }

private:
    std::map<std::string, std::vector<chunk>> tables_;
    std::map<std::string, k> empty_;  // each table's columns, no rows
    int bucket_ = 0;
};

struct rdb {
    store rows;
    std::string mount;
    std::int64_t pos = kdb::null_long;  // the last position processed
    std::vector<std::pair<std::int64_t, kdb::deferred_response>> waiting;  // .rdb.wait

    void processed(std::int64_t p) {
        pos = p;
        // Taken out first: replying suspends, and .rdb.wait may add waiters meanwhile.
        std::vector<kdb::deferred_response> ready;
        std::erase_if(waiting, [&](auto& w) {
            if (w.first > pos) return false;
            ready.push_back(std::move(w.second));
            return true;
        });
        for (auto& d : ready) reactor::current()->spawn([](kdb::deferred_response d, std::int64_t p) -> task<void> {
            (void)co_await d.reply(kdb::new_long(p));
        }(std::move(d), pos));
    }
    void reload(const sm::reload_signal& s, const char* via) {
        const auto dropped = rows.purge(s.min_ts());
        std::printf("rdb: reload of %s (%s): dropped %zu rows before %s, %zu held\n", mount.c_str(), via, dropped,
                    sm::timestamp_text(s.min_ts()).c_str(), rows.total());
        std::fflush(stdout);
    }
};

std::string trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == ';')) s.remove_suffix(1);
    return std::string(s);
}

const char* usage_error =
    "nyi: this RDB answers count T, select from T [where sym=`S], tables[], .rdb.pos, .rdb.wait P";

task<result<k>> answer(rdb& db, kdb::peer& p, k request) {
    auto text = request.get_string();
    if (!text) co_return kdb::remote_error(usage_error);
    const std::string q = trim(*text);
    if (q == ".rdb.pos") co_return kdb::new_long(db.pos);
    if (q == "tables[]" || q == "tables`.") co_return kdb::new_symbol_list(db.rows.names());
    if (q.starts_with(".rdb.wait ")) {
        std::int64_t want = 0;
        const std::string arg = trim(q.substr(10));
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), want);
        if (ec != std::errc() || end != arg.data() + arg.size()) co_return kdb::remote_error("type: .rdb.wait takes a position");
        if (db.pos != kdb::null_long && db.pos >= want) co_return kdb::new_long(db.pos);
        db.waiting.emplace_back(want, p.defer());
        co_return kdb::new_null();
    }
    if (q.starts_with("count ")) {
        const std::string t = trim(q.substr(6));
        if (!db.rows.has(t)) co_return kdb::remote_error(t);
        co_return kdb::new_long(static_cast<std::int64_t>(db.rows.count(t)));
    }
    if (q.starts_with("select from ")) {
        std::string rest = trim(q.substr(12));
        std::string sym;
        if (const auto w = rest.find(" where "); w != std::string::npos) {
            const std::string cond = trim(rest.substr(w + 7));
            if (!cond.starts_with("sym=`")) co_return kdb::remote_error(usage_error);
            sym = cond.substr(5);
            rest = trim(rest.substr(0, w));
        }
        co_return db.rows.select(rest, sym);
    }
    co_return kdb::remote_error(usage_error);
}

task<int> follow(rdb& db, kdb::connection tp, std::int64_t from) {
    kdb::rt::handlers h;
    h.on_update = [&](const std::string& table, const k& rows, std::int64_t pos) {
        db.rows.add(table, rows, pos);
        db.processed(pos);
    };
    h.on_partition_end = [&](const kdb::rt::partition_end& e, std::int64_t pos) {
        db.rows.new_bucket();
        std::printf("rdb: _prtnEnd %s at %lld: bucket %d begins, %zu rows held\n", e.signal.c_str(), static_cast<long long>(pos),
                    db.rows.bucket(), db.rows.total());
        std::fflush(stdout);
        db.processed(pos);
    };
    h.on_reload = [&](const kdb::rt::reload& e, std::int64_t pos) {
        if (e.mount == db.mount)
            if (auto s = sm::signal_from_k(e.params)) db.reload(*s, "_reload on the stream");
        db.processed(pos);
    };
    h.on_end_of_day = [&](std::chrono::sys_days, std::int64_t pos) { db.processed(pos); };
    h.on_bad_log = [](const std::string& path, const kdb::tick_log_scan& scan) {
        std::fprintf(stderr, "rdb: %s has a bad tail after %lld records; replaying what is before it\n", path.c_str(),
                     static_cast<long long>(scan.valid_records));
    };
    auto r = co_await kdb::rt::subscribe(std::move(tp), from, std::move(h));
    std::fprintf(stderr, "rdb: the stream ended: %s\n", r ? "closed" : r.error().message().c_str());
    std::exit(1);
    co_return 1;
}

task<void> serve_sm(sm::client& c) {
    auto r = co_await c.run();
    std::fprintf(stderr, "rdb: the connection to SM ended: %s\n", r ? "closed" : r.error().message().c_str());
    std::exit(1);
}

task<int> run(rdb& db, kdb::address tp_at, kdb::address sm_at, std::optional<std::int64_t> from, std::string callback,
              kdb::server& srv, acceptor& a) {
    auto sm_conn = co_await kdb::connect(sm_at);
    if (!sm_conn) {
        std::fprintf(stderr, "rdb: cannot connect to SM at %s (--sm): %s\n", sm_at.to_string().c_str(),
                     sm_conn.error().message().c_str());
        co_return 1;
    }
    sm::client smc(std::move(*sm_conn));
    auto last = co_await smc.register_mount(db.mount, {}, callback, [&db](const std::string&, const sm::reload_signal& s) -> task<result<void>> {
        db.reload(s, "SM's callback");
        co_return result<void>{};
    });
    if (!last) {
        std::fprintf(stderr, "rdb: registering mount %s with SM (--mount): %s\n", db.mount.c_str(), last.error().message().c_str());
        co_return 1;
    }
    auto tp = co_await kdb::connect(tp_at);
    if (!tp) {
        std::fprintf(stderr, "rdb: cannot connect to the tickerplant at %s (--tp): %s\n", tp_at.to_string().c_str(),
                     tp.error().message().c_str());
        co_return 1;
    }
    std::int64_t start = 0;
    if (from) {
        start = *from;
    } else if (last->stream() && last->stream()->pos != kdb::null_long) {
        start = last->stream()->pos;
    } else {
        auto d = co_await tp->query(".u.d");
        if (!d || !d->get_int()) {
            std::fprintf(stderr, "rdb: the tickerplant did not answer .u.d\n");
            co_return 1;
        }
        start = kdb::rt::position(kdb::from_kdb_date(*d->get_int()), 0);
    }
    std::printf("rdb: mount %s registered with SM at %s:%u; following the stream from %lld; q clients on 127.0.0.1:%u\n",
                db.mount.c_str(), sm_at.host.c_str(), sm_at.port, static_cast<long long>(start), a.local_endpoint().port());
    std::fflush(stdout);
    co_await when_all(follow(db, std::move(*tp), start), serve_sm(smc), srv.serve(a));
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("An RDB-like kdb Insights Data Access process: SM registration, RT stream, q queries.", "rdb");
    std::string callback = ".da.reload";
    std::optional<std::int64_t> from;
    std::uint16_t port = 5011;
    rdb db;
    db.mount = "rdb";
    kdb::address tp, sm_at;
    examples::add_address(app, "--tp", tp, "the stream: a tickerplant started with --rt; " + std::string(examples::address_help))
        ->required();
    examples::add_address(app, "--sm", sm_at, "the Storage Manager, q IPC; " + std::string(examples::address_help))->required();
    app.add_option("--from", from, "the first stream position to process (default: where SM's last reload signal says)")
        ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
    examples::add_port_option(app, port, "TCP port on 127.0.0.1 for q clients");
    app.add_option("--mount", db.mount, "the stream mount to register")->capture_default_str();
    app.add_option("--callback", callback, "the q name SM calls with reload signals")->capture_default_str();
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    reactor r;
    kdb::server srv;
    srv.on_sync([&db](kdb::peer& p, k x) { return answer(db, p, std::move(x)); });
    auto a = examples::listen_tcp_waiting(port);
    if (!a) {
        std::fprintf(stderr, "rdb: cannot listen on port %u (--port): %s\n", port, a.error().message().c_str());
        return 1;
    }
    return r.block_on(run(db, tp, sm_at, from, callback, srv, *a));
}
