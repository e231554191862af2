#include <qwire/proto/kdb/rt.hpp>

#include <qwire/core/log.hpp>
#include <qwire/proto/kdb/display.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace qwire::kdb::rt {

using namespace std::chrono;

namespace {

constexpr std::int64_t per_day = 100'000'000'000;

// As kdb-tick names its daily logs (and q prints a date): 2026.01.05.
std::string date_text(sys_days d) { return to_string(new_date(d)); }

std::string text_of(const k& x) {
    if (auto s = x.get_symbol()) return std::string(*s);
    if (auto s = x.get_string()) return std::string(*s);
    return {};
}

// n copies of a null atom's column: the time and sym an internal table needs.
k null_column(type_t t, std::size_t n) {
    if (t == qtype::symbol) return new_vector(qtype::symbol, n);
    std::vector<std::int64_t> nulls(n, null_long);
    return new_temporal_list(t, nulls);
}

// The rows of a message as a table: live pushes are tables already, log
// records hold the column list the feed sent.
result<k> as_table(const k& data, const k& schema) {
    if (data.is_table()) return data;
    if (data.type() != qtype::list || !schema.is_table()) return error(errc::not_a_tickerplant, "update is neither a table nor a column list");
    auto names = schema.column_names();
    if (!names) return names.error();
    return new_table(*names, data);
}

std::optional<timestamp_t> timestamp_at(const k& col, std::size_t row) {
    if (col.type() != qtype::timestamp) return std::nullopt;
    const auto v = col.get_long_list().value()[row];
    if (v == null_long) return std::nullopt;
    return from_kdb_timestamp(v);
}

struct day_log {
    std::string path;
    sys_days day;
};

// The log files of the days from `first` to today (inclusive) that exist,
// in date order: the files beside today's named as it is, with another date
// at the end (the tickerplant names its daily logs so). Today's is always
// in the list: it is being written.
std::vector<day_log> logs_between(const std::string& today_path, sys_days today, sys_days first) {
    std::vector<day_log> out;
    const std::string today_text = date_text(today);
    const bool dated = today_path.size() >= today_text.size() &&
                       today_path.compare(today_path.size() - today_text.size(), today_text.size(), today_text) == 0;
    if (dated) {
        const std::filesystem::path today_file(today_path);
        const std::string prefix = today_file.filename().string().substr(0, today_file.filename().string().size() - today_text.size());
        std::error_code ec;
        const auto dir = today_file.has_parent_path() ? today_file.parent_path() : std::filesystem::path(".");
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.size() != prefix.size() + today_text.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
            int y = 0;
            unsigned m = 0, d = 0;
            char dot1 = 0, dot2 = 0;
            if (std::sscanf(name.c_str() + prefix.size(), "%4d%c%2u%c%2u", &y, &dot1, &m, &dot2, &d) != 5 || dot1 != '.' || dot2 != '.')
                continue;
            const year_month_day ymd{year(y), month(m), day(d)};
            if (!ymd.ok() || sys_days(ymd) < first || sys_days(ymd) >= today) continue;
            out.push_back({entry.path().string(), sys_days(ymd)});
        }
        std::sort(out.begin(), out.end(), [](const day_log& a, const day_log& b) { return a.day < b.day; });
    }
    out.push_back({today_path, today});
    return out;
}

// Hands one message to the handlers.
void deliver(const handlers& h, const std::map<std::string, k>& schemas, const tick_message& m, std::int64_t pos) {
    if (m.function == ".u.end") {
        if (h.on_end_of_day) {
            const auto d = m.data.get_int();
            h.on_end_of_day(d ? from_kdb_date(*d) : position_day(pos), pos);
        }
        return;
    }
    const auto schema = schemas.find(m.table);
    auto t = as_table(m.data, schema == schemas.end() ? k() : schema->second);
    if (!t) return;
    if (m.table == partition_end_table) {
        if (!h.on_partition_end) return;
        const auto signal = t->column("signal"), end = t->column("endTS"), opts = t->column("opts"),
                   start = t->column("startTS");
        if (!end) return;
        for (std::size_t i = 0; i < t->count(); ++i) {
            partition_end e;
            if (signal && signal->type() == qtype::symbol) e.signal = std::string(signal->get_symbol_list().value()[i]);
            else e.signal = "eoi";  // the older sample's rows carry startTS instead of a signal
            e.end_ts = timestamp_at(*end, i).value_or(timestamp_t{});
            if (start) e.start_ts = timestamp_at(*start, i);
            if (opts)
                if (auto o = opts->item(i)) e.opts = *o;
            h.on_partition_end(e, pos);
        }
        return;
    }
    if (m.table == reload_table) {
        if (!h.on_reload) return;
        const auto mount = t->column("mount"), params = t->column("params"), assembly = t->column("asm");
        if (!mount || mount->type() != qtype::symbol) return;
        for (std::size_t i = 0; i < t->count(); ++i) {
            reload e;
            e.mount = std::string(mount->get_symbol_list().value()[i]);
            if (params)
                if (auto p = params->item(i)) e.params = *p;
            if (assembly && assembly->type() == qtype::symbol) e.assembly = std::string(assembly->get_symbol_list().value()[i]);
            h.on_reload(e, pos);
        }
        return;
    }
    if (!m.table.empty() && m.table.front() == '_') return;  // other internal tables: not ours to interpret
    if (h.on_update) h.on_update(m.table, *t, pos);
}

}  // namespace

