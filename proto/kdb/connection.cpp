#include <qwire/proto/kdb/connection.hpp>

#include <qwire/core/ring.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>


#include <deque>
#include <optional>

namespace qwire::kdb {

std::string unix_socket_name(std::uint16_t port) { return "@/tmp/kx." + std::to_string(port); }

namespace {

// One sync request waiting for its response.
struct pending {
    std::coroutine_handle<> waiter{};
    std::optional<result<k>> out;
    bool abandoned = false;      // the caller gave up (stop or deadline)
    // Ends the deadline's timer; made only for a query with a deadline (a
    // stop_source allocates its state).
    std::stop_source deadline_stop{std::nostopstate};
};

}  // namespace

struct connection::state {
    std::unique_ptr<session_base> sess_;
    session_base& sess;
    ring<std::shared_ptr<pending>> pending_queries;
    std::deque<message> inbox;
    std::coroutine_handle<> receiver{};
    std::coroutine_handle<> paused_reader{};  // the read loop, waiting for room in the inbox
    std::size_t max_inbox = 0;
    std::error_code failure;
    bool closed = false;
    std::function<result<k>(const k&)> sync_handler;
    std::function<task<result<k>>(k)> request_handler;
    unsigned answering = 0;  // sync requests from the server the request handler is on
    reactor* r;

    explicit state(std::unique_ptr<session_base> s) : sess_(std::move(s)), sess(*sess_), r(reactor::current()) {}

    void complete(pending& p, result<k> v) {
        if (p.abandoned) return;
        p.out.emplace(std::move(v));
        p.deadline_stop.request_stop();
        if (p.waiter) r->schedule(std::exchange(p.waiter, {}));
    }

    // Resumes the coroutine waiting in receive(), if one is.
    void wake_receiver() {
        if (receiver) r->schedule(std::exchange(receiver, {}));
    }

    void fail(std::error_code ec) {
        if (closed) return;
        closed = true;
        failure = ec == qwire::errc::eof || ec == std::errc::operation_canceled ? make_error_code(errc::connection_closed) : ec;
        while (!pending_queries.empty()) {
            auto p = std::move(pending_queries.front());
            pending_queries.pop_front();
            complete(*p, failure);
        }
        wake_receiver();
        if (paused_reader) r->schedule(std::exchange(paused_reader, {}));
        sess.shutdown();
    }
};

namespace {

// A server waits for each sync request it sends; one that sends more than
// this many without waiting is broken (or hostile), and the connection ends.
constexpr unsigned max_server_requests = 16;

// Runs the request handler for one sync request from the server and answers
// it; the read loop goes on meanwhile, so the handler may itself query the
// server on this connection.
task<void> answer_request(std::shared_ptr<connection::state> s, k request) {
    result<k> answer = co_await s->request_handler(std::move(request));
    --s->answering;
    if (s->closed) co_return;
    result<void> w;
    if (answer)
        w = co_await s->sess.write_message(*answer, msg_type::response);
    else
        w = co_await s->sess.write_error(signal_text(answer.error()));
    if (!w) s->fail(w.error());
}

task<void> read_loop(std::shared_ptr<connection::state> s) {
    while (!s->closed) {
        auto m = co_await s->sess.read_message();
        if (!m) {
            s->fail(m.error());
            break;
        }
        switch (m->type) {
            case msg_type::response: {
                if (s->pending_queries.empty()) {
                    s->fail(make_error_code(errc::unexpected_message));
                    co_return;
                }
                auto p = std::move(s->pending_queries.front());
                s->pending_queries.pop_front();
                if (m->value.is_error())
                    s->complete(*p, remote_error(m->value.error_text()));
                else
                    s->complete(*p, std::move(m->value));
                break;
            }
            case msg_type::sync: {
                if (s->request_handler) {
                    if (s->answering >= max_server_requests) {
                        s->fail(make_error_code(errc::unexpected_message));
                        co_return;
                    }
                    ++s->answering;
                    s->r->spawn(answer_request(s, std::move(m->value)));
                    break;
                }
                // The server waits for our answer; never leave it hanging.
                result<k> answer = s->sync_handler ? s->sync_handler(m->value) : result<k>(remote_error("unable to process sync requests"));
                result<void> w;
                if (answer)
                    w = co_await s->sess.write_message(*answer, msg_type::response);
                else
                    w = co_await s->sess.write_error(signal_text(answer.error()));
                if (!w) {
                    s->fail(w.error());
                    co_return;
                }
                s->inbox.push_back(std::move(*m));
                s->wake_receiver();
                break;
            }
            case msg_type::async:
                s->inbox.push_back(std::move(*m));
                s->wake_receiver();
                break;
        }
        struct room_awaiter {
            connection::state& s;
            bool await_ready() const noexcept { return s.max_inbox == 0 || s.inbox.size() < s.max_inbox || s.closed; }
            void await_suspend(std::coroutine_handle<> h) noexcept { s.paused_reader = h; }
            void await_resume() const noexcept {}
        };
        co_await room_awaiter{*s};
    }
}

// Ends a wait at its deadline by abandoning the pending entry.
task<void> expire(std::shared_ptr<connection::state> s, std::shared_ptr<pending> p, clock::time_point deadline) {
    auto stop = p->deadline_stop.get_token();
    auto slept = co_await sleep_until(deadline, stop);
    if (!slept) co_return;  // answered first
    if (p->out || p->abandoned) co_return;
    p->abandoned = true;
    p->out.emplace(std::make_error_code(std::errc::timed_out));
    if (p->waiter) s->r->schedule(std::exchange(p->waiter, {}));
}

struct response_awaiter {
    std::shared_ptr<connection::state> s;
    std::shared_ptr<pending> p;
    std::stop_token stop;
    struct on_stop {
        response_awaiter* a;
        void operator()() const noexcept {
            auto* self = a;
            auto cancel = [s = self->s, p = self->p] {
                if (p->out || p->abandoned) return;
                p->abandoned = true;
                p->deadline_stop.request_stop();
                p->out.emplace(std::make_error_code(std::errc::operation_canceled));
                if (p->waiter) s->r->schedule(std::exchange(p->waiter, {}));
            };
            if (self->s->r->on_owner_thread())
                cancel();
            else
                self->s->r->post(cancel);
        }
    };
    std::optional<std::stop_callback<on_stop>> cb;

