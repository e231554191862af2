// sender_pool: connected QWP senders lent to many producers.
#pragma once

#include <qwire/proto/qwp/sender.hpp>

#include <memory>

namespace qwire::qwp {

// A pool of connected senders for services with many producers:
//
//     qwp::sender_pool pool(cfg);
//     auto s = co_await pool.borrow();     // an idle sender, a new one, or wait
//     co_await (*s)->flush(chunk);
//     co_await (*s)->sync();               // returned to the pool with the lease
//
// At most pool_max senders exist; pool_size of them are kept when idle,
// others are closed after pool_idle_timeout. A sender that must close is
// never handed out again.
class sender_pool {
public:
    struct state;

    explicit sender_pool(config c);
    static result<sender_pool> from_conf(std::string_view conf);
    sender_pool(sender_pool&&) noexcept;
    sender_pool& operator=(sender_pool&&) noexcept;
    ~sender_pool();

    class lease {
    public:
        lease(lease&& o) noexcept : pool_(std::move(o.pool_)), s_(std::move(o.s_)) {}
        lease& operator=(lease&&) = delete;
        ~lease();
        sender* operator->() noexcept { return s_.get(); }
        sender& operator*() noexcept { return *s_; }

    private:
        friend class sender_pool;
        lease(std::shared_ptr<state> p, std::unique_ptr<sender> s) : pool_(std::move(p)), s_(std::move(s)) {}
        std::shared_ptr<state> pool_;
        std::unique_ptr<sender> s_;
    };

    // An idle sender, else a new connection while fewer than pool_max
    // exist, else waits for a return (o: stop token / deadline).
    task<result<lease>> borrow(op_options o = {});

    std::size_t idle() const noexcept;
    std::size_t open() const noexcept;  // idle + lent
    // Closes idle senders past the idle timeout (beyond pool_size).
    void reap();

private:
    std::shared_ptr<state> s_;
};

}  // namespace qwire::qwp
