#include <qwire/proto/bridge/bridge.hpp>

#include <qwire/core/log.hpp>
#include <qwire/proto/kdb/address.hpp>
#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/sender.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace qwire::bridge {

namespace {

using kdb::k;
using std::chrono::nanoseconds;
constexpr std::string_view state_magic = "qwire-bridge-state 1";

// The state file: one line, "qwire-bridge-state 1 <next position>".
result<std::int64_t> read_state(const std::string& path) {
    std::ifstream in(path);
    if (!in) return kdb::null_long;  // no state yet
    std::string line;
    std::getline(in, line);
    std::int64_t next = 0;
    std::istringstream words(line.size() > state_magic.size() ? line.substr(state_magic.size()) : std::string());
    if (line.compare(0, state_magic.size(), state_magic) != 0 || !(words >> next) || next < 0)
        return error(errc::bad_state, "state file " + path + ": not a bridge state (\"" + line.substr(0, 60) + "\")");
    return next;
}

// Written whole or not at all: a new file, synced, renamed over the old.
result<void> write_state(const std::string& path, std::int64_t next) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return error(errno_code(errno), "state file " + tmp);
    const std::string text = std::string(state_magic) + " " + std::to_string(next) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) return error(errno_code(saved), "state file " + tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return error(errno_code(errno), "state file " + path);
    return {};
}

// The target's record: the newest next_position of this bridge, or null.
task<result<std::int64_t>> read_target(const std::string& conf, const options& opt) {
    if (opt.progress_table.empty()) co_return kdb::null_long;
    auto rd = co_await qwp::reader::connect(conf);
    if (!rd) co_return rd.error();
    std::string id;
    for (char c : opt.bridge_id) id += c == '\'' ? std::string("''") : std::string(1, c);
    auto e = co_await rd->execute("SELECT max(next_position) FROM " + opt.progress_table + " WHERE bridge = '" + id + "'");
    if (!e) co_return e.error();
    std::int64_t out = kdb::null_long;
    for (;;) {
        auto b = co_await rd->next();
        if (!b) {
            if (rd->error_text().find("does not exist") != std::string::npos) co_return kdb::null_long;
            co_return error(b.error(), "reading " + opt.progress_table + ": " + rd->error_text());
        }
        if (!*b) break;
        const qwp::decoded_column* c = (*b)->column(0);
        if (c && c->rows > 0 && !c->is_null(0) && c->type == qwp::type::long_) out = c->get<std::int64_t>(0);
    }
    co_return out;
}

// A tickerplant update's rows as a table (the logs hold column lists).
result<k> as_table(const k& data, const std::map<std::string, k>& schemas, const std::string& table) {
    if (data.is_table()) return data;
    const auto s = schemas.find(table);
    if (data.type() != kdb::qtype::list || s == schemas.end())
        return error(errc::unmappable, "table " + table + ": an update that is neither a table nor a column list");
    auto names = s->second.column_names();
    if (!names) return names.error();
    return kdb::new_table(*names, data);
}

struct runner {
    options opt;
    qwp::sender& out;
    std::function<void(const status&)> progress;
    status st;
    std::map<std::string, table_batch, std::less<>> batches;
    std::map<std::string, clock::time_point, std::less<>> first_row;  // when each batch's oldest row arrived
    std::set<std::string, std::less<>> wanted;
    std::set<std::string, std::less<>> syms;
    std::int64_t next = kdb::null_long;      // the first position not yet read
    std::int64_t committed = kdb::null_long; // the first position not yet committed
    clock::time_point last_commit = clock::now();
    std::uint64_t frames_at_commit = 0, bytes_at_commit = 0;

    runner(options o, qwp::sender& s, std::function<void(const status&)> p)
        : opt(std::move(o)), out(s), progress(std::move(p)) {
        wanted.insert(opt.tables.begin(), opt.tables.end());
        syms.insert(opt.syms.begin(), opt.syms.end());
    }

    table_batch& batch_for(const std::string& table) {
        auto it = batches.find(table);
        if (it != batches.end()) return it->second;
        const auto ts = opt.timestamps.find(table);
        return batches.emplace(table, table_batch(table, ts == opt.timestamps.end() ? timestamp_source{} : ts->second)).first->second;
    }

