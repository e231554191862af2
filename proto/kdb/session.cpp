#include <qwire/proto/kdb/session.hpp>

#include <cstring>

namespace qwire::kdb {

namespace {
// Buffers grown past this by one large message are given back once empty,
// so an idle connection does not pin the memory of its largest message.
constexpr std::size_t keep_capacity = 1 << 20;
constexpr std::size_t read_chunk = 64 * 1024;

void release_if_large(byte_buffer& b) {
    if (b.empty() && b.capacity() > keep_capacity) b = byte_buffer();
}

op_options with_deadline(const op_options& o, std::optional<clock::time_point> d) { return d ? o.cut_to(*d) : o; }

struct room_awaiter {
    std::vector<std::coroutine_handle<>>& waiters;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiters.push_back(h); }
    void await_resume() const noexcept {}
};
}  // namespace

// ---- reading ----

// The idle deadline covers the wait for a message's first byte; once it has
// begun, the message deadline covers the rest (a peer that trickles a
// message, or stops halfway, is cut off).
op_options session_base::next_read_options(reading& r) {
    if (rbuf_.empty()) {
        if (idle_timeout_.count() > 0) return with_deadline(r.base, clock::now() + idle_timeout_);
        return r.base;
    }
    if (message_timeout_.count() > 0 && !r.message_deadline) r.message_deadline = clock::now() + message_timeout_;
    return with_deadline(r.base, r.message_deadline);
}

std::span<std::byte> session_base::read_space(std::size_t want) { return rbuf_.prepare(std::max(read_chunk, want)); }

result<std::size_t> session_base::bytes_missing() {
    if (rbuf_.size() < header_size) return header_size - rbuf_.size();
    auto h = parse_header(rbuf_.data());
    if (!h) return h.error();
    last_type_ = h->type;
    if (h->length > lim_.max_message_bytes) return make_error_code(errc::too_large);
    message_length_ = static_cast<std::size_t>(h->length);
    return message_length_ > rbuf_.size() ? message_length_ - rbuf_.size() : 0;
}

result<message> session_base::take_message() {
    const std::size_t len = message_length_;
    auto m = decode_message(rbuf_.data().first(len), lim_);
    rbuf_.consume(len);
    release_if_large(rbuf_);
    return m;
}

bool session_base::message_buffered() const {
    auto h = parse_header(rbuf_.data());
    return h && rbuf_.size() >= h->length;
}

// ---- writing ----

void session_base::wake_room_waiters() {
    if (room_waiters_.empty()) return;
    waking_.swap(room_waiters_);
    for (auto h : waking_) reactor::current()->schedule(h);
    waking_.clear();
}

task<result<void>> session_base::wait_for_room(std::size_t bound) {
    while (!write_failure_ && sending_now_ && queued_bytes() >= bound) co_await room_awaiter{room_waiters_};
    if (write_failure_) co_return write_failure_;
    co_return result<void>{};
}

result<void> session_base::enqueue(const k& x, msg_type t) {
    if (write_failure_) return write_failure_;
    return encode_message(x, t, queue_, compresses(), capability_);
}

std::span<const std::byte> session_base::start_batch() {
    if (queue_.empty()) return {};
    sending_.swap(queue_);
    wake_room_waiters();
    return sending_.data();
}

void session_base::batch_written() {
    sending_.clear();
    release_if_large(sending_);
    // Bytes left the queue: waiters for a bound over queued_bytes() may go.
    wake_room_waiters();
}

void session_base::end_sending(const result<void>& r) {
    sending_now_ = false;
    if (!r) {
        write_failure_ = r.error();
        wake_room_waiters();
    }
}

task<result<void>> session_base::write_message(const k& x, msg_type t, op_options o) {
    if (auto room = co_await wait_for_room(); !room) co_return room;
    if (auto e = enqueue(x, t); !e) co_return e;
    co_return co_await send(std::move(o));
}

task<result<void>> session_base::write_error(std::string_view text, op_options o) {
    co_return co_await write_message(new_error(text), msg_type::response, std::move(o));
}

}  // namespace qwire::kdb
