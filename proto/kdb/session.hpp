// The part of a kdb+ connection both ends share: reading whole messages from
// the transport, writing them one at a time (an async mutex keeps concurrent
// writers from interleaving), and the compression policy.
#pragma once

#include <qwire/core/reactor.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/kdb/transport.hpp>

#include <coroutine>
#include <deque>

namespace qwire::kdb {

// When to compress outgoing messages. auto_ is kdb+'s rule: never for
// loopback or Unix-socket peers, otherwise messages over 2000 bytes that
// compress to less than half.
enum class compression { auto_, always, never };

namespace detail {

// A FIFO mutex for coroutines on one reactor.
class async_mutex {
public:
    struct lock_awaiter {
        async_mutex& m;
        bool await_ready() noexcept {
            if (m.locked_) return false;
            m.locked_ = true;
            return true;
        }
        void await_suspend(std::coroutine_handle<> h) { m.waiters_.push_back(h); }
        void await_resume() const noexcept {}
    };
    lock_awaiter lock() noexcept { return {*this}; }
    void unlock() {
        if (waiters_.empty()) {
            locked_ = false;
            return;
        }
        auto h = waiters_.front();  // ownership passes straight to the next waiter
        waiters_.pop_front();
        reactor::current()->schedule(h);
    }

private:
    bool locked_ = false;
    std::deque<std::coroutine_handle<>> waiters_;
};

class session {
public:
    session(transport t, int capability, compression c, limits lim)
        : io_(std::move(t)), capability_(capability), lim_(lim) {
        compress_ = c == compression::always || (c == compression::auto_ && !io_.local());
    }

    // The next whole message, decompressed and decoded.
    task<result<message>> read_message(op_options o = {});
    // Encodes and writes one message; concurrent callers queue in order.
    task<result<void>> write_message(const k& x, msg_type t, op_options o = {});
    // Writes an error response ('text).
    task<result<void>> write_error(std::string_view text, op_options o = {});

    async_mutex& write_lock() noexcept { return wlock_; }
    // Encode and write while the caller already holds write_lock().
    task<result<void>> write_locked(const k& x, msg_type t, op_options o);

    int capability() const noexcept { return capability_; }
    void set_capability(int c) noexcept { capability_ = c; }
    bool compresses() const noexcept { return compress_ && capability_ >= 1; }
    transport& io() noexcept { return io_; }
    const limits& lim() const noexcept { return lim_; }

private:
    transport io_;
    int capability_;
    bool compress_;
    limits lim_;
    byte_buffer rbuf_;
    byte_buffer wbuf_;
    byte_buffer plain_;
    async_mutex wlock_;
};

}  // namespace detail
}  // namespace qwire::kdb
