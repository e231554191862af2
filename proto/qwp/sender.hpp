// QWP ingestion over WebSocket: the sender.
//
//     auto s = co_await qwp::sender::connect("ws::addr=127.0.0.1:9000;");
//     co_await s->flush(chunk);            // deferred frame; returns once written
//     co_await s->flush(rows);             // (a row_buffer, cleared on success)
//     co_await s->sync();                  // commit frame; waits for the OK
//
// sender adds encoding to the pipeline (pipeline.hpp), the server's batch
// cap (a chunk too large for one frame goes as several deferred frames),
// reconnects on retriable errors with replay of the unacknowledged frames
// (after re-registering the symbol dictionary), and several addresses. The
// connect string is config.hpp's, the connection connect.hpp's, the pool of
// senders sender_pool.hpp's.
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/proto/qwp/config.hpp>
#include <qwire/proto/qwp/connect.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/qwp/pipeline.hpp>

#include <memory>
#include <string>

namespace qwire::qwp {

// Delivery: every row a flush or sync reported as sent reaches the server
// at least once. Frames are kept until an OK covers them and are replayed on
// a new connection, within reconnect_max_duration_millis; what cannot be
// delivered in that time is an error, never a success. An OK lost with its
// connection means the frames it covered are sent again: after reconnects
// the server may hold a row twice. For exactly once, give the table QuestDB
// DEDUP UPSERT KEYS (a designated timestamp plus the columns that identify a
// row), which makes the replayed rows overwrite themselves.
class sender {
public:
    sender(sender&&) noexcept;
    sender& operator=(sender&&) noexcept;
    ~sender();

    static task<result<sender>> connect(std::string_view conf, op_options o = {});
    static task<result<sender>> connect(config c, op_options o = {});
    // Over streams the factory opens (a Unix socket, the pipe, TLS the
    // caller configured) instead of TCP to c.addrs; c's other keys apply
    // (c.addrs[0] names the Host header).
    static task<result<sender>> connect(config c, stream_factory factory, op_options o = {});

    // Sends the rows as deferred frames (a commit frame if the window would
    // otherwise fill with uncommitted frames); returns once written.
    task<result<void>> flush(const chunk& c, op_options o = {});
    task<result<void>> flush(std::span<const chunk> chunks, op_options o = {});
    // Flushes and clears the buffer.
    task<result<void>> flush(row_buffer& rows, op_options o = {});
    // Commits everything flushed and waits for the server's acknowledgement.
    task<result<void>> sync(ack_level level = ack_level::ok, op_options o = {});
    // Syncs, then closes the connection cleanly.
    task<result<void>> close(op_options o = {});

    const server_info& server() const noexcept;
    const config& conf() const noexcept;
    // A sender whose connection failed terminally is never usable again.
    bool must_close() const noexcept;
    std::error_code last_error() const noexcept;
    // The server's message for the last error status, if it sent one.
    const std::string& last_error_text() const noexcept;
    struct stats {
        std::uint64_t frames = 0;
        std::uint64_t bytes = 0;
        std::uint64_t reconnects = 0;
        std::uint64_t replayed_frames = 0;
    };
    const stats& counters() const noexcept;
    std::size_t in_flight() const noexcept;

    struct impl;

private:
    explicit sender(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

}  // namespace qwire::qwp