    bool await_ready() const noexcept { return p->out.has_value(); }
    void await_suspend(std::coroutine_handle<> h) {
        p->waiter = h;
        if (stop.stop_possible()) cb.emplace(stop, on_stop{this});
    }
    result<k> await_resume() {
        cb.reset();
        return std::move(*p->out);
    }
};

}  // namespace

connection& connection::operator=(connection&& o) noexcept {
    if (this != &o) {
        close();
        s_ = std::move(o.s_);
    }
    return *this;
}

connection::~connection() { close(); }

connection connection::start(std::unique_ptr<session_base> sess, std::size_t max_inbox) {
    auto s = std::make_shared<state>(std::move(sess));
    s->max_inbox = max_inbox;
    reactor::current()->spawn(read_loop(s));
    return connection(std::move(s));
}

task<result<connection>> connection::connect_tcp(std::string host, std::uint16_t port, connection_options o) {
    auto s = co_await qwire::connect_tcp(std::move(host), port, {clock::now() + o.handshake_timeout});
    if (!s) co_return s.error();
    co_return co_await open(std::move(*s), std::move(o));
}

task<result<connection>> connection::connect_unix(std::uint16_t port, connection_options o) {
    co_return co_await connect_unix_path(unix_socket_name(port), std::move(o));
}

task<result<connection>> connection::connect_unix_path(std::string path, connection_options o) {
    auto s = co_await qwire::connect_unix(path, {clock::now() + o.handshake_timeout});
    if (!s) co_return s.error();
    co_return co_await open(std::move(*s), std::move(o));
}

task<result<connection>> connection::connect_tls(std::string host, std::uint16_t port, const tls_context& ctx,
                                                 connection_options o) {
    const op_options deadline{clock::now() + o.handshake_timeout};
    auto s = co_await qwire::connect_tcp(host, port, deadline);
    if (!s) co_return s.error();
    auto t = co_await tls_stream<socket_stream>::connect(std::move(*s), ctx, host, deadline);
    if (!t) co_return t.error();
    co_return co_await open(std::move(*t), std::move(o));
}

task<result<k>> connection::query(k request, op_options o) {
    auto s = s_;
    if (!s) co_return errc::connection_closed;
    if (s->closed) co_return s->failure;
    auto p = std::allocate_shared<pending>(qwire::detail::pool_allocator<pending>());
    if (o.deadline) p->deadline_stop = std::stop_source();
    if (auto room = co_await s->sess.wait_for_room(); !room) {
        s->fail(room.error());
        co_return s->failure;
    }
    // The waiter joins the queue with its request, in the same order: the
    // response may come back before this coroutine runs again.
    if (auto e = s->sess.enqueue(request, msg_type::sync); !e) co_return e.error();  // nothing queued
    s->pending_queries.push_back(p);
    if (auto w = co_await s->sess.send(o); !w) {
        s->fail(w.error());
        co_return s->failure;
    }
    if (o.deadline) s->r->spawn(expire(s, p, *o.deadline));
    // Named: g++ 12 destroys aggregate temporaries in co_await twice.
    response_awaiter wait{s, p, o.stop, std::nullopt};
    co_return co_await wait;
}

task<result<void>> connection::send_async(k message, op_options o) {
    auto s = s_;
    if (!s) co_return errc::connection_closed;
    if (s->closed) co_return s->failure;
    co_return co_await s->sess.write_message(message, msg_type::async, std::move(o));
}

namespace {

// Wakes a receive() waiting past its deadline, unless it was stopped first
// (a message came): the receiver handle is then someone else's.
task<void> receive_timer(std::shared_ptr<connection::state> s, clock::time_point deadline, std::stop_token stop) {
    auto slept = co_await sleep_until(deadline, stop);
    if (!slept || stop.stop_requested()) co_return;
    s->wake_receiver();
}

}  // namespace

task<result<message>> connection::receive(op_options o) {
    auto s = s_;
    if (!s) co_return errc::connection_closed;
    struct inbox_awaiter {
        connection::state& s;
        bool await_ready() const noexcept { return !s.inbox.empty() || s.closed; }
        void await_suspend(std::coroutine_handle<> h) noexcept { s.receiver = h; }
        void await_resume() const noexcept {}
    };
    while (s->inbox.empty()) {
        if (s->closed) co_return s->failure;
        if (s->receiver) co_return qwire::errc::invalid_argument;  // one receiver at a time
        if (o.stop.stop_requested()) co_return std::make_error_code(std::errc::operation_canceled);
        if (o.deadline && clock::now() >= *o.deadline) co_return std::make_error_code(std::errc::timed_out);
        std::optional<std::stop_source> timer;
        if (o.deadline) {
            timer.emplace();
            s->r->spawn(receive_timer(s, *o.deadline, timer->get_token()));
        }
        // A stop wakes the receiver (on the reactor's thread) to see it.
        auto on_stop = [s] {
            if (s->r->on_owner_thread()) s->wake_receiver();
            else s->r->post([s] { s->wake_receiver(); });
        };
        std::optional<std::stop_callback<decltype(on_stop)>> cb;
        if (o.stop.stop_possible()) cb.emplace(o.stop, on_stop);
        if (!o.stop.stop_requested()) co_await inbox_awaiter{*s};
        cb.reset();
        if (timer) timer->request_stop();
    }
    message m = std::move(s->inbox.front());
    s->inbox.pop_front();
    if (s->paused_reader) s->r->schedule(std::exchange(s->paused_reader, {}));
    co_return m;
}

void connection::set_sync_handler(std::function<result<k>(const k&)> handler) {
    if (s_) s_->sync_handler = std::move(handler);
}

void connection::set_request_handler(std::function<task<result<k>>(k)> handler) {
    if (s_) s_->request_handler = std::move(handler);
}

void connection::close() {
    if (s_) {
        s_->fail(make_error_code(errc::connection_closed));
        s_.reset();
    }
}

bool connection::is_open() const noexcept { return s_ && !s_->closed; }
int connection::capability() const noexcept { return s_ ? s_->sess.capability() : 0; }
std::size_t connection::outstanding() const noexcept { return s_ ? s_->pending_queries.size() : 0; }
std::size_t connection::waiting_messages() const noexcept { return s_ ? s_->inbox.size() : 0; }

}  // namespace qwire::kdb