    // The rows of t whose sym is wanted (all of them when no syms were given).
    result<k> filter(const k& t) const {
        if (syms.empty()) return t;
        auto col = t.column("sym");
        if (!col || col->type() != kdb::qtype::symbol) return t;
        std::vector<std::size_t> keep;
        const auto names = col->get_symbol_list().value();
        for (std::size_t i = 0; i < names.size(); ++i)
            if (syms.count(names[i])) keep.push_back(i);
        if (keep.size() == names.size()) return t;
        return kdb::take(t, keep);
    }

    task<result<void>> send(table_batch& b) {
        if (b.empty()) co_return result<void>{};
        auto c = b.chunk();
        if (!c) co_return c.error();
        auto f = co_await out.flush(*c);
        if (!f) co_return f;
        st.rows += b.rows();
        b.clear();
        first_row.erase(b.table());
        co_return result<void>{};
    }

    bool uncommitted() const { return next != committed && next != kdb::null_long; }

    // Sends every batch, the progress row, and commits: everything before
    // `next` is then in the target.
    task<result<void>> commit() {
        if (!uncommitted()) co_return result<void>{};
        for (auto& [name, b] : batches) {
            auto s = co_await send(b);
            if (!s) co_return s;
        }
        if (!opt.progress_table.empty()) {
            qwp::chunk c(opt.progress_table, 1);
            const std::string_view id = opt.bridge_id;
            static constexpr std::int32_t code = 0;
            const std::int64_t now = std::chrono::duration_cast<nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
            c.symbol("bridge", std::span(&code, 1), std::span(&id, 1));
            c.column("next_position", std::span(&next, 1));
            c.designated(std::span(&now, 1));
            auto f = co_await out.flush(c);
            if (!f) co_return f;
        }
        const auto t0 = clock::now();
        auto y = co_await out.sync();
        if (!y) co_return y;
        st.last_commit_latency = clock::now() - t0;
        committed = next;
        if (!opt.state_file.empty())
            if (auto w = write_state(opt.state_file, committed); !w) co_return w;
        last_commit = clock::now();
        frames_at_commit = out.counters().frames;
        bytes_at_commit = out.counters().bytes;
        ++st.commits;
        st.committed_pos = st.read_pos;  // everything read so far (next - 1 is no position after a .u.end)
        st.frames = out.counters().frames;
        st.in_flight = out.in_flight();
        if (progress) progress(st);
        co_return result<void>{};
    }

    // Commits when the window would otherwise fill with uncommitted frames
    // (the sender would commit on its own, without the progress row).
    bool window_half_full() const {
        const auto& cfg = out.conf();
        return out.counters().frames - frames_at_commit >= std::max<std::size_t>(cfg.in_flight_window / 2, 1) ||
               out.counters().bytes - bytes_at_commit >= cfg.max_in_flight_bytes / 2;
    }

    // What is due: batches past their size or age, then a commit.
    task<result<void>> maintain() {
        const auto now = clock::now();
        for (auto& [name, b] : batches) {
            if (b.empty()) continue;
            const auto first = first_row.find(name);
            if (b.rows() >= opt.batch_rows || b.bytes() >= opt.batch_bytes ||
                (first != first_row.end() && now - first->second >= opt.batch_time)) {
                auto s = co_await send(b);
                if (!s) co_return s;
                if (window_half_full()) {
                    auto c = co_await commit();
                    if (!c) co_return c;
                }
            }
        }
        if (uncommitted() && clock::now() - last_commit >= opt.commit_time) co_return co_await commit();
        co_return result<void>{};
    }

    // When the next batch or commit is due, if anything waits.
    std::optional<clock::time_point> deadline() const {
        std::optional<clock::time_point> d;
        for (const auto& [name, t] : first_row) d = std::min(d.value_or(t + opt.batch_time), t + opt.batch_time);
        if (uncommitted()) d = std::min(d.value_or(last_commit + opt.commit_time), last_commit + opt.commit_time);
        return d;
    }

