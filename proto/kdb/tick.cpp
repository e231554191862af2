#include <qwire/proto/kdb/tick.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::kdb {

namespace {

using namespace std::chrono;

std::string symbol_or_string(const k& x) {
    if (auto s = x.get_symbol()) return std::string(*s);
    if (auto s = x.get_string()) return std::string(*s);
    return {};
}

std::set<std::string> symbol_set(const k& x) {
    std::set<std::string> out;
    if (auto list = x.get_symbol_list())
        for (auto s : *list) out.emplace(s);
    else if (auto s = x.get_symbol(); s && !s->empty())
        out.emplace(*s);
    return out;
}

// The symbols of a q text argument such as `IBM`MSFT (or ` for all).
std::vector<std::string> parse_symbols(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t i = text.find('`'); i != std::string_view::npos; i = text.find('`', i + 1)) {
        const std::string_view rest = text.substr(i + 1);
        out.emplace_back(rest.substr(0, rest.find_first_of("` ;]")));
    }
    return out;
}

std::string date_text(sys_days d) {
    const year_month_day ymd{d};
    char b[16];
    std::snprintf(b, sizeof b, "%04d.%02u.%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return b;
}

std::int64_t now_timespan() {
    const auto now = system_clock::now();
    return duration_cast<nanoseconds>(now - floor<days>(now)).count();
}

}  // namespace

// ---- tickerplant ----

tickerplant::tickerplant(server& srv, tickerplant_options o)
    : srv_(srv), o_(std::move(o)), date_(o_.start_date.value_or(floor<days>(system_clock::now()))) {
    srv_.on_sync([this](peer& p, k request) { return on_sync(p, std::move(request)); });
    srv_.on_async([this](peer&, k message) -> task<void> {
        auto m = message.items();
        if (message.type() == qtype::list && m.size() == 3 && symbol_or_string(m[0]) == ".u.upd")
            (void)co_await publish(symbol_or_string(m[1]), m[2]);
    });
    srv_.on_close([this](peer& p) {
        for (auto& [table, list] : subs_) {
            const bool in = std::any_of(list->begin(), list->end(), [&](const subscription& s) { return s.who.id() == p.id(); });
            if (in)
                change_subscribers(table, [&](subscriber_list& l) {
                    std::erase_if(l, [&](const subscription& s) { return s.who.id() == p.id(); });
                });
        }
    });
    if (!o_.log_directory.empty()) (void)open_log();
}

std::string tickerplant::log_path() const {
    return o_.log_directory.empty() ? std::string() : o_.log_directory + "/" + o_.log_prefix + date_text(date_);
}

result<void> tickerplant::open_log() {
    auto w = tick_log_writer::open(log_path());
    if (!w) return w.error();
    count_ = w->count();
    log_.emplace(std::move(*w));
    return {};
}

result<void> tickerplant::add_table(std::string name, k schema) {
    if (!schema.is_table()) return errc::type_mismatch;
    schemas_[name] = std::move(schema);
    if (!subs_.count(name)) subs_[name] = std::make_shared<const subscriber_list>();
    return {};
}

result<k> tickerplant::to_table(const std::string& table, const k& data) const {
    auto it = schemas_.find(table);
    if (it == schemas_.end()) return remote_error(table);
    const k names = it->second.column_names().value();
    if (data.is_table()) {
        // kdb-tick inserts it into the table: its columns must be the schema's.
        if (data.column_names().value().count() != names.count()) return remote_error("mismatch");
        return data;
    }
    if (data.type() != qtype::list) return remote_error("type");
    std::vector<k> cols(data.items().begin(), data.items().end());
    const bool row = !cols.empty() && cols.front().is_atom();
    if (row)
        for (auto& c : cols) {
            if (!c.is_atom()) return remote_error("type");
            c = enlist(c);
        }
    // Feeds may leave the time column to the tickerplant.
    if (cols.size() + 1 == names.count() && (cols.empty() || cols.front().type() != qtype::timespan)) {
        const std::size_t n = cols.empty() ? 0 : cols.front().count();
        std::vector<std::int64_t> now(n, now_timespan());
        cols.insert(cols.begin(), new_temporal_list(qtype::timespan, now));
    }
    auto t = new_table(names, new_list(std::move(cols)));
    if (!t) return remote_error("length");
    return t;
}

task<result<void>> tickerplant::publish(std::string_view table_name, k data) {
    const std::string table(table_name);
    auto t = to_table(table, data);
    if (!t) co_return t.error();
    // Held across the sends: .u.sub and closes replace the list meanwhile,
    // they never change this one. A subscriber gone since gets an error
    // from its closed peer, ignored here.
    const auto found = subs_.find(table);
    const std::shared_ptr<const subscriber_list> list =
        found != subs_.end() && found->second ? found->second : std::make_shared<const subscriber_list>();
    if (log_) {
        if (auto w = log_->append(new_list_of(new_symbol("upd"), new_symbol(table), t->columns().value())); !w)
            co_return w;
        if (auto f = log_->flush(); !f) co_return f;
    }
    ++count_;
    auto sym_column = t->column("sym");
    const k sym = sym_column ? *sym_column : new_null();
    for (const auto& s : *list) {
        k rows = *t;
        if (!s.syms.empty() && sym.type() == qtype::symbol) {
            const auto names = sym.get_symbol_list().value();
            std::vector<std::size_t> keep;
            for (std::size_t i = 0; i < names.size(); ++i)
                if (s.syms.count(std::string(names[i]))) keep.push_back(i);
            if (keep.empty()) continue;  // nothing for this subscriber
            rows = take(*t, keep).value();  // indexes of its own rows
        }
        peer who = s.who;
        (void)co_await who.send_async(new_list_of(new_symbol("upd"), new_symbol(table), rows));
    }
    co_return result<void>{};
}

