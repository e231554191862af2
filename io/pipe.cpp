#include <qwire/io/pipe.hpp>

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/operation.hpp>

#include <cstring>

namespace qwire {
namespace detail {

// One coroutine waiting for a channel to change, with an optional deadline
// (an io_uring timeout) and stop token. The waiter resumes only after its
// timer's CQE arrived, since the timer completion lives in its frame.
struct pipe_wait;

struct pipe_channel {
    byte_buffer data;
    std::size_t capacity = 0;
    bool write_closed = false;  // writer end shut: reader gets eof after data
    bool read_closed = false;   // reader end gone: writes fail
    pipe_wait* reader = nullptr;
    pipe_wait* writer = nullptr;
};

struct pipe_state {
    reactor* r;
    pipe_channel ch[2];  // ch[i]: bytes flowing to side i
    std::uint64_t generation = 0;
};

struct pipe_wait : completion {
    std::shared_ptr<pipe_state> s;
    pipe_wait** slot;
    op_options o;
    std::uint64_t gen = 0;
    std::coroutine_handle<> h{};
    std::error_code ec;
    bool timer_armed = false;
    bool finished = false;
    __kernel_timespec ts{};

    struct canceller {
        pipe_wait* w;
        void operator()() const noexcept {
            reactor* r = w->s->r;
            if (r->on_owner_thread()) return w->end(std::make_error_code(std::errc::operation_canceled));
            // The waiter may be gone by the time the reactor runs this; only
            // the shared state and the generation travel.
            r->post([s = w->s, slot = w->slot, gen = w->gen] {
                if (*slot && (*slot)->gen == gen) (*slot)->end(std::make_error_code(std::errc::operation_canceled));
            });
        }
    };
    std::optional<std::stop_callback<canceller>> cb;

    pipe_wait(std::shared_ptr<pipe_state> st, pipe_wait** sl, op_options opts)
        : s(std::move(st)), slot(sl), o(std::move(opts)) {
        complete = &pipe_wait::on_timer;
    }

    bool await_ready() noexcept {
        if (o.stop.stop_requested()) {
            ec = std::make_error_code(std::errc::operation_canceled);
            return true;
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> hh) {
        h = hh;
        gen = ++s->generation;
        *slot = this;
        if (o.deadline) {
            ts = to_timespec(*o.deadline);
            io_uring_sqe* sqe = s->r->get_sqe();
            io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ABS);
            io_uring_sqe_set_data(sqe, static_cast<completion*>(this));
            s->r->op_started();
            timer_armed = true;
        }
        if (o.stop.stop_possible()) cb.emplace(o.stop, canceller{this});
    }
    result<void> await_resume() noexcept {
        cb.reset();
        if (ec) return ec;
        return {};
    }

    // The channel changed (e == {}), or stop / deadline (e set).
    void end(std::error_code e) {
        if (finished) return;
        finished = true;
        ec = e;
        if (*slot == this) *slot = nullptr;
        if (timer_armed)
            s->r->cancel(static_cast<completion*>(this));  // resume from on_timer
        else
            s->r->schedule(h);
    }

    static void on_timer(completion* c, int res, std::uint32_t) noexcept {
        auto* w = static_cast<pipe_wait*>(c);
        w->s->r->op_finished();
        w->timer_armed = false;
        if (!w->finished) {
            w->end(res == -ETIME ? std::make_error_code(std::errc::timed_out)
                                 : std::make_error_code(std::errc::operation_canceled));
            return;
        }
        w->s->r->schedule(w->h);
    }
};

inline void wake(pipe_wait*& slot) {
    if (slot) slot->end({});
}

}  // namespace detail

std::pair<pipe_stream, pipe_stream> pipe_stream::make_pair(std::size_t capacity) {
    auto s = std::make_shared<detail::pipe_state>();
    s->r = reactor::current();
    for (auto& c : s->ch) c.capacity = capacity ? capacity : 1;
    pipe_stream a, b;
    a.s_ = s;
    a.side_ = 0;
    b.s_ = std::move(s);
    b.side_ = 1;
    return {std::move(a), std::move(b)};
}

task<result<std::size_t>> pipe_stream::read_some(std::span<std::byte> buf, op_options o) {
    if (!s_) co_return errc::closed;
    if (buf.empty()) co_return std::size_t{0};
    auto s = s_;
    detail::pipe_channel& ch = s->ch[side_];
    for (;;) {
        if (!ch.data.empty()) {
            const std::size_t n = std::min(buf.size(), ch.data.size());
            std::memcpy(buf.data(), ch.data.data().data(), n);
            ch.data.consume(n);
            detail::wake(ch.writer);
            co_return n;
        }
        if (ch.write_closed) co_return errc::eof;
        if (ch.read_closed) co_return errc::closed;
        if (ch.reader) co_return errc::invalid_argument;  // one reader at a time
        if (auto r = co_await detail::pipe_wait(s, &ch.reader, o); !r) co_return r.error();
    }
}

task<result<void>> pipe_stream::write_all(std::span<const std::byte> buf, op_options o) {
    if (!s_) co_return errc::closed;
    auto s = s_;
    detail::pipe_channel& ch = s->ch[1 - side_];
    while (!buf.empty()) {
        if (ch.read_closed) co_return std::make_error_code(std::errc::broken_pipe);
        if (ch.write_closed) co_return errc::closed;
        const std::size_t room = ch.capacity - std::min(ch.capacity, ch.data.size());
        if (room == 0) {
            if (ch.writer) co_return errc::invalid_argument;  // one writer at a time
            if (auto r = co_await detail::pipe_wait(s, &ch.writer, o); !r) co_return r;
            continue;
        }
        const std::size_t n = std::min(room, buf.size());
        ch.data.append(buf.data(), n);
        buf = buf.subspan(n);
        detail::wake(ch.reader);
    }
    co_return result<void>{};
}

task<result<void>> pipe_stream::write_all(std::span<const const_buffer> bufs, op_options o) {
    for (const const_buffer& b : bufs)
        if (auto r = co_await write_all(std::span(static_cast<const std::byte*>(b.data), b.size), o); !r) co_return r;
    co_return result<void>{};
}

void pipe_stream::shutdown_write() noexcept {
    if (!s_) return;
    detail::pipe_channel& out = s_->ch[1 - side_];
    out.write_closed = true;
    detail::wake(out.reader);
}

void pipe_stream::close() noexcept {
    if (!s_) return;
    shutdown_write();
    detail::pipe_channel& in = s_->ch[side_];
    in.read_closed = true;
    in.data.clear();
    detail::wake(in.writer);
    detail::wake(in.reader);
    s_.reset();
}

}  // namespace qwire