    result<void> take(const kdb::rt::subscription& sub, const kdb::rt::subscription::message& m) {
        if (m.m.function != "upd" || m.m.table.empty() || m.m.table.front() == '_') return {};
        if (!wanted.empty() && !wanted.count(m.m.table)) return {};
        auto t = as_table(m.m.data, sub.schemas(), m.m.table);
        if (!t) return t.error();
        auto rows = filter(*t);
        if (!rows) return rows.error();
        if (rows->count() == 0) return {};
        table_batch& b = batch_for(m.m.table);
        const bool was_empty = b.empty();
        if (auto a = b.append(*rows, kdb::rt::position_day(m.pos)); !a) return a;
        if (was_empty) first_row[m.m.table] = clock::now();
        // The lag: now minus the newest row's designated timestamp.
        if (const auto newest = b.newest_timestamp())
            st.lag = std::chrono::system_clock::now().time_since_epoch() - nanoseconds(*newest);
        return {};
    }

    task<result<void>> follow(kdb::rt::subscription& sub, op_options o) {
        for (;;) {
            op_options wait = o;
            if (auto d = deadline()) wait.deadline = wait.deadline ? std::min(*wait.deadline, *d) : *d;
            auto m = co_await sub.next(wait);
            if (!m) {
                if (m.error() == std::errc::timed_out && !(o.deadline && clock::now() >= *o.deadline)) {
                    auto r = co_await maintain();
                    if (!r) co_return r;
                    continue;
                }
                // The tickerplant is gone (or we were stopped): keep what was read.
                auto c = co_await commit();
                if (!c) co_return c;
                co_return m.error();
            }
            if (auto t = take(sub, *m); !t) {
                // Stop at the message that cannot be mapped; everything before it is committed.
                auto c = co_await commit();
                if (!c) co_return c;
                co_return error(t.error().code(), std::string(t.error().detail()) + " (at position " + std::to_string(m->pos) + ")");
            }
            ++st.messages;
            st.read_pos = m->pos;
            st.live_pos = sub.live_position();
            if (m->m.function == ".u.end") {
                // The day is over: its rows are committed, and the next message is the next day's first.
                next = kdb::rt::position(kdb::rt::position_day(m->pos) + std::chrono::days(1), 0);
                auto c = co_await commit();
                if (!c) co_return c;
                continue;
            }
            next = m->pos + 1;
            auto r = co_await maintain();
            if (!r) co_return r;
        }
    }
};

}  // namespace

task<result<std::int64_t>> resume_position(std::string target, const options& opt) {
    std::int64_t from = kdb::null_long;
    if (!opt.state_file.empty()) {
        auto s = read_state(opt.state_file);
        if (!s) co_return s.error();
        from = *s;
    }
    auto t = co_await read_target(target, opt);
    if (!t) {
        log_line(log_level::warning, "bridge: the target's progress table cannot be read (" + t.error().message() +
                                         (t.error().detail().empty() ? std::string() : ": " + std::string(t.error().detail())) +
                                         "); resuming from the state file");
    } else if (*t != kdb::null_long && (from == kdb::null_long || *t > from)) {
        from = *t;
    }
    co_return from;
}

task<result<void>> run(std::string tickerplant, std::string target, options opt,
                       std::function<void(const status&)> progress, op_options o) {
    auto cfg = qwp::config::parse(target);
    if (!cfg) co_return cfg.error();
    // Every commit must carry the progress row: no commit the bridge did not ask for.
    cfg->first_frame_commits = false;
    auto from = co_await resume_position(target, opt);
    if (!from) co_return from.error();
    if (*from == kdb::null_long) *from = opt.from;

    auto addr = kdb::parse_address(tickerplant);
    if (!addr) co_return addr.error();
    kdb::connection_options co;
    co.max_inbox = opt.max_inbox;
    auto tp = co_await kdb::connect(*addr, co);
    if (!tp) co_return tp.error();
    auto sub = co_await kdb::rt::subscription::open(std::move(*tp), *from);
    if (!sub) co_return sub.error();
    auto out = co_await qwp::sender::connect(std::move(*cfg), o);
    if (!out) co_return out.error();

    runner r(std::move(opt), *out, std::move(progress));
    r.st.resumed_from = *from == kdb::null_long ? sub->live_position() : *from;
    r.committed = r.next = r.st.resumed_from;
    // A first run starting live records where it started, so that a restart
    // before the first commit replays from there instead of skipping ahead.
    if (!r.opt.state_file.empty() && *from == kdb::null_long)
        if (auto w = write_state(r.opt.state_file, r.committed); !w) co_return w;
    if (r.progress) r.progress(r.st);
    co_return co_await r.follow(*sub, o);
}

}  // namespace qwire::bridge
