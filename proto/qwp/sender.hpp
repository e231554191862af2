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

#include <concepts>
#include <memory>
#include <string>
#include <type_traits>

namespace qwire::qwp {

namespace detail {
template <class T>
struct task_of_stream : std::false_type {};
template <byte_stream S>
struct task_of_stream<task<result<S>>> : std::true_type {};
// F opens a stream: f(op_options) returns task<result<S>>, S a byte_stream.
template <class F>
concept opens_stream = std::invocable<F&, op_options> && task_of_stream<std::invoke_result_t<F&, op_options>>::value;
}  // namespace detail

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
    // Over streams the factory opens instead of TCP to c.addrs: a callable
    // taking op_options and returning task<result<S>> for any byte_stream S
    // (a Unix socket, TLS the caller configured, the in-memory pipe; a
    // stream_factory for an any_stream). Called for every connection; c's
    // other keys apply (the address names the Host header). The stack is
    // compiled for S: nothing between the pipeline and S is type-erased.
    template <class F>
        requires detail::opens_stream<F>
    static task<result<sender>> connect(config c, F factory, op_options o = {}) {
        return connect_with(
            std::move(c),
            [f = std::move(factory)](const config& cfg, const config::address& a, op_options oo) mutable {
                return open_over(f, cfg, detail::host_header(a), std::move(oo));
            },
            std::move(o));
    }
    // Over connections the connector opens (each upgraded and with its
    // pipeline; an empty connector: TCP or TLS to the config's addresses).
    static task<result<sender>> connect_with(config c, ingress_connector connector, op_options o = {});

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
    // The last error, with its detail (the server's text for an error
    // status).
    const error& last_error() const noexcept;
    struct stats {
        std::uint64_t frames = 0;
        std::uint64_t bytes = 0;
        std::uint64_t reconnects = 0;
        std::uint64_t replayed_frames = 0;
        std::uint64_t recovered_frames = 0;  // read back from sf_dir at connect
        std::uint64_t recovered_cut_bytes = 0;  // a torn tail cut off there
    };
    const stats& counters() const noexcept;
    std::size_t in_flight() const noexcept;
    // Frames in the sf_dir queue not yet covered by an OK (0 without sf_dir).
    std::size_t stored_frames() const noexcept;

    struct impl;

private:
    template <class F>
    static task<result<ingress>> open_over(F& factory, const config& c, std::string host, op_options o) {
        auto s = co_await factory(o);
        if (!s) co_return s.error();
        co_return co_await open_ingress(c, std::move(*s), std::move(host), o);
    }
    explicit sender(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

}  // namespace qwire::qwp