struct subscription::state {
    connection c;
    std::map<std::string, k> schemas;
    std::vector<day_log> logs;  // still to replay, oldest first
    std::size_t log_index = 0;
    std::optional<tick_log_reader> reader;
    std::int64_t from = null_long;
    sys_days date;               // the live day
    std::int64_t live_from = 0;  // the live stream's first message number today
    std::int64_t next_live = 0;
    std::function<void(const std::string&, const tick_log_scan&)> on_bad_log;

    explicit state(connection conn) : c(std::move(conn)) {}

    // The next replayed message, or nothing once the logs are done.
    result<std::optional<message>> next_replayed() {
        while (log_index < logs.size()) {
            const auto& [file, d] = logs[log_index];
            if (!reader) {
                auto r = tick_log_reader::open(file);
                if (!r) return error(r.error().code(), "tick log " + file + ": " + r.error().message());
                reader = std::move(*r);
                const std::int64_t start = d == position_day(from) ? position_number(from) : 0;
                while (reader->records() < start && reader->next()) {
                }
            }
            const std::int64_t n = reader->records();
            const bool live_has_rest = d == date && n >= live_from;  // the live stream delivers the rest of today
            auto rec = live_has_rest ? std::nullopt : reader->next();
            if (rec) {
                if (auto m = parse_tick_message(*rec)) return std::optional<message>(message{std::move(*m), position(d, n)});
                continue;
            }
            const tick_log_scan scan = reader->scan();
            reader.reset();
            ++log_index;
            if (scan.bad_tail && !live_has_rest) {
                if (on_bad_log) on_bad_log(file, scan);
                else
                    log_line(log_level::warning, "rt: " + file + " has a bad tail after " + std::to_string(scan.valid_records) +
                                                     " records (" + std::to_string(scan.valid_bytes) + " bytes); the rest is skipped");
            }
            if (d != date) {
                tick_message end;
                end.function = ".u.end";
                end.data = new_date(d);
                return std::optional<message>(message{std::move(end), position(d, scan.valid_records)});
            }
        }
        return std::optional<message>();
    }
};

subscription::subscription(std::unique_ptr<state> s) : s_(std::move(s)) {}
subscription::subscription(subscription&&) noexcept = default;
subscription& subscription::operator=(subscription&&) noexcept = default;
subscription::~subscription() = default;

task<result<subscription>> subscription::open(connection c, std::int64_t from) {
    auto s = std::make_unique<state>(std::move(c));
    auto r = co_await s->c.query("(.u.sub[`;`];.u `i`L;.u.d)");
    if (!r) co_return r.error();
    if (r->type() != qtype::list || r->items().size() != 3)
        co_return error(errc::not_a_tickerplant, "(.u.sub[`;`];.u `i`L;.u.d) answered with the wrong shape");
    for (const k& pair : r->items()[0].items())
        if (pair.type() == qtype::list && pair.items().size() == 2) s->schemas[text_of(pair.items()[0])] = pair.items()[1];
    const k where = r->items()[1];
    if (where.type() != qtype::list || where.items().size() != 2)
        co_return error(errc::not_a_tickerplant, ".u `i`L is not (count; log)");
    const auto live_from = where.items()[0].get_long();
    const auto log = where.items()[1].get_symbol();
    const auto day = r->items()[2].get_int();
    if (!live_from || !log || !day) co_return error(errc::not_a_tickerplant, ".u.i, .u.L or .u.d of the wrong type");
    s->from = from;
    s->date = from_kdb_date(*day);
    s->live_from = s->next_live = *live_from;
    if (from != null_long && from < position(s->date, *live_from)) {
        std::string path(*log);
        if (!path.empty() && path.front() == ':') path.erase(0, 1);
        s->logs = logs_between(path, s->date, std::min(position_day(from), s->date));
    }
    co_return subscription(std::move(s));
}

task<result<subscription::message>> subscription::next(op_options o) {
    auto& s = *s_;
    auto replayed = s.next_replayed();
    if (!replayed) co_return replayed.error();
    if (*replayed) co_return std::move(**replayed);
    for (;;) {
        auto m = co_await s.c.receive(o);
        if (!m) co_return m.error();
        auto t = parse_tick_message(m->value);
        if (!t) continue;
        if (t->function == ".u.end") {
            message out{std::move(*t), position(s.date, s.next_live)};
            s.date += days(1);
            s.next_live = 0;
            co_return out;
        }
        co_return message{std::move(*t), position(s.date, s.next_live++)};
    }
}

const std::map<std::string, k>& subscription::schemas() const noexcept { return s_->schemas; }
std::int64_t subscription::live_position() const noexcept { return position(s_->date, s_->next_live); }
connection& subscription::conn() noexcept { return s_->c; }
void subscription::on_bad_log(std::function<void(const std::string&, const tick_log_scan&)> f) {
    s_->on_bad_log = std::move(f);
}

