#include <qwire/proto/kdb/session.hpp>

#include <cstring>

namespace qwire::kdb::detail {

namespace {
// Buffers grown past this by one large message are given back once empty,
// so an idle connection does not pin the memory of its largest message.
constexpr std::size_t keep_capacity = 1 << 20;

void release_if_large(byte_buffer& b) {
    if (b.empty() && b.capacity() > keep_capacity) b = byte_buffer();
}

op_options with_deadline(op_options o, std::optional<clock::time_point> d) {
    if (d) o.deadline = o.deadline ? std::min(*o.deadline, *d) : *d;
    return o;
}
}  // namespace

task<result<message>> session::read_message(op_options o) {
    constexpr std::size_t chunk = 64 * 1024;
    // The idle deadline covers the wait for a message's first byte; once it
    // has begun, the message deadline covers the rest (a peer that trickles a
    // message, or stops halfway, is cut off).
    std::optional<clock::time_point> message_deadline;
    auto read_options = [&]() {
        if (rbuf_.empty()) {
            if (idle_timeout_.count() > 0) return with_deadline(o, clock::now() + idle_timeout_);
            return o;
        }
        if (message_timeout_.count() > 0 && !message_deadline) message_deadline = clock::now() + message_timeout_;
        return with_deadline(o, message_deadline);
    };
    // Header first; then the rest of the message, which may already be here.
    while (rbuf_.size() < header_size) {
        auto n = co_await io_.read_some(rbuf_.prepare(chunk), read_options());
        if (!n) co_return n.error();
        rbuf_.commit(*n);
    }
    auto h = parse_header(rbuf_.data());
    if (!h) co_return h.error();
    last_type_ = h->type;
    if (h->length > lim_.max_message_bytes) co_return errc::too_large;
    const auto len = static_cast<std::size_t>(h->length);
    while (rbuf_.size() < len) {
        auto n = co_await io_.read_some(rbuf_.prepare(std::max(chunk, len - rbuf_.size())), read_options());
        if (!n) co_return n.error();
        rbuf_.commit(*n);
    }
    auto m = decode_message(rbuf_.data().first(len), lim_);
    rbuf_.consume(len);
    release_if_large(rbuf_);
    co_return m;
}

namespace {
struct room_awaiter {
    std::deque<std::coroutine_handle<>>& waiters;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiters.push_back(h); }
    void await_resume() const noexcept {}
};
}  // namespace

task<result<void>> session::wait_for_room(std::size_t bound) {
    while (!write_failure_ && sending_now_ && queued_bytes() >= bound) co_await room_awaiter{room_waiters_};
    if (write_failure_) co_return write_failure_;
    co_return result<void>{};
}

result<void> session::enqueue(const k& x, msg_type t) {
    if (write_failure_) return write_failure_;
    return encode_message(x, t, queue_, compresses(), capability_);
}

task<result<void>> session::send(op_options o) {
    if (sending_now_) co_return result<void>{};  // the sender in charge takes ours too
    sending_now_ = true;
    result<void> r;
    while (r && !queue_.empty()) {
        sending_.swap(queue_);
        for (auto h : std::exchange(room_waiters_, {})) reactor::current()->schedule(h);
        const const_buffer piece = buffer(std::span<const std::byte>(sending_.data()));
        r = co_await io_.write_all(std::span(&piece, 1), o);
        sending_.clear();
        release_if_large(sending_);
        // Bytes left the queue: waiters for a bound over queued_bytes() may go.
        for (auto h : std::exchange(room_waiters_, {})) reactor::current()->schedule(h);
    }
    sending_now_ = false;
    if (!r) {
        write_failure_ = r.error();
        for (auto h : std::exchange(room_waiters_, {})) reactor::current()->schedule(h);
    }
    co_return r;
}

task<result<void>> session::write_message(const k& x, msg_type t, op_options o) {
    if (auto room = co_await wait_for_room(); !room) co_return room;
    if (auto e = enqueue(x, t); !e) co_return e;
    co_return co_await send(std::move(o));
}

bool session::message_buffered() const {
    auto h = parse_header(rbuf_.data());
    return h && rbuf_.size() >= h->length;
}

task<result<void>> session::write_error(std::string_view text, op_options o) {
    co_return co_await write_message(new_error(text), msg_type::response, std::move(o));
}

}  // namespace qwire::kdb::detail
