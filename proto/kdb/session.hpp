// The part of a kdb+ connection both ends share: reading whole messages from
// the transport, a send queue, and the compression policy.
//
// Writers encode into the queue; the first one finds nobody sending and
// sends, and keeps sending whatever others queued meanwhile, so pipelined
// messages leave in one write instead of one each. A writer that finds the
// queue over its high-water mark waits for room.
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

class session {
public:
    session(transport t, int capability, compression c, limits lim)
        : io_(std::move(t)), capability_(capability), lim_(lim) {
        compress_ = c == compression::always || (c == compression::auto_ && !io_.local());
    }

    // The next whole message, decompressed and decoded.
    task<result<message>> read_message(op_options o = {});
    // Queues one message and sends the queue unless someone already is.
    // Messages leave in the order they were queued.
    task<result<void>> write_message(const k& x, msg_type t, op_options o = {});
    // Writes an error response ('text).
    task<result<void>> write_error(std::string_view text, op_options o = {});

    // The same in steps, for a caller that must note something between
    // getting room and queueing (the client queues a response waiter):
    // wait_for_room(), then enqueue() (nothing suspends between them), then
    // send().
    task<result<void>> wait_for_room() { return wait_for_room(high_water); }
    // Waits while more than `bound` bytes are queued or being sent.
    task<result<void>> wait_for_room(std::size_t bound);
    result<void> enqueue(const k& x, msg_type t);
    task<result<void>> send(op_options o = {});

    static constexpr std::size_t high_water = 4 << 20;

    // Encoded bytes queued or being written.
    std::size_t queued_bytes() const noexcept { return queue_.size() + sending_.size(); }
    // Whether a send() is under way (it takes whatever is queued meanwhile).
    bool sending() const noexcept { return sending_now_; }

    // Deadlines for read_message(): `idle` to wait for the first byte of a
    // message, `message` for the rest of it once it has begun. Zero: none.
    void set_read_timeouts(clock::duration idle, clock::duration message) noexcept {
        idle_timeout_ = idle;
        message_timeout_ = message;
    }

    // Whether a whole message is already buffered: a server answering a
    // pipeline sends its responses once the buffered requests are done.
    bool message_buffered() const;
    // The type of the last message whose header read_message() parsed (so a
    // server can answer a sync request it refused as too large).
    msg_type last_type() const noexcept { return last_type_; }

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
    byte_buffer queue_;    // encoded, waiting to be sent
    byte_buffer sending_;  // being sent
    bool sending_now_ = false;
    std::error_code write_failure_;
    clock::duration idle_timeout_{0}, message_timeout_{0};
    msg_type last_type_ = msg_type::async;
    std::deque<std::coroutine_handle<>> room_waiters_;
};

}  // namespace detail
}  // namespace qwire::kdb
