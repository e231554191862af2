#include <qwire/proto/sm/signal.hpp>

#include <simdjson.h>

#include <charconv>
#include <cstdio>

namespace qwire::sm {

using namespace std::chrono;
using kdb::k;
namespace qtype = kdb::qtype;

namespace {

const timestamp_t null_ts = kdb::from_kdb_timestamp(kdb::null_long);

error bad(std::string_view what) { return error(errc::bad_signal, what); }

// ---- text forms ----

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// "HH:MM:SS[.f{1,9}]" at s[at..]: nanoseconds of the day, or -1.
std::int64_t time_of_day(std::string_view s, std::size_t at) {
    int h = 0, m = 0, sec = 0;
    if (!digits(s, at, 2, h) || at + 2 >= s.size() || s[at + 2] != ':' || !digits(s, at + 3, 2, m) || at + 5 >= s.size() ||
        s[at + 5] != ':' || !digits(s, at + 6, 2, sec) || h > 23 || m > 59 || sec > 59)
        return -1;
    std::int64_t ns = ((std::int64_t{h} * 60 + m) * 60 + sec) * 1'000'000'000;
    std::size_t i = at + 8;
    if (i < s.size() && s[i] == '.') {
        std::int64_t frac = 0, scale = 1'000'000'000;
        std::size_t n = 0;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
            if (n == 9) return -1;
            frac = frac * 10 + (s[i] - '0');
            scale /= 10;
        }
        if (n == 0) return -1;
        ns += frac * scale;
    }
    if (i < s.size() && s[i] == 'Z') ++i;
    return i == s.size() ? ns : -1;
}

// ---- the dictionary ----

const std::string_view stream_keys[] = {"ts", "minTS", "startTS", "endTS", "pos"};
const std::string_view disk_keys[] = {"ts", "minTS", "maxTS"};

k build_raw(const reload_signal& s) {
    std::vector<std::string_view> keys;
    std::vector<k> values;
    auto stamp = [&](std::string_view key, timestamp_t t) {
        keys.push_back(key);
        values.push_back(kdb::new_timestamp(t));
    };
    if (auto* st = s.stream()) {
        stamp("ts", st->ts);
        stamp("minTS", st->min_ts);
        stamp("startTS", st->start_ts);
        stamp("endTS", st->end_ts);
        keys.push_back("pos");
        values.push_back(kdb::new_long(st->pos));
    } else {
        const auto& d = *s.disk();
        stamp("ts", d.ts);
        stamp("minTS", d.min_ts);
        stamp("maxTS", d.max_ts);
    }
    if (s.timeout) {
        keys.push_back("timeout");
        values.push_back(kdb::new_timespan(*s.timeout));
    }
    // As q holds `a`b!(x;y) of one atom type: a vector.
    bool all_stamps = true;
    for (const k& v : values) all_stamps = all_stamps && v.type() == -qtype::timestamp;
    k vals;
    if (all_stamps) {
        std::vector<std::int64_t> raw;
        for (const k& v : values) raw.push_back(v.get_long().value());
        vals = kdb::new_temporal_list(qtype::timestamp, raw);
    } else {
        vals = kdb::new_list(std::move(values));
    }
    return kdb::new_dict(kdb::new_symbol_list(std::span<const std::string_view>(keys)), std::move(vals)).value();
}

// A dictionary's value under `key`, if it has one.
std::optional<k> lookup(const k& dict, std::string_view key) {
    auto keys = dict.keys();
    auto values = dict.values();
    if (!keys || !values) return std::nullopt;
    auto names = keys->get_symbol_list();
    if (!names) return std::nullopt;
    for (std::size_t i = 0; i < names->size(); ++i)
        if ((*names)[i] == key)
            if (auto v = values->item(i)) return *v;
    return std::nullopt;
}

result<timestamp_t> stamp_of(const k& dict, std::string_view key) {
    auto v = lookup(dict, key);
    if (!v) return bad("no " + std::string(key));
    if (v->type() != -qtype::timestamp) return bad(std::string(key) + " is not a timestamp (type " + std::to_string(v->type()) + ")");
    return kdb::from_kdb_timestamp(v->get_long().value());
}

// ---- JSON ----

result<timestamp_t> json_stamp(simdjson::dom::object o, std::string_view key) {
    simdjson::dom::element e;
    if (o[key].get(e)) return bad("no " + std::string(key));
    if (e.is_null()) return null_ts;
    std::string_view text;
    if (e.get(text)) return bad(std::string(key) + " is not a string");
    auto t = parse_timestamp(text);
    if (!t) return bad(std::string(key) + ": " + std::string(t.error().detail()));
    return *t;
}

result<std::optional<nanoseconds>> json_timeout(simdjson::dom::object o) {
    simdjson::dom::element e;
    if (o["timeout"].get(e) || e.is_null()) return std::optional<nanoseconds>{};
    std::int64_t ns = 0;
    if (!e.get(ns)) return std::optional<nanoseconds>(nanoseconds(ns));
    std::string_view text;
    if (e.get(text)) return bad("timeout is neither a timespan string nor nanoseconds");
    auto d = parse_timespan(text);
    if (!d) return bad("timeout: " + std::string(d.error().detail()));
    return std::optional<nanoseconds>(*d);
}

result<reload_signal> from_object(simdjson::dom::object o) {
    auto timeout = json_timeout(o);
    if (!timeout) return timeout.error();
    auto ts = json_stamp(o, "ts");
    if (!ts) return ts.error();
    auto min = json_stamp(o, "minTS");
    if (!min) return min.error();
    simdjson::dom::element e;
    if (!o["maxTS"].get(e)) {
        auto max = json_stamp(o, "maxTS");
        if (!max) return max.error();
        return make_signal(disk_signal{*ts, *min, *max}, *timeout);
    }
    stream_signal s{*ts, *min, {}, {}, kdb::null_long};
    auto start = json_stamp(o, "startTS");
    if (!start) return start.error();
    auto end = json_stamp(o, "endTS");
    if (!end) return end.error();
    s.start_ts = *start;
    s.end_ts = *end;
    if (o["pos"].get(e)) return bad("neither maxTS (a disk mount) nor pos (a stream mount)");
    if (!e.is_null() && e.get(s.pos)) return bad("pos is not an integer");
    return make_signal(s, *timeout);
}

void write_stamp(http::json_writer& w, std::string_view key, timestamp_t t) {
    w.key(key);
    if (t == null_ts) w.null();
    else w.value(timestamp_text(t));
}

}  // namespace

