#include <qwire/proto/kdb/server.hpp>

#include <qwire/core/log.hpp>

namespace qwire::kdb {

struct peer_state {
    std::unique_ptr<session_base> sess_;
    session_base& sess;
    std::uint64_t id;
    std::string user;
    std::string address;
    std::size_t max_queue;
    slow_peer_policy policy;
    const server* owner;
    bool closed = false;
    bool deferring = false;        // set by defer() during on_sync
    bool flush_scheduled = false;  // a flush_later is waiting to run
    unsigned deferred_open = 0;    // deferred responses not yet sent

    peer_state(std::unique_ptr<session_base> s, const server_options& o, std::uint64_t i, std::string u, std::string a,
               const server* srv)
        : sess_(std::move(s)),
          sess(*sess_),
          id(i),
          user(std::move(u)),
          address(std::move(a)),
          max_queue(o.max_send_queue_bytes),
          policy(o.slow_peer),
          owner(srv) {
        sess.set_read_timeouts(o.idle_timeout, o.read_timeout);
    }
};

namespace {

task<void> flush_later(std::shared_ptr<peer_state> p) {
    p->flush_scheduled = false;
    // Named result: g++ 12 miscompiles `if (!co_await ...)` in some
    // coroutines (a trap on resumption).
    auto sent = co_await p->sess.send();
    if (!sent) peer(p).close();
}

// Sends what is queued from a task of its own, so the caller never waits
// for this peer's socket.
void schedule_flush(const std::shared_ptr<peer_state>& p) {
    if (p->flush_scheduled || p->sess.sending()) return;  // whoever is sending takes it
    p->flush_scheduled = true;
    reactor::current()->spawn(flush_later(p));
}

std::string duration_text(clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Why a connection ended, for the log; empty when the client just left.
std::string close_reason(std::error_code ec, const server_options& o) {
    if (is_disconnect(ec)) return {};
    if (ec == std::errc::timed_out)
        return "closed: no message for " + duration_text(o.idle_timeout) + " (idle_timeout), or a message unfinished after " +
               duration_text(o.read_timeout) + " (read_timeout)";
    if (ec == errc::too_large)
        return "closed: message over the limit (max_message_bytes " + std::to_string(o.lim.max_message_bytes) +
               ", max_decoded_bytes " + std::to_string(o.lim.max_decoded_bytes) + ")";
    return "closed: " + ec.message();
}

}  // namespace

// ---- handshake ----

login_request detail::parse_login(std::string got) {
    login_request req;
    // A capability byte is a control character right before the NUL;
    // pre-2.6 clients send none.
    if (got.size() >= 1 && static_cast<unsigned char>(got.back()) < 0x20) {
        req.capability = static_cast<unsigned char>(got.back());
        got.pop_back();
    }
    const auto colon = got.find(':');
    req.user = got.substr(0, colon);
    if (colon != std::string::npos) req.password = got.substr(colon + 1);
    return req;
}

// ---- deferred responses and peers ----

namespace {
task<result<void>> send_deferred(std::shared_ptr<peer_state> p, k value, bool error) {
    if (!p->deferred_open) co_return errc::unexpected_message;  // "not expecting a response"
    --p->deferred_open;
    if (error) co_return co_await p->sess.write_error(value.error_text());
    co_return co_await p->sess.write_message(value, msg_type::response);
}
}  // namespace

task<result<void>> deferred_response::reply(k value) {
    if (!p_) co_return errc::unexpected_message;
    co_return co_await send_deferred(std::exchange(p_, nullptr), std::move(value), false);
}

task<result<void>> deferred_response::fail(std::string_view error_text) {
    if (!p_) co_return errc::unexpected_message;
    co_return co_await send_deferred(std::exchange(p_, nullptr), new_error(error_text), true);
}

std::uint64_t peer::id() const noexcept { return s_->id; }
const std::string& peer::user() const noexcept { return s_->user; }
int peer::capability() const noexcept { return s_->sess.capability(); }
bool peer::is_open() const noexcept { return !s_->closed; }

const std::string& peer::address() const noexcept { return s_->address; }

task<result<void>> peer::send_async(k message) {
    auto s = s_;
    if (s->closed) co_return errc::connection_closed;
    if (s->policy == slow_peer_policy::block) {
        auto room = co_await s->sess.wait_for_room(s->max_queue);
        if (!room) co_return room;
        if (s->closed) co_return errc::connection_closed;
    }
    if (auto e = s->sess.enqueue(message, msg_type::async); !e) co_return e;
    if (s->policy == slow_peer_policy::disconnect && s->sess.queued_bytes() > s->max_queue) {
        s->owner->log(s->address, "closed: slow consumer, " + std::to_string(s->sess.queued_bytes()) +
                                      " bytes queued (max_send_queue_bytes " + std::to_string(s->max_queue) + ")");
        peer(s).close();
        co_return errc::slow_consumer;
    }
    schedule_flush(s);
    co_return result<void>{};
}

deferred_response peer::defer() {
    s_->deferring = true;
    ++s_->deferred_open;
    return deferred_response(s_);
}

void peer::close() {
    if (!s_->closed) {
        s_->closed = true;
        s_->sess.shutdown();
    }
}

// ---- server ----

server::server(server_options o) : o_(o) {
    sync_ = [](peer&, k) -> task<result<k>> { co_return remote_error("nyi: this server answers no sync requests"); };
    async_ = [](peer&, k) -> task<void> { co_return; };
}

server::~server() { close_all(); }

std::vector<peer> server::peers() const {
    std::vector<peer> out;
    for (auto& [id, p] : peers_)
        if (!p->closed) out.emplace_back(p);
    return out;
}

void server::close_all() {
    for (auto& [id, p] : peers_) peer(p).close();
}

void server::log(std::string_view peer_address, std::string_view what) const { log_peer(o_.log_name, peer_address, what); }

bool server::admit(const std::string& address) const {
    if (active_ < o_.max_connections) return true;
    log(address, "refused: " + std::to_string(active_) + " connections already (max_connections)");
    return false;
}

std::optional<int> server::agree(const result<login_request>& login, const std::string& peer_address) const {
    if (!login) {
        if (login.error() != qwire::errc::eof) log(peer_address, "refused: handshake failed (" + login.error().message() + ")");
        return std::nullopt;
    }
    if (login_ && !login_(login->user, login->password)) {
        log(peer_address, "refused: access denied for user '" + login->user + "'");
        return std::nullopt;
    }
    return std::min(login->capability, o_.capability);
}

task<void> server::run_peer(std::unique_ptr<session_base> sess, std::string user, std::string peer_address) {
    auto p = std::make_shared<peer_state>(std::move(sess), o_, next_id_++, std::move(user), std::move(peer_address), this);
    peers_.emplace(p->id, p);
    peer handle(p);
    if (open_) open_(handle);
    while (!p->closed) {
        auto m = co_await p->sess.read_message();
        if (!m) {
            // The client left, timed out, or sent something malformed: close.
            if (!p->closed)
                if (auto why = close_reason(m.error(), o_); !why.empty()) log(p->address, why);
            // A sync request over the limits gets kdb+'s 'limit before the
            // connection closes, so the client learns why.
            if (m.error() == errc::too_large && p->sess.last_type() == msg_type::sync && !p->closed) {
                auto told = co_await p->sess.write_error("limit");
                (void)told;
            }
            break;
        }
        if (m->type == msg_type::sync) {
            p->deferring = false;
            auto r = co_await sync_(handle, std::move(m->value));
            if (p->deferring) continue;  // answered later through deferred_response
            // Queue the response; send when no further request is waiting
            // in the buffer, so a pipeline is answered in few writes.
            if (auto room = co_await p->sess.wait_for_room(); !room) break;
            auto e = r ? p->sess.enqueue(*r, msg_type::response)
                       : p->sess.enqueue(new_error(signal_text(r.error())), msg_type::response);
            if (!e) e = p->sess.enqueue(new_error(signal_text(e.error())), msg_type::response);
            if (!e) break;
            if (!p->sess.message_buffered()) {
                auto sent = co_await p->sess.send();
                if (!sent) break;
            } else if (!p->flush_scheduled) {
                // More requests are buffered: answer them first and send the
                // responses together, but no later than when this loop next
                // suspends (a slow handler must not hold earlier answers).
                p->flush_scheduled = true;
                reactor::current()->spawn(flush_later(p));
            }
        } else if (m->type == msg_type::async) {
            co_await async_(handle, std::move(m->value));
            if (!p->sess.message_buffered()) {
                auto sent = co_await p->sess.send();  // responses queued before this message
                if (!sent) break;
            }
        } else {
            log(p->address, "closed: sent a response nobody asked for");
            break;
        }
    }
    p->closed = true;
    p->sess.shutdown();
    peers_.erase(p->id);
    if (close_) close_(handle);
}

task<void> server::serve(acceptor& a, std::stop_token st) {
    scope clients;
    while (!st.stop_requested()) {
        auto c = co_await a.accept({st});
        if (!c) break;
        std::string address = c->peer_address();
        if (!admit(address)) continue;  // the socket closes here
        clients.spawn(serve_connection(std::move(*c), std::move(address)));
    }
    close_all();
    co_await clients.join();
}

task<void> server::serve_tls(acceptor& a, const tls_context& ctx, std::stop_token st) {
    scope clients;
    while (!st.stop_requested()) {
        auto c = co_await a.accept({st});
        if (!c) break;
        std::string address = c->peer_address();
        if (!admit(address)) continue;
        clients.spawn([](server& self, socket_stream raw, const tls_context& ctx, std::string address) -> task<void> {
            ++self.active_;  // the TLS handshake counts as a connection
            auto t = co_await tls_stream<socket_stream>::accept(std::move(raw), ctx,
                                                                {clock::now() + self.o_.handshake_timeout});
            --self.active_;
            if (!t) {
                self.log(address, "refused: TLS handshake failed (" + t.error().message() + ")");
                co_return;
            }
            co_await self.serve_connection(std::move(*t), std::move(address));
        }(*this, std::move(*c), ctx, std::move(address)));
    }
    close_all();
    co_await clients.join();
}

}  // namespace qwire::kdb