task<void> tickerplant::end_of_day() {
    const k msg = new_list_of(new_symbol(".u.end"), new_date(date_));
    // Everyone to tell, collected first: subs_ may change while we send.
    std::vector<peer> to_tell;
    std::set<std::uint64_t> told;
    for (auto& [table, list] : subs_)
        for (auto& s : *list)
            if (told.insert(s.who.id()).second) to_tell.push_back(s.who);
    for (auto& who : to_tell) (void)co_await who.send_async(msg);
    date_ += days(1);
    count_ = 0;
    if (!o_.log_directory.empty()) (void)open_log();
}

template <class F>
void tickerplant::change_subscribers(const std::string& table, F f) {
    auto& slot = subs_[table];
    auto next = slot ? std::make_shared<subscriber_list>(*slot) : std::make_shared<subscriber_list>();
    f(*next);
    slot = std::move(next);
}

result<k> tickerplant::subscribe(peer& p, const std::string& table, std::set<std::string> syms) {
    auto pair_for = [&](const std::string& name) -> result<k> {
        change_subscribers(name, [&](subscriber_list& list) {
            std::erase_if(list, [&](const subscription& s) { return s.who.id() == p.id(); });  // .u.sub replaces
            list.push_back({p, syms});
        });
        return new_list_of(new_symbol(name), schemas_.at(name));
    };
    if (!table.empty()) {
        if (!schemas_.count(table)) return remote_error(table);
        return pair_for(table);
    }
    std::vector<k> all;
    for (auto& [name, schema] : schemas_) all.push_back(pair_for(name).value());
    return new_list(std::move(all));
}

task<result<k>> tickerplant::on_sync(peer& p, k request) {
    if (request.type() == qtype::list && !request.items().empty()) {
        const auto& m = request.items();
        const std::string fn = symbol_or_string(m[0]);
        if (fn == ".u.sub" && m.size() == 3) co_return subscribe(p, symbol_or_string(m[1]), symbol_set(m[2]));
        if (fn == ".u.upd" && m.size() == 3) {
            auto r = co_await publish(symbol_or_string(m[1]), m[2]);
            if (!r) co_return r.error();
            co_return new_null();
        }
    }
    if (auto text = request.get_string()) {
        std::string q(*text);
        std::erase(q, ' ');
        if (q == "(.u.sub[`;`];.u`i`L;.u.d)" || q == "(.u.sub[`;`];.u`i`L)") {
            auto subs = subscribe(p, "", {});
            if (!subs) co_return subs.error();
            auto where = new_list_of(new_long(count_), new_symbol(":" + log_path()));
            if (q.find(".u.d") == std::string::npos) co_return new_list_of(*subs, where);
            co_return new_list_of(*subs, where, new_date(to_kdb_date(date_)));
        }
        if (q.rfind(".u.sub[", 0) == 0 && q.back() == ']') {
            const std::string args = q.substr(7, q.size() - 8);
            const auto semi = args.find(';');
            if (semi == std::string::npos) co_return remote_error("rank");
            const auto tables = parse_symbols(args.substr(0, semi));
            const auto names = parse_symbols(args.substr(semi + 1));
            std::set<std::string> syms;
            for (auto& s : names)
                if (!s.empty()) syms.insert(s);
            co_return subscribe(p, tables.empty() ? "" : tables.front(), std::move(syms));
        }
        if (q == ".u.i") co_return new_long(count_);
        if (q == ".u.d") co_return new_date(date_);
        if (q == ".u.L") co_return new_symbol(":" + log_path());
    }
    co_return remote_error("nyi");
}

// ---- subscriber ----

result<tick_message> parse_tick_message(const k& x) {
    if (x.type() != qtype::list || x.items().size() < 2) return errc::not_a_tickerplant;
    const auto& m = x.items();
    tick_message out;
    out.function = symbol_or_string(m[0]);
    if (out.function == "upd" && m.size() == 3) {
        out.table = symbol_or_string(m[1]);
        out.data = m[2];
        return out;
    }
    if (out.function == ".u.end") {
        out.data = m[1];
        return out;
    }
    return errc::not_a_tickerplant;
}

task<result<subscriber>> subscriber::subscribe(connection c, std::string table, std::vector<std::string> syms) {
    k sym_arg = syms.empty() ? new_symbol("") : new_symbol_list(syms);
    auto r = co_await c.query(new_list_of(new_symbol(".u.sub"), new_symbol(table), sym_arg));
    if (!r) co_return r.error();
    subscriber s;
    auto add = [&](const k& pair) -> bool {
        if (pair.type() != qtype::list || pair.items().size() != 2) return false;
        s.schemas_[symbol_or_string(pair.items()[0])] = pair.items()[1];
        return true;
    };
    if (r->type() == qtype::list && r->items().size() == 2 && r->items()[0].type() == -qtype::symbol) {
        if (!add(*r)) co_return errc::not_a_tickerplant;
    } else if (r->type() == qtype::list) {
        for (const k& pair : r->items())
            if (!add(pair)) co_return errc::not_a_tickerplant;
    } else {
        co_return errc::not_a_tickerplant;
    }
    s.c_ = std::move(c);
    co_return s;
}

task<result<tick_message>> subscriber::next() {
    for (;;) {
        auto m = co_await c_.receive();
        if (!m) co_return m.error();
        if (auto t = parse_tick_message(m->value)) co_return *t;
    }
}

}  // namespace qwire::kdb