timestamp_t reload_signal::ts() const noexcept { return is_stream() ? stream()->ts : disk()->ts; }
timestamp_t reload_signal::min_ts() const noexcept { return is_stream() ? stream()->min_ts : disk()->min_ts; }

reload_signal make_signal(stream_signal s, std::optional<nanoseconds> timeout) {
    reload_signal r{s, timeout, {}};
    r.raw = build_raw(r);
    return r;
}

reload_signal make_signal(disk_signal s, std::optional<nanoseconds> timeout) {
    reload_signal r{s, timeout, {}};
    r.raw = build_raw(r);
    return r;
}

result<reload_signal> signal_from_k(const k& dict) {
    if (!dict.is_dict()) return bad("not a dictionary (type " + std::to_string(dict.type()) + ")");
    std::optional<nanoseconds> timeout;
    if (auto t = lookup(dict, "timeout")) {
        if (t->type() != -qtype::timespan && t->type() != -qtype::long_) return bad("timeout is not a timespan");
        const auto ns = t->get_long().value();
        if (ns != kdb::null_long) timeout = nanoseconds(ns);
    }
    auto ts = stamp_of(dict, "ts");
    if (!ts) return ts.error();
    auto min = stamp_of(dict, "minTS");
    if (!min) return min.error();
    if (lookup(dict, "maxTS")) {
        auto max = stamp_of(dict, "maxTS");
        if (!max) return max.error();
        return make_signal(disk_signal{*ts, *min, *max}, timeout);
    }
    auto pos = lookup(dict, "pos");
    if (!pos) return bad("neither maxTS (a disk mount) nor pos (a stream mount)");
    if (pos->type() != -qtype::long_) return bad("pos is not a long (type " + std::to_string(pos->type()) + ")");
    auto start = stamp_of(dict, "startTS");
    if (!start) return start.error();
    auto end = stamp_of(dict, "endTS");
    if (!end) return end.error();
    return make_signal(stream_signal{*ts, *min, *start, *end, pos->get_long().value()}, timeout);
}