namespace {

task<result<void>> follow(connection c, std::int64_t from, const handlers& h,
                          const std::function<void(const tick_message&, std::int64_t)>& raw) {
    auto sub = co_await subscription::open(std::move(c), from);
    if (!sub) co_return sub.error();
    if (h.on_bad_log) sub->on_bad_log(h.on_bad_log);
    for (;;) {
        auto m = co_await sub->next();
        if (!m) co_return m.error();
        if (raw) raw(m->m, m->pos);
        else deliver(h, sub->schemas(), m->m, m->pos);
    }
}

}  // namespace

std::int64_t position(sys_days day, std::int64_t number) {
    const year_month_day ymd{day};
    const std::int64_t yyyymmdd = static_cast<int>(ymd.year()) * 10000 + static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
                                  static_cast<int>(static_cast<unsigned>(ymd.day()));
    return yyyymmdd * per_day + number;
}

sys_days position_day(std::int64_t pos) {
    const std::int64_t yyyymmdd = pos / per_day;
    return sys_days(year(static_cast<int>(yyyymmdd / 10000)) / month(static_cast<unsigned>(yyyymmdd / 100 % 100)) /
                    day(static_cast<unsigned>(yyyymmdd % 100)));
}

std::int64_t position_number(std::int64_t pos) { return pos % per_day; }

k internal_schema(std::string_view table) {
    std::vector<k> cols{new_vector(qtype::timespan, 0), new_vector(qtype::symbol, 0)};
    if (table == partition_end_table) {
        cols.push_back(new_vector(qtype::symbol, 0));
        cols.push_back(new_vector(qtype::timestamp, 0));
        cols.push_back(new_list());
        return new_table({"time", "sym", "signal", "endTS", "opts"}, std::move(cols)).value();
    }
    cols.push_back(new_vector(qtype::symbol, 0));
    cols.push_back(new_list());
    cols.push_back(new_vector(qtype::symbol, 0));
    return new_table({"time", "sym", "mount", "params", "asm"}, std::move(cols)).value();
}

result<void> add_internal_tables(tickerplant& tp) {
    if (auto r = tp.add_table(std::string(partition_end_table), internal_schema(partition_end_table)); !r) return r;
    return tp.add_table(std::string(reload_table), internal_schema(reload_table));
}

k partition_end_row(std::string_view signal, timestamp_t end_ts, k opts) {
    const std::int64_t end = to_kdb_timestamp(end_ts);
    return new_table({"signal", "endTS", "opts"},
                     {new_symbol_list({signal}), new_temporal_list(qtype::timestamp, std::span(&end, 1)), new_list({std::move(opts)})})
        .value();
}

k reload_row(std::string_view mount, k params, std::string_view assembly) {
    return new_table({"mount", "params", "asm"},
                     {new_symbol_list({mount}), new_list({std::move(params)}), new_symbol_list({assembly})})
        .value();
}

task<result<void>> publisher::push(std::string_view table, k data) {
    std::vector<k> cols;
    if (data.is_table()) {
        auto c = data.columns();
        if (!c) co_return c.error();
        cols.assign(c->items().begin(), c->items().end());
    } else if (data.is_dict()) {
        // One row: enlist each value.
        auto values = data.values();
        if (!values) co_return values.error();
        for (std::size_t i = 0; i < values->count(); ++i) {
            auto v = values->item(i);
            if (!v) co_return v.error();
            k one = enlist(*v);
            cols.push_back(std::move(one));
        }
    } else if (data.type() == qtype::list) {
        cols.assign(data.items().begin(), data.items().end());
    } else {
        co_return error(errc::type_mismatch, "rt::publisher::push(" + std::string(table) + "): data is not a table, dictionary or column list");
    }
    if (!table.empty() && table.front() == '_') {
        const std::size_t n = cols.empty() ? 0 : cols.front().count();
        cols.insert(cols.begin(), {null_column(qtype::timespan, n), null_column(qtype::symbol, n)});
    }
    co_return co_await c_.send_async(new_list_of(new_symbol(".u.upd"), new_symbol(table), new_list(std::move(cols))));
}

task<result<std::int64_t>> publisher::sync() {
    auto i = co_await c_.query(".u.i");
    if (!i) co_return i.error();
    auto d = co_await c_.query(".u.d");
    if (!d) co_return d.error();
    const auto n = i->get_long();
    const auto day = d->get_int();
    if (!n || !day) co_return error(errc::not_a_tickerplant, ".u.i or .u.d of the wrong type");
    co_return position(from_kdb_date(*day), *n);
}

task<result<void>> subscribe(connection c, std::int64_t from, handlers h) {
    co_return co_await follow(std::move(c), from, h, {});
}

task<result<void>> subscribe(connection c, std::int64_t from, std::function<void(const tick_message&, std::int64_t)> fn) {
    co_return co_await follow(std::move(c), from, handlers{}, fn);
}

}  // namespace qwire::kdb::rt
