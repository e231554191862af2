#include <qwire/proto/kdb/pool.hpp>

namespace qwire::kdb {

task<result<pool>> pool::open(factory make, pool_options o) {
    pool p;
    p.make_ = std::move(make);
    p.o_ = o;
    if (o.size == 0) co_return qwire::errc::invalid_argument;
    for (std::size_t i = 0; i < o.size; ++i) {
        auto c = co_await p.make_();
        if (!c) co_return c.error();
        p.conns_.push_back(std::move(*c));
    }
    co_return std::move(p);
}

task<result<std::size_t>> pool::pick() {
    std::size_t i;
    if (o_.strategy == pool_options::pick::least_busy) {
        // A closed connection has nothing outstanding, so it is picked (and
        // replaced) before busy ones.
        i = 0;
        for (std::size_t j = 1; j < conns_.size(); ++j)
            if (conns_[j].outstanding() < conns_[i].outstanding()) i = j;
    } else {
        i = next_++ % conns_.size();
    }
    if (!conns_[i].is_open()) {
        auto c = co_await make_();
        if (!c) co_return c.error();
        conns_[i] = std::move(*c);
        ++reconnects_;
    }
    co_return i;
}

task<result<k>> pool::query(k request, op_options o) {
    for (int attempt = 0;; ++attempt) {
        auto i = co_await pick();
        if (!i) co_return i.error();
        auto r = co_await conns_[*i].query(request, o);
        if (r || r.error() != errc::connection_closed || !o_.retry_on_disconnect || attempt > 0) co_return r;
    }
}

void pool::close() {
    for (auto& c : conns_) c.close();
}

}  // namespace qwire::kdb
