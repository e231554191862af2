#include <qwire/proto/qwp/sender_pool.hpp>

#include <qwire/core/notifier.hpp>

#include <vector>

namespace qwire::qwp {

struct sender_pool::state {
    config cfg;
    struct idle_sender {
        std::unique_ptr<sender> s;
        clock::time_point since;
    };
    std::vector<idle_sender> idle;  // most recently returned last
    std::size_t lent = 0;
    std::size_t connecting = 0;
    notifier returned;

    void reap() {
        const auto now = clock::now();
        // Oldest returns first; keep pool_size of the whole pool.
        std::size_t i = 0;
        while (i < idle.size() && idle.size() + lent > cfg.pool_size) {
            if (idle[i].s->must_close() || now - idle[i].since >= cfg.pool_idle_timeout)
                idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
            else
                ++i;
        }
    }
    void give_back(std::unique_ptr<sender> s) {
        --lent;
        if (!s->must_close()) idle.push_back({std::move(s), clock::now()});
        // A borrower waiting gets this one; otherwise idle ones may expire.
        if (returned.has_waiters()) returned.notify_all();
        else reap();
    }
};

sender_pool::sender_pool(config c) : s_(std::make_shared<state>()) {
    s_->cfg = std::move(c);
    if (s_->cfg.lazy_connect && s_->cfg.initial_connect_retry == config::connect_retry::off)
        s_->cfg.initial_connect_retry = config::connect_retry::async;
}
sender_pool::sender_pool(sender_pool&&) noexcept = default;
sender_pool& sender_pool::operator=(sender_pool&&) noexcept = default;
sender_pool::~sender_pool() = default;

result<sender_pool> sender_pool::from_conf(std::string_view conf) {
    auto c = config::parse(conf);
    if (!c) return c.error();
    return sender_pool(std::move(*c));
}

sender_pool::lease::~lease() {
    if (pool_ && s_) pool_->give_back(std::move(s_));
}

task<result<sender_pool::lease>> sender_pool::borrow(op_options o) {
    if (s_->cfg.acquire_timeout) o = o.cut_to(after(*s_->cfg.acquire_timeout));
    reap();
    for (;;) {
        while (!s_->idle.empty()) {
            auto s = std::move(s_->idle.back().s);
            s_->idle.pop_back();
            if (s->must_close()) continue;  // never hand out a broken one
            ++s_->lent;
            co_return lease(s_, std::move(s));
        }
        if (s_->lent + s_->connecting + s_->idle.size() < s_->cfg.pool_max) {
            ++s_->connecting;
            auto c = co_await sender::connect(s_->cfg, o);
            --s_->connecting;
            if (!c) {
                s_->returned.notify_all();
                co_return c.error();
            }
            ++s_->lent;
            co_return lease(s_, std::make_unique<sender>(std::move(*c)));
        }
        auto w = co_await s_->returned.wait(o);
        if (!w) co_return w.error();
    }
}

std::size_t sender_pool::idle() const noexcept { return s_->idle.size(); }
std::size_t sender_pool::open() const noexcept { return s_->idle.size() + s_->lent; }

void sender_pool::reap() { s_->reap(); }

}  // namespace qwire::qwp