result<reload_signal> signal_from_json(std::string_view json) {
    simdjson::dom::parser p;
    simdjson::padded_string text(json);
    simdjson::dom::object o;
    if (auto err = p.parse(text).get(o)) return error(errc::bad_response, std::string("reload signal JSON: ") + simdjson::error_message(err));
    return from_object(o);
}

void write_json(http::json_writer& w, const reload_signal& s, std::string_view mount) {
    w.begin_object();
    if (!mount.empty()) w.key("mount").value(mount);
    if (auto* st = s.stream()) {
        write_stamp(w, "ts", st->ts);
        write_stamp(w, "minTS", st->min_ts);
        write_stamp(w, "startTS", st->start_ts);
        write_stamp(w, "endTS", st->end_ts);
        w.key("pos");
        if (st->pos == kdb::null_long) w.null();
        else w.value(st->pos);
    } else {
        write_stamp(w, "ts", s.disk()->ts);
        write_stamp(w, "minTS", s.disk()->min_ts);
        write_stamp(w, "maxTS", s.disk()->max_ts);
    }
    if (s.timeout) w.key("timeout").value(timespan_text(*s.timeout));
    w.end_object();
}

std::string to_json(const reload_signal& s, std::string_view mount) {
    http::json_writer w;
    write_json(w, s, mount);
    return std::move(w).take();
}

result<std::vector<mount_status>> status_from_k(const k& table) {
    if (!table.is_table()) return error(errc::bad_response, "getStatus did not answer a table");
    auto mounts = table.column("mount");
    auto params = table.column("params");
    if (!mounts || !params) return error(errc::bad_response, "getStatus's table has no mount or params column");
    auto names = mounts->get_symbol_list();
    if (!names) return error(errc::bad_response, "getStatus: mount is not a symbol column");
    std::vector<mount_status> out;
    for (std::size_t i = 0; i < names->size(); ++i) {
        mount_status m{std::string((*names)[i]), std::nullopt};
        auto p = params->item(i);
        if (!p) return error(errc::bad_response, "getStatus: params of " + m.mount);
        if (p->count() > 0) {
            auto s = signal_from_k(*p);
            if (!s) return error(s.error().code(), "mount " + m.mount + ": " + std::string(s.error().detail()));
            m.params = std::move(*s);
        }
        out.push_back(std::move(m));
    }
    return out;
}

