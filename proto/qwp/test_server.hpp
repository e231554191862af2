// A QWP ingress server for tests and benchmarks: what the spec's 5.8 lists.
//
// It accepts the upgrade on /write/v4 (and /api/v4/write) with QuestDB's
// checks (no Origin, optional Basic or Bearer auth), answers 101 with
// X-QWP-Version and X-QWP-Max-Batch-Size, decodes every frame with the
// connection's symbol dictionary, holds deferred frames' rows until a frame
// without FLAG_DEFER_COMMIT commits them, and answers with cumulative OKs
// (one per commit frame, covering the deferred frames before it) or an error
// for the failing frame, after which the connection's later frames are
// ignored, as QuestDB does. Column types are fixed by the first rows of a
// table; a different type later is SCHEMA_MISMATCH.
//
// Committed rows are recorded per table so tests can compare exactly, and
// passed to on_commit (the qwp_test_server program writes them as JSON
// lines).
#pragma once

#include <qwire/core/reactor.hpp>
#include <qwire/core/scope.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/io/socket_stream.hpp>
#include <qwire/io/socket.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace qwire::qwp {

struct test_server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port
    std::string unix_path;   // set: listen on this Unix socket (a path, or @name) instead of TCP
    std::size_t max_frame = 2 << 20;  // like http.recv.buffer.size
    std::size_t max_batch = (2 << 20) - 14;
    std::string username, password;  // Basic auth required when set
    std::string token;               // Bearer auth required when set
    bool durable_ack = false;        // offer durable acks (sent right after each OK)
    bool keep_rows = true;           // record committed rows (off for benchmarks)
    std::string tls_cert, tls_key;   // PEM files: serve wss (TLS) when set

    // Limits: what one client can make the server hold or wait for.
    // Decoded rows a connection may hold before they commit (its deferred
    // frames and the frame being decoded); a frame that would go past it is
    // answered PARSE_ERROR and the connection closed.
    std::uint64_t max_connection_bytes = std::uint64_t{128} << 20;
    // A connection that completes no message for this long is closed
    // (QuestDB's http.net.connection.timeout is 300 s). Zero: never.
    std::chrono::milliseconds idle_timeout{300'000};
    // The HTTP upgrade must arrive whole within this.
    std::chrono::milliseconds handshake_timeout{15'000};
    std::size_t max_connections = 256;  // more are closed at accept

    // Fault injection for chaos tests (0: off), from a seeded generator:
    // 1 in chaos_reset_one_in frames, the connection drops as the frame
    // arrives (unread: its uncommitted rows roll back); 1 in
    // chaos_lost_ok_one_in commits, the rows commit and the connection drops
    // before the OK goes out (the client must replay; rows may then repeat).
    unsigned chaos_reset_one_in = 0;
    // A slow server: each OK goes out this long after its commit (the
    // connection reads nothing meanwhile), for tests of slow consumers.
    std::chrono::milliseconds ack_delay{0};
    unsigned chaos_lost_ok_one_in = 0;
    std::uint64_t chaos_seed = 1;
    // Egress: the first N queries the server receives are answered by
    // dropping the connection (for reader failover tests).
    unsigned chaos_drop_queries = 0;
    // Egress: each query takes this long before its answer (a slow query);
    // one whose QUERY_FLAG_TIMEOUT is shorter ends with QUERY_ERROR
    // LIMIT_EXCEEDED "timeout, query aborted" after its timeout instead.
    std::chrono::milliseconds query_delay{0};
    // Egress: advertise CAP_QUERY_FLAGS and CAP_QUERY_TIMEOUT in SERVER_INFO.
    bool query_timeouts = true;
    // The node role it plays (SERVER_INFO's role byte, X-QuestDB-Role): a
    // REPLICA or PRIMARY_CATCHUP refuses ingest with HTTP 421, as
    // QuestDB's nodes do, and still answers queries.
    enum class node_role : std::uint8_t { standalone, primary, replica, primary_catchup };
    node_role role = node_role::standalone;
    // Egress compression: batches go out zstd-compressed when the reader
    // offers zstd in X-QWP-Accept-Encoding (level clamped to 1-9, as
    // QuestDB does); off: the server always answers raw.
    bool zstd = true;
};

class test_server {
public:
    struct table_data {
        std::vector<std::pair<std::string, type>> schema;  // column name -> type
        std::vector<decoded_table> blocks;                   // committed blocks in order
        std::size_t rows = 0;
        std::int64_t seq_txn = 0;
    };
    struct counters {
        std::uint64_t connections = 0;
        std::uint64_t frames = 0;
        std::uint64_t bytes = 0;
        std::uint64_t rows = 0;
        std::uint64_t commits = 0;
        std::uint64_t errors = 0;
        std::uint64_t refused = 0;       // connections refused (limit, bad upgrade, timeouts)
        std::uint64_t chaos_resets = 0;  // connections dropped by fault injection
        std::uint64_t result_batches = 0;  // egress RESULT_BATCH messages sent
        std::uint64_t zstd_batches = 0;    // of those, zstd-compressed
    };

    static result<std::unique_ptr<test_server>> start(test_server_options o = {});
    ~test_server();

    std::uint16_t port() const noexcept;
    std::string conf() const;  // "ws::addr=127.0.0.1:PORT;" (wss:: with TLS)

    // Serves until stop(); run it on the reactor (spawn or co_await).
    task<void> run();
    // Serves one connection over a stream opened elsewhere (the pipe, a
    // socket accepted elsewhere, any stream as an any_stream) until it ends;
    // peer names it in log lines.
    task<void> serve_stream(pipe_stream s, std::string peer = {});
    task<void> serve_stream(socket_stream s, std::string peer = {});
    task<void> serve_stream(any_stream s, std::string peer = {});
    // Stops accepting and drops every connection (like a killed server).
    void stop();

    const std::map<std::string, table_data>& tables() const noexcept;
    const counters& stats() const noexcept;
    std::function<void(const decoded_table&)> on_commit;
    // Every binary message as it arrived (unmasked), before decoding.
    std::function<void(std::span<const std::byte>)> on_frame;
    // Make the next frame that touches `table` fail with status (tests).
    void fail_next(const std::string& table, status s, std::string message);

    struct impl;

private:
    explicit test_server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

// A test server on a thread and reactor of its own, for tests and
// benchmarks that drive it from another thread or process. `enter` runs
// first on that thread (to enter a network namespace, say); `setup` runs
// once the server listens, before it serves (to set on_commit / on_frame).
class test_server_thread {
public:
    // Throws std::system_error when the server cannot listen.
    explicit test_server_thread(test_server_options o = {}, std::function<void(test_server&)> setup = {},
                                std::function<std::error_code()> enter = {});
    ~test_server_thread();
    test_server_thread(const test_server_thread&) = delete;
    test_server_thread& operator=(const test_server_thread&) = delete;

    test_server& server() noexcept { return *server_; }
    // Stops the server and joins the thread; the server's record is then
    // safe to read from this thread.
    void stop();

private:
    std::unique_ptr<test_server> server_;
    std::shared_ptr<reactor::mailbox> mailbox_;
    std::thread thread_;
};

}  // namespace qwire::qwp
