// QWP ingestion over WebSocket: the connect string, the ack-pipelining
// stage and the sender.
//
//     auto s = co_await qwp::sender::connect("ws::addr=127.0.0.1:9000;");
//     co_await s->flush(chunk);            // deferred frame; returns once written
//     co_await s->flush(rows);             // (a row_buffer, cleared on success)
//     co_await s->sync();                  // commit frame; waits for the OK
//
// pipeline is the stage over the WebSocket framer: it numbers frames as the
// server does (0, 1, 2, ... per connection), keeps every frame until an OK
// covers a commit after it, bounds what is in flight (128 frames by default,
// and a byte budget), and reads the server's responses concurrently.
//
// sender adds encoding, the server's batch cap (a chunk too large for one
// frame goes as several deferred frames), reconnects on retriable errors
// with replay of the unacknowledged frames (after re-registering the symbol
// dictionary), and several addresses.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qwire::qwp {

// What QuestDB's connect string configures (keys as in QuestDB's clients):
//   ws::addr=host:port[,host:port];username=..;password=..;token=..;
//   tls_verify=on|unsafe_off;tls_roots=FILE;connect_timeout=MS;
//   auth_timeout_ms=MS;in_flight_window=N;max_in_flight_bytes=N;
//   request_durable_ack=on|off;client_id=..;gorilla=on|off;
//   max_symbols=N;first_frame_commits=on|off;max_batch_bytes=N;
//   reconnect_initial_backoff_millis / reconnect_max_backoff_millis /
//   reconnect_max_duration_millis=MS; pool_size=N;pool_max=N;
//   pool_idle_timeout_ms=MS (sender_pool); initial_credit=BYTES;
//   max_batch_rows=N (reader);
// `wss::` selects TLS. Egress keys are accepted and ignored so one
// string serves both directions; other keys are errors.
struct config {
    bool tls = false;
    struct address {
        std::string host;
        std::uint16_t port = 9000;
    };
    std::vector<address> addrs;
    std::string username, password, token;
    bool tls_verify = true;
    std::string tls_roots;
    std::chrono::milliseconds connect_timeout{0};  // 0: the OS's
    std::chrono::milliseconds auth_timeout{15000};
    std::size_t in_flight_window = 128;
    std::size_t max_in_flight_bytes = 256 << 20;
    bool request_durable_ack = false;
    std::string client_id = "qwire/0.1";
    bool gorilla = false;
    std::size_t max_symbols = default_symbol_cap;
    bool first_frame_commits = true;
    std::size_t max_batch_bytes = 0;  // 0: 90% of what the server advertises
    std::chrono::milliseconds reconnect_initial_backoff{100};
    std::chrono::milliseconds reconnect_max_backoff{5000};
    std::chrono::milliseconds reconnect_max_duration{300000};
    // sender_pool: connections kept open, the most open, idle time before
    // an idle connection is closed (pool_size, pool_max, pool_idle_timeout_ms).
    std::size_t pool_size = 1;
    std::size_t pool_max = 8;
    std::chrono::milliseconds pool_idle_timeout{60000};
    // reader (egress): bytes the server may send before the reader grants
    // more (0: unbounded), rows per batch (0: the server's choice).
    std::uint64_t initial_credit = 0;
    std::size_t max_batch_rows = 0;

    // Parses a connect string; *why (if given) says what was wrong.
    static result<config> parse(std::string_view text, std::string* why = nullptr);
};

enum class ack_level { ok, durable };

// What the upgrade told us.
struct server_info {
    std::size_t max_batch_size = 2097138;  // X-QWP-Max-Batch-Size
    bool durable_ack = false;
    std::string role;
};

// Opens the byte stream a QWP connection runs over, for a sender whose
// transport is not TCP (or TLS over TCP) to a config address: a Unix socket,
// a stream the caller set up, the in-memory pipe. Called for the first
// connection and for every reconnect.
using stream_factory = std::function<task<result<any_stream>>(op_options)>;

// Opens a QWP WebSocket on `path`: TCP (or TLS), the upgrade with auth and
// X-QWP-Max-Version, the answer classified (401/403 unauthorized, 400/426
// bad_request, 404 no_qwp_endpoint, other non-101 handshake_rejected).
task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, const config::address& a,
                                                                          std::string path, http::headers extra,
                                                                          op_options o = {});
// The same upgrade over a stream already open (host: the Host header).
task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, any_stream s, std::string host,
                                                                          std::string path, http::headers extra,
                                                                          op_options o = {});
// Opens one QWP ingress WebSocket: TCP (or TLS), upgrade, QWP headers; or,
// with a factory, the upgrade over the stream it opens.
task<result<std::pair<ws::stream<any_stream>, server_info>>> open_ingress(const config& c, const config::address& a,
                                                                           op_options o = {},
                                                                           const stream_factory* factory = nullptr);

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

// A pool of connected senders for services with many producers:
//
//     qwp::sender_pool pool(cfg);
//     auto s = co_await pool.borrow();     // an idle sender, a new one, or wait
//     co_await (*s)->flush(chunk);
//     co_await (*s)->sync();               // returned to the pool with the lease
//
// At most pool_max senders exist; pool_size of them are kept when idle,
// others are closed after pool_idle_timeout. A sender that must close is
// never handed out again.
class sender_pool {
public:
    struct state;

    explicit sender_pool(config c);
    static result<sender_pool> from_conf(std::string_view conf, std::string* why = nullptr);
    sender_pool(sender_pool&&) noexcept;
    sender_pool& operator=(sender_pool&&) noexcept;
    ~sender_pool();

    class lease {
    public:
        lease(lease&& o) noexcept : pool_(std::move(o.pool_)), s_(std::move(o.s_)) {}
        lease& operator=(lease&&) = delete;
        ~lease();
        sender* operator->() noexcept { return s_.get(); }
        sender& operator*() noexcept { return *s_; }

    private:
        friend class sender_pool;
        lease(std::shared_ptr<state> p, std::unique_ptr<sender> s) : pool_(std::move(p)), s_(std::move(s)) {}
        std::shared_ptr<state> pool_;
        std::unique_ptr<sender> s_;
    };

    // An idle sender, else a new connection while fewer than pool_max
    // exist, else waits for a return (o: stop token / deadline).
    task<result<lease>> borrow(op_options o = {});

    std::size_t idle() const noexcept;
    std::size_t open() const noexcept;  // idle + lent
    // Closes idle senders past the idle timeout (beyond pool_size).
    void reap();

private:
    std::shared_ptr<state> s_;
};

}  // namespace qwire::qwp
