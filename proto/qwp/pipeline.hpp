// pipeline: the ack-pipelining stage over the WebSocket framer. It numbers
// frames as the server does (0, 1, 2, ... per connection), keeps every frame
// until an OK covers a commit after it, bounds what is in flight (128 frames
// by default, and a byte budget), and reads the server's responses
// concurrently.
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace qwire::qwp {

enum class ack_level { ok, durable };

class pipeline {
public:
    struct options {
        std::size_t window = 128;
        std::size_t max_bytes = 256 << 20;
        bool durable = false;
    };
    pipeline(ws::stream<any_stream> ws, options o);
    ~pipeline();
    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    // Sends one finished message (the builder's pieces) as the next frame;
    // returns its wire sequence once it is written. Waits while the window
    // is full. `deferred`: the message carries FLAG_DEFER_COMMIT. One slot
    // of the window is kept for a commit frame; when the rest is full of
    // deferred frames, the message goes as a commit (flag cleared) instead
    // of waiting for acknowledgements that would never come.
    struct sent {
        std::int64_t seq;
        bool deferred;
    };
    task<result<sent>> send(std::span<const const_buffer> message, bool deferred, op_options o = {});
    // Sends a deferred frame that a new connection would not replay (the
    // symbol dictionary's catch-up, which every connection sends afresh).
    task<result<sent>> send_control(std::span<const const_buffer> message, op_options o = {});
    // Sends frames kept from an earlier connection, renumbered, taking each
    // from the front of `frames` once it is written: on failure, `frames`
    // holds exactly those still to send.
    task<result<void>> replay(std::deque<std::pair<std::vector<std::byte>, bool>>& frames, op_options o = {});
    // Waits until an OK covers sequence seq (and, for durable, a durable ack
    // covers the tables it committed).
    task<result<void>> wait_acked(std::int64_t seq, ack_level level, op_options o = {});

    // The frames not yet covered by an OK after a commit, oldest first, as
    // unmasked messages with their defer flag: what a new connection must
    // replay (control frames left out). Leaves the pipeline empty.
    std::deque<std::pair<std::vector<std::byte>, bool>> take_unacked();

    std::size_t in_flight() const noexcept;
    std::int64_t next_sequence() const noexcept;
    std::int64_t acked() const noexcept;
    // The error that broke the connection, if any (then must_close()).
    std::error_code failure() const noexcept;
    bool must_close() const noexcept { return static_cast<bool>(failure()); }
    // The server's text for an error status.
    const std::string& failure_text() const noexcept;
    bool all_deferred_in_flight() const noexcept;

    // Sends CLOSE after everything is acknowledged.
    task<result<void>> close(op_options o = {});

    struct state;

private:
    task<result<sent>> send_frame(std::span<const const_buffer> message, bool deferred, bool replayable, op_options o);
    std::shared_ptr<state> s_;
};

}  // namespace qwire::qwp
