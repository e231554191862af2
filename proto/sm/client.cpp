#include <qwire/proto/sm/client.hpp>

#include <qwire/core/log.hpp>

namespace qwire::sm {

using kdb::k;

struct client::state {
    kdb::connection c;
    client_options o;
    struct registration {
        std::string mount;
        std::chrono::nanoseconds timeout{};
        reload_handler h;
    };
    std::map<std::string, registration, std::less<>> by_callback;  // the q name SM calls -> whom
};

namespace {

// The text of a symbol or a string.
std::optional<std::string> name_of(const k& x) {
    if (auto s = x.get_symbol()) return std::string(*s);
    if (auto s = x.get_string()) return std::string(*s);
    return std::nullopt;
}

// One call of a registered callback: (`name; signal dictionary).
task<result<k>> handle_callback(std::shared_ptr<client::state> s, k call) {
    if (call.type() != kdb::qtype::list || call.items().size() != 2)
        co_return kdb::remote_error("callback: expected (function; reload signal)");
    const auto name = name_of(call.items()[0]);
    if (!name) co_return kdb::remote_error("callback: the function is not named by a symbol");
    const auto found = s->by_callback.find(*name);
    if (found == s->by_callback.end()) co_return kdb::remote_error("callback: nothing registered as " + *name);
    // A copy: registrations may change while the handler runs.
    const client::state::registration reg = found->second;
    auto signal = signal_from_k(call.items()[1]);
    if (!signal) co_return kdb::remote_error(signal.error().message());
    auto done = co_await reg.h(reg.mount, *signal);
    if (!done) co_return kdb::remote_error(kdb::signal_text(done.error()));
    if (reg.timeout.count() > 0) {
        auto sent = co_await s->c.send_async(new_list_of(kdb::new_symbol(s->o.reload_complete_function), kdb::new_symbol(reg.mount)));
        if (!sent) co_return sent.error();
    }
    co_return kdb::new_null();
}

bool is_word(std::string_view text, std::string_view word) {
    return text.substr(0, word.size()) == word &&
           (text.size() == word.size() || !(std::isalnum(static_cast<unsigned char>(text[word.size()])) || text[word.size()] == '_'));
}

}  // namespace

error map_remote_error(const error& e) {
    if (e != kdb::errc::remote) return e;
    const std::string_view text = e.detail();
    if (is_word(text, "mount")) return error(errc::mount, text);
    if (is_word(text, "state")) return error(errc::state, text);
    if (is_word(text, "callback")) return error(errc::callback, text);
    return e;
}

client::client(kdb::connection c, client_options o) : s_(std::make_shared<state>()) {
    s_->c = std::move(c);
    s_->o = std::move(o);
    // Weak: the connection holds the handler, and the handler must not keep
    // the client (and so the connection) alive by itself.
    s_->c.set_request_handler([w = std::weak_ptr<state>(s_)](k call) -> task<result<k>> {
        auto s = w.lock();
        if (!s) co_return kdb::remote_error("callback: the client is gone");
        co_return co_await handle_callback(std::move(s), std::move(call));
    });
}

client::~client() = default;

kdb::connection& client::conn() { return s_->c; }

task<result<reload_signal>> client::register_mount(std::string mount, std::chrono::nanoseconds timeout, std::string callback,
                                                   reload_handler h) {
    auto s = s_;
    if (callback.empty()) co_return error(errc::callback, "register " + mount + ": no callback name");
    if (auto other = s->by_callback.find(callback); other != s->by_callback.end() && other->second.mount != mount)
        co_return error(errc::callback, callback + " is already the callback of mount " + other->second.mount);
    // In place before the call: SM may call back as soon as it has answered.
    s->by_callback[callback] = state::registration{mount, timeout, std::move(h)};
    auto answer = co_await s->c.query(new_list_of(kdb::new_symbol(s->o.register_function), kdb::new_symbol(mount),
                                                  kdb::new_timespan(timeout), kdb::new_symbol(callback)));
    if (!answer) {
        s->by_callback.erase(callback);
        co_return error(map_remote_error(answer.error()).code(), "register " + mount + ": " + std::string(answer.error().detail()));
    }
    auto signal = signal_from_k(*answer);
    if (!signal) {
        s->by_callback.erase(callback);
        co_return error(signal.error().code(), "register " + mount + ": " + std::string(signal.error().detail()));
    }
    // The timeout SM uses decides whether it waits for our completion.
    if (signal->timeout)
        if (auto r = s->by_callback.find(callback); r != s->by_callback.end()) r->second.timeout = *signal->timeout;
    co_return std::move(*signal);
}

task<result<std::vector<mount_status>>> client::status() {
    auto s = s_;
    auto answer = co_await s->c.query(new_list_of(kdb::new_symbol(s->o.status_function), kdb::new_null()));
    if (!answer) co_return map_remote_error(answer.error());
    co_return status_from_k(*answer);
}

task<result<void>> client::run() {
    auto s = s_;
    for (;;) {
        auto m = co_await s->c.receive();
        if (!m) co_return m.error();
        if (m->type != kdb::msg_type::async) continue;
        auto done = co_await handle_callback(s, std::move(m->value));
        if (!done) log_line(log_level::warning, "sm client: an async callback failed: " + done.error().message());
    }
}

}  // namespace qwire::sm
