#include <qwire/proto/sm/emulator.hpp>

#include <qwire/core/log.hpp>
#include <qwire/core/scope.hpp>

#include <simdjson.h>

namespace qwire::sm {

using namespace std::chrono;
using kdb::k;
namespace qtype = kdb::qtype;

namespace detail {
std::optional<bool> looks_like_http(std::span<const std::byte> first) {
    static constexpr std::string_view methods[] = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH "};
    const std::string_view got(reinterpret_cast<const char*>(first.data()), first.size());
    if (got.empty()) return std::nullopt;
    for (std::string_view m : methods) {
        if (got.size() >= m.size() && got.starts_with(m)) return true;
        if (got.size() < m.size() && m.starts_with(got)) return std::nullopt;
    }
    return false;
}
}  // namespace detail

namespace {

constexpr nanoseconds one_ns{1};

std::optional<std::string> text_of(const k& x) {
    if (auto s = x.get_symbol()) return std::string(*s);
    if (auto s = x.get_string()) return std::string(*s);
    return std::nullopt;
}

// A call as q sends it: (`f; args...) or the text "f[]" / "f[x]"; the name
// and the arguments.
struct call {
    std::string function;
    std::vector<k> args;
};
std::optional<call> parse_call(const k& x) {
    if (auto text = x.get_string()) {
        const std::string_view t = *text;
        const auto open = t.find('[');
        if (open == std::string_view::npos || t.back() != ']' || t.substr(open + 1, t.size() - open - 2).find_first_not_of(' ') != std::string_view::npos)
            return std::nullopt;
        return call{std::string(t.substr(0, open)), {}};
    }
    if (x.type() != qtype::list || x.items().empty()) return std::nullopt;
    auto name = text_of(x.items()[0]);
    if (!name) return std::nullopt;
    call c{*name, {}};
    for (std::size_t i = 1; i < x.items().size(); ++i)
        if (!x.items()[i].is_generic_null()) c.args.push_back(x.items()[i]);
    return c;
}

result<std::optional<timestamp_t>> end_arg(const std::vector<k>& args) {
    if (args.empty()) return std::optional<timestamp_t>{};
    if (args[0].type() != -qtype::timestamp) return kdb::remote_error("type: endTS must be a timestamp");
    return std::optional<timestamp_t>(kdb::from_kdb_timestamp(args[0].get_long().value()));
}

}  // namespace

emulator::emulator(emulator_options o) : o_(std::move(o)), q_(o_.kdb) {
    const timestamp_t start = o_.start.value_or(time_point_cast<nanoseconds>(system_clock::now()));
    const timestamp_t day = floor<days>(start);
    interval_start_ = day;
    for (const auto& m : o_.mounts) {
        reload_signal s;
        // Before the first migration: nothing on disk today, the stream holds the day.
        if (m.kind == mount_kind::stream)
            s = make_signal(stream_signal{start, day, day, day, kdb::null_long});
        else if (m.kind == mount_kind::idb)
            s = make_signal(disk_signal{start, day, day - one_ns});
        else
            s = make_signal(disk_signal{start, kdb::from_kdb_timestamp(0), day - one_ns});
        mounts_.emplace(m.name, mount_state{m.kind, std::move(s)});
    }
    q_.on_sync([this](kdb::peer& p, k x) { return on_sync(p, std::move(x)); });
    q_.on_async([this](kdb::peer& p, k x) { return on_async(p, std::move(x)); });
    q_.on_close([this](kdb::peer& p) {
        auto next = std::make_shared<registration_list>();
        for (const auto& r : *regs_)
            if (!r.peer || r.peer->id() != p.id()) next->push_back(r);
        regs_ = std::move(next);
        std::erase_if(awaiting_, [&](const auto& w) { return w.first == p.id(); });
        changed_.notify_all();
    });
}

emulator::~emulator() { stop_.request_stop(); }

void emulator::set_publisher(kdb::rt::publisher p) { pub_.emplace(std::move(p)); }

task<result<void>> emulator::follow_stream(kdb::connection c) {
    kdb::rt::handlers h;
    h.on_partition_end = [this](const kdb::rt::partition_end& e, std::int64_t pos) {
        partition_positions_[e.end_ts] = pos;
        changed_.notify_all();
    };
    following_ = true;
    auto r = co_await kdb::rt::subscribe(std::move(c), kdb::null_long, std::move(h));
    following_ = false;
    co_return r;
}

task<void> emulator::serve(acceptor& a, std::stop_token st) {
    scope clients;
    std::stop_callback forward(st, [&] {
        clients.request_stop();
        stop_.request_stop();
    });
    while (!st.stop_requested()) {
        auto c = co_await a.accept({st});
        if (!c) break;
        clients.spawn(serve_connection(std::move(*c)));
    }
    clients.request_stop();
    q_.close_all();
    co_await clients.join();
    co_await background_.join();
}

std::vector<mount_status> emulator::status() const {
    std::vector<mount_status> out;
    for (const auto& m : o_.mounts) out.push_back({m.name, mounts_.at(m.name).last});
    return out;
}

result<reload_signal> emulator::add_registration(registration reg) {
    if (!ready_) return error(errc::state, "the Storage Manager is not ready");
    const auto m = mounts_.find(reg.mount);
    if (m == mounts_.end()) return error(errc::mount, "no mount " + reg.mount);
    if (reg.callback.empty()) return error(errc::callback, "no callback");
    // A stream mount's DA is never waited for; a disk mount's at most reload_timeout.
    if (m->second.kind == mount_kind::stream || reg.timeout.count() < 0) reg.timeout = {};
    reg.timeout = std::min(reg.timeout, o_.reload_timeout);
    reload_signal answer = m->second.last;
    answer.timeout = reg.timeout;
    answer = answer.is_stream() ? make_signal(*answer.stream(), answer.timeout) : make_signal(*answer.disk(), answer.timeout);
    auto next = std::make_shared<registration_list>(*regs_);
    // A DA registering again for the same mount replaces its registration.
    std::erase_if(*next, [&](const registration& r) {
        return r.mount == reg.mount && (reg.peer ? r.peer && r.peer->id() == reg.peer->id() : !r.peer && r.callback == reg.callback);
    });
    next->push_back(std::move(reg));
    regs_ = std::move(next);
    return answer;
}

task<result<k>> emulator::on_sync(kdb::peer& p, k x) {
    auto c = parse_call(x);
    if (!c) co_return kdb::remote_error("type: expected a call of .sm.api.register, .sm.api.getStatus, .sm.eoi or .sm.eod");
    if (c->function == o_.names.register_function) {
        // register[mount; timeout; callback]; Insights 1.0-1.2 sent a sync boolean for the timeout.
        if (c->args.size() != 3) co_return kdb::remote_error("rank: register takes mount, timeout, callback");
        registration reg;
        auto mount = c->args[0].get_symbol();
        if (!mount) co_return kdb::remote_error("mount");
        reg.mount = std::string(*mount);
        const k& t = c->args[1];
        if (t.type() == -qtype::boolean) reg.timeout = t.get_bool().value() ? o_.reload_timeout : nanoseconds{};
        else if (t.type() == -qtype::timespan || t.type() == -qtype::long_) {
            const auto ns = t.get_long().value();
            reg.timeout = nanoseconds(ns == kdb::null_long ? 0 : ns);
        } else {
            co_return kdb::remote_error("type: timeout must be a timespan");
        }
        auto cb = c->args[2].get_symbol();
        reg.callback = cb ? std::string(*cb) : std::string();
        reg.peer = p;
        auto answer = add_registration(std::move(reg));
        if (!answer) {
            const auto code = answer.error().code();
            co_return kdb::remote_error(code == errc::mount ? "mount" : code == errc::state ? "state" : "callback");
        }
        co_return answer->raw;
    }
    if (c->function == o_.names.status_function) co_return status_to_k(status());
    if (c->function == ".sm.eoi" || c->function == ".sm.eod") {
        auto end = end_arg(c->args);
        if (!end) co_return end.error();
        // Answered later: this client's other messages (its own reload
        // completions among them) must go on being read meanwhile.
        background_.spawn([](emulator& e, kdb::deferred_response d, bool eod, std::optional<timestamp_t> end) -> task<void> {
            auto s = co_await e.migrate(eod, end);
            if (s) (void)co_await d.reply(status_to_k(*s));
            else (void)co_await d.fail(s.error().message());
        }(*this, p.defer(), c->function == ".sm.eod", *end));
        co_return kdb::new_null();
    }
    co_return kdb::remote_error(c->function + ": not served by the SM emulator");
}

task<void> emulator::on_async(kdb::peer& p, k x) {
    auto c = parse_call(x);
    if (!c || c->function != o_.names.reload_complete_function || c->args.size() != 1) co_return;
    if (auto mount = text_of(c->args[0])) {
        awaiting_.erase({p.id(), *mount});
        changed_.notify_all();
    }
}

task<http::response> emulator::on_http(http::request& r) {
    auto error_response = [](const error& e) {
        int status = 500;
        if (e == errc::mount) status = 404;
        else if (e == errc::state) status = 503;
        else if (e == errc::callback || e == errc::bad_signal || e == errc::bad_response) status = 400;
        return http::make_response(status, "{\"error\":" + http::json_quote(e.message()) + "}");
    };
    const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (path == o_.rest.status_path) {
        if (r.method != "GET") co_return http::make_response(405, "{\"error\":\"GET the status\"}");
        co_return http::make_response(200, status_to_json(status()));
    }
    if (path == o_.rest.register_path) {
        if (r.method != "POST") co_return http::make_response(405, "{\"error\":\"POST a registration\"}");
        simdjson::dom::parser parser;
        simdjson::padded_string body(r.body);
        simdjson::dom::object o;
        if (auto err = parser.parse(body).get(o)) co_return error_response(error(errc::bad_response, std::string("JSON: ") + simdjson::error_message(err)));
        registration reg;
        std::string_view mount, callback;
        if (o["mount"].get(mount)) co_return error_response(error(errc::mount, "no \"mount\" string"));
        if (o["callback"].get(callback)) co_return error_response(error(errc::callback, "no \"callback\" string"));
        if (auto url = parse_http_url(callback); !url) co_return error_response(url.error());
        reg.mount = std::string(mount);
        reg.callback = std::string(callback);
        simdjson::dom::element t;
        if (!o["timeout"].get(t) && !t.is_null()) {
            std::string_view text;
            std::int64_t ns = 0;
            if (!t.get(ns)) reg.timeout = nanoseconds(ns);
            else if (!t.get(text)) {
                auto d = parse_timespan(text);
                if (!d) co_return error_response(d.error());
                reg.timeout = *d;
            } else {
                co_return error_response(error(errc::bad_signal, "timeout is neither a timespan nor nanoseconds"));
            }
        }
        auto answer = add_registration(std::move(reg));
        if (!answer) co_return error_response(answer.error());
        co_return http::make_response(200, to_json(*answer));
    }
    if (path == "/eoi" || path == "/eod") {
        if (r.method != "POST") co_return http::make_response(405, "{\"error\":\"POST to start a migration\"}");
        std::optional<timestamp_t> end;
        if (!r.body.empty()) {
            simdjson::dom::parser parser;
            simdjson::padded_string body(r.body);
            simdjson::dom::element doc;
            std::string_view text;
            if (parser.parse(body).get(doc)) co_return error_response(error(errc::bad_response, "JSON does not parse"));
            if (!doc["endTS"].get(text)) {
                auto t = parse_timestamp(text);
                if (!t) co_return error_response(t.error());
                end = *t;
            }
        }
        auto s = co_await migrate(path == "/eod", end);
        if (!s) co_return error_response(s.error());
        co_return http::make_response(200, status_to_json(*s));
    }
    co_return http::make_response(404, "{\"error\":\"no such path\"}");
}

task<result<std::vector<mount_status>>> emulator::end_of_interval(std::optional<timestamp_t> end) { return migrate(false, end); }
task<result<std::vector<mount_status>>> emulator::end_of_day(std::optional<timestamp_t> end) { return migrate(true, end); }

task<void> emulator::signal_one(registration reg, reload_signal s) {
    if (reg.peer) {
        const bool wait = reg.timeout.count() > 0;
        if (wait) awaiting_.insert({reg.peer->id(), reg.mount});
        auto sent = co_await reg.peer->send_async(new_list_of(kdb::new_symbol(reg.callback), s.raw));
        if (!sent) awaiting_.erase({reg.peer->id(), reg.mount});
        const op_options until(stop_.get_token(), clock::now() + duration_cast<clock::duration>(reg.timeout));
        while (wait && awaiting_.contains({reg.peer->id(), reg.mount})) {
            auto woke = co_await changed_.wait(until);
            if (!woke) {
                log_line(log_level::warning, "sm emulator: no reload completion for " + reg.mount + " from client " +
                                                 std::to_string(reg.peer->id()) + " within its timeout");
                awaiting_.erase({reg.peer->id(), reg.mount});
                break;
            }
        }
    } else {
        auto ep = parse_http_url(reg.callback);
        http::request q;
        q.method = "POST";
        if (ep) {
            q.target = ep->target;
            q.headers.add("Host", ep->host.empty() ? std::string("localhost") : ep->host + ":" + std::to_string(ep->port));
            q.headers.add("Content-Type", "application/json");
            q.body = to_json(s, reg.mount);
            const auto limit = reg.timeout.count() > 0 ? duration_cast<clock::duration>(reg.timeout) : o_.rest.timeout;
            auto r = co_await http_call(*ep, std::move(q), limit);
            if (!r || r->status != 200)
                log_line(log_level::warning, "sm emulator: the reload callback " + reg.callback + " failed: " +
                                                 (r ? std::to_string(r->status) + " " + r->body.substr(0, 200) : r.error().message()));
        }
    }
}

task<result<std::vector<mount_status>>> emulator::migrate(bool eod, std::optional<timestamp_t> end_opt) {
    if (migrating_) co_return error(errc::state, "a migration is already running");
    migrating_ = true;
    struct done_flag {
        bool& b;
        ~done_flag() { b = false; }
    } guard{migrating_};
    const timestamp_t now = time_point_cast<nanoseconds>(system_clock::now());
    const timestamp_t end = end_opt.value_or(now);
    const std::string signal = eod ? "eod" : "eoi";

    // 1. _prtnEnd on the stream, and its position.
    std::int64_t pos = kdb::null_long;
    if (pub_) {
        partition_positions_.erase(end);
        auto pushed = co_await pub_->push(kdb::rt::partition_end_table, kdb::rt::partition_end_row(signal, end, kdb::new_null()));
        if (!pushed) co_return error(pushed.error().code(), "publishing _prtnEnd: " + pushed.error().message());
        auto next = co_await pub_->sync();
        if (!next) co_return error(next.error().code(), "asking the stream for its position: " + next.error().message());
        pos = *next - 1;
        // Following the stream, the exact position comes back with the row.
        const op_options until(stop_.get_token(), clock::now() + seconds(10));
        while (!partition_positions_.contains(end) && following_) {
            auto woke = co_await changed_.wait(until);
            if (!woke) break;
        }
        if (auto p = partition_positions_.find(end); p != partition_positions_.end()) pos = p->second;
    }

    // 2. The new signals.
    const timestamp_t day_start = floor<days>(end);
    std::vector<std::string> disk_mounts, stream_mounts;
    for (auto& [name, m] : mounts_) {
        if (m.kind == mount_kind::stream) {
            m.last = make_signal(stream_signal{now, end, interval_start_, end, pos});
            stream_mounts.push_back(name);
        } else if (m.kind == mount_kind::idb) {
            m.last = eod ? make_signal(disk_signal{now, end, end - one_ns}) : make_signal(disk_signal{now, day_start, end - one_ns});
            disk_mounts.push_back(name);
        } else if (eod) {
            m.last = make_signal(disk_signal{now, m.last.min_ts(), end - one_ns});
            disk_mounts.push_back(name);
        }
    }
    interval_start_ = end;

    // 3. Disk mounts first, waited for; then the stream mount.
    const auto regs = regs_;  // this round's DAs
    for (const auto* group : {&disk_mounts, &stream_mounts}) {
        scope round;
        for (const auto& r : *regs)
            if (std::find(group->begin(), group->end(), r.mount) != group->end()) round.spawn(signal_one(r, mounts_.at(r.mount).last));
        co_await round.join();
    }

    // 4. _reload rows.
    if (pub_)
        for (const auto* group : {&disk_mounts, &stream_mounts})
            for (const auto& name : *group) {
                auto pushed = co_await pub_->push(kdb::rt::reload_table, kdb::rt::reload_row(name, mounts_.at(name).last.raw, ""));
                if (!pushed) co_return error(pushed.error().code(), "publishing _reload: " + pushed.error().message());
            }
    co_return status();
}

}  // namespace qwire::sm