result<std::vector<mount_status>> status_from_json(std::string_view json) {
    simdjson::dom::parser p;
    simdjson::padded_string text(json);
    simdjson::dom::array a;
    if (auto err = p.parse(text).get(a)) return error(errc::bad_response, std::string("status JSON: ") + simdjson::error_message(err));
    std::vector<mount_status> out;
    for (simdjson::dom::element e : a) {
        simdjson::dom::object o;
        std::string_view mount;
        if (e.get(o) || o["mount"].get(mount)) return error(errc::bad_response, "status JSON: an item without a mount");
        mount_status m{std::string(mount), std::nullopt};
        simdjson::dom::element params;
        simdjson::dom::object po;
        if (!o["params"].get(params) && !params.is_null()) {
            if (params.get(po)) return error(errc::bad_response, "status JSON: params of " + m.mount + " is not an object");
            if (po.size() > 0) {
                auto s = from_object(po);
                if (!s) return error(s.error().code(), "mount " + m.mount + ": " + std::string(s.error().detail()));
                m.params = std::move(*s);
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

k status_to_k(const std::vector<mount_status>& s) {
    std::vector<std::string> names;
    std::vector<k> params;
    for (const auto& m : s) {
        names.push_back(m.mount);
        params.push_back(m.params ? m.params->raw : kdb::new_dict(kdb::new_symbol_list({}), kdb::new_list()).value());
    }
    return kdb::new_table({"mount", "params"}, {kdb::new_symbol_list(names), kdb::new_list(std::move(params))}).value();
}

std::string status_to_json(const std::vector<mount_status>& s) {
    http::json_writer w;
    w.begin_array();
    for (const auto& m : s) {
        w.begin_object().key("mount").value(m.mount).key("params");
        if (m.params) write_json(w, *m.params);
        else w.null();
        w.end_object();
    }
    w.end_array();
    return std::move(w).take();
}

std::string timestamp_text(timestamp_t t) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const std::int64_t ns = (t - day).count();
    const std::int64_t sec = ns / 1'000'000'000;
    char b[48];
    std::snprintf(b, sizeof b, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%09lld", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<long long>(sec / 3600),
                  static_cast<long long>(sec / 60 % 60), static_cast<long long>(sec % 60),
                  static_cast<long long>(ns % 1'000'000'000));
    return b;
}

result<timestamp_t> parse_timestamp(std::string_view s) {
    const error wrong(errc::bad_signal, "not a timestamp: \"" + std::string(s.substr(0, 40)) + "\"");
    int y = 0, m = 0, d = 0;
    if (!digits(s, 0, 4, y) || s.size() < 10 || (s[4] != '-' && s[4] != '.') || s[7] != s[4] || !digits(s, 5, 2, m) ||
        !digits(s, 8, 2, d))
        return wrong;
    const year_month_day ymd{year(y), month(static_cast<unsigned>(m)), day(static_cast<unsigned>(d))};
    if (!ymd.ok()) return wrong;
    std::int64_t ns = 0;
    if (s.size() > 10) {
        if (s[10] != 'T' && s[10] != 'D' && s[10] != ' ') return wrong;
        ns = time_of_day(s, 11);
        if (ns < 0) return wrong;
    }
    return timestamp_t(sys_days(ymd).time_since_epoch() + nanoseconds(ns));
}

std::string timespan_text(nanoseconds d) {
    std::int64_t ns = d.count();
    std::string out;
    if (ns < 0) {
        out = "-";
        ns = -ns;
    }
    const std::int64_t per_day = 86'400'000'000'000;
    char b[48];
    const std::int64_t in_day = ns % per_day, sec = in_day / 1'000'000'000;
    std::snprintf(b, sizeof b, "%lldD%02lld:%02lld:%02lld.%09lld", static_cast<long long>(ns / per_day),
                  static_cast<long long>(sec / 3600), static_cast<long long>(sec / 60 % 60), static_cast<long long>(sec % 60),
                  static_cast<long long>(in_day % 1'000'000'000));
    return out + b;
}

result<nanoseconds> parse_timespan(std::string_view s) {
    const error wrong(errc::bad_signal, "not a timespan: \"" + std::string(s.substr(0, 40)) + "\"");
    bool negative = !s.empty() && s.front() == '-';
    std::string_view rest = negative ? s.substr(1) : s;
    std::int64_t days_part = 0;
    if (auto dpos = rest.find('D'); dpos != std::string_view::npos) {
        auto [p, ec] = std::from_chars(rest.data(), rest.data() + dpos, days_part);
        if (ec != std::errc() || p != rest.data() + dpos || days_part > 106'000) return wrong;
        rest = rest.substr(dpos + 1);
    }
    const std::int64_t ns = time_of_day(rest, 0);
    if (ns < 0 || (!rest.empty() && rest.back() == 'Z')) return wrong;
    const std::int64_t total = days_part * 86'400'000'000'000 + ns;
    return nanoseconds(negative ? -total : total);
}

}  // namespace qwire::sm
