// QuestDB's connect string for QWP: what it configures, and its parser.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/qwp/frame_store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::qwp {

// What QuestDB's connect string configures (keys as in QuestDB's clients;
// the README's "Connect string" table lists each with both defaults):
//   ws::addr=host:port[,host:port];username=..;password=..;token=..;
//   tls_verify=on|unsafe_off;tls_ca=os_roots|webpki_roots|
//   webpki_and_os_roots|pem_file;tls_roots=FILE;connect_timeout=MS;
//   auth_timeout_ms=MS;in_flight_window=N;max_in_flight_bytes=N
//   (max_buf_size);request_durable_ack=on|off;client_id=..;gorilla=on|off;
//   max_symbols=N;first_frame_commits=on|off;max_batch_bytes=N;
//   request_timeout=MS;max_version=1;protocol_version=auto|1;
//   on_*_error=halt; reconnect_initial_backoff_millis /
//   reconnect_max_backoff_millis / reconnect_max_duration_millis=MS;
//   pool_size=N (sender_pool_min);pool_max=N (sender_pool_max);
//   pool_idle_timeout_ms=MS (idle_timeout_ms);acquire_timeout_ms=MS;
//   lazy_connect=on|off (sender_pool); initial_credit=BYTES;max_batch_rows=N;
//   compression=raw|zstd|auto;compression_level=1..22;
//   target=any|primary|replica;failover=on|off;failover_max_attempts=N;
//   failover_backoff_initial_ms / failover_backoff_max_ms /
//   failover_max_duration_ms=MS (reader).
// `wss::` (or `qwpwss::`) selects TLS, `ws::` (`qwpws::`) plain TCP. The
// sender takes no notice of the reader's keys and the reader none of the
// sender's, so one string serves both directions. A key of QuestDB's
// clients that qwire has no behaviour for is an error that names it, as is
// any other key.
enum class compression : std::uint8_t { raw, zstd, auto_ };

// What happened to a sender's connection, for config::on_event (as
// QuestDB's client reports connection and rejection events).
struct sender_event {
    enum class kind : std::uint8_t {
        connected,        // the first connection is up
        reconnected,      // a later one is up (after a failure)
        endpoint_failed,  // one address did not answer or refused (cause)
        disconnected,     // the connection failed (cause); a reconnect follows unless it is terminal
        replaying,        // a new connection sends again `frames` frames no OK covered
        rejected,         // the server refused a frame (cause carries its text); terminal
    };
    kind what;
    std::string host;
    std::uint16_t port = 0;
    std::size_t frames = 0;
    error cause;
};
enum class target : std::uint8_t { any, primary, replica };

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
    // reader: what it offers in X-QWP-Accept-Encoding (zstd;level=N) and
    // which node role it accepts (SERVER_INFO's role; a node of another
    // role sends the reader on to the next address).
    qwp::compression compression = qwp::compression::raw;
    int compression_level = 1;
    qwp::target target = qwp::target::any;
    // reader: when the connection drops before a query's first answer, walk
    // the addresses again (from the next one) and send the query anew, up
    // to failover_max_attempts sends in all, backing off between them,
    // within failover_max_duration of the first failure.
    // reader: each query's timeout, sent to the server (QUERY_FLAG_TIMEOUT;
    // the server ends a query past it with a QUERY_ERROR). 0: the server's own.
    std::chrono::milliseconds query_timeout{0};
    bool failover = true;
    std::size_t failover_max_attempts = 8;
    std::chrono::milliseconds failover_backoff_initial{50};
    std::chrono::milliseconds failover_backoff_max{1000};
    std::chrono::milliseconds failover_max_duration{30000};
    // sender: store-and-forward (sf_dir, sender_id, sf_durability=memory|
    // flush|append|periodic, sf_sync_interval_millis, sf_max_segment_bytes,
    // sf_max_total_bytes, sf_append_deadline_millis): frames go to a
    // disk-backed queue before they are sent and a restarted sender replays
    // what no OK covered. Off when sf_dir is empty.
    frame_store_options sf;
    std::chrono::milliseconds sf_append_deadline{30000};
    // sender: initial_connect_retry=off (connect fails when no address
    // answers), on|sync (connect retries within reconnect_max_duration),
    // async (connect returns at once: flushes queue their frames, in memory
    // up to max_in_flight_bytes and in sf_dir when set, each flush tries
    // again when the backoff allows, and sync() waits for a connection
    // within reconnect_max_duration).
    enum class connect_retry : std::uint8_t { off, sync, async };
    connect_retry initial_connect_retry = connect_retry::off;
    // sender: the longest sync() waits for its acknowledgement when the
    // caller's options carry no earlier deadline (0: no bound).
    std::chrono::milliseconds request_timeout{0};
    // sender_pool: a borrow that opens a connection succeeds while the
    // server is away (its sender starts as initial_connect_retry=async
    // does); off: the borrow fails then. Either way connections open on
    // borrow, never ahead of it.
    bool lazy_connect = false;
    // sender_pool: the longest borrow() waits for a sender (0: fail at once
    // when none is free; unset: no bound).
    std::optional<std::chrono::milliseconds> acquire_timeout;

    // Called on the sender's reactor at each sender_event; it must not
    // block (set in code, not in the connect string).
    std::function<void(const sender_event&)> on_event;

    // Parses a connect string; an error's detail says what was wrong (the
    // key and its value).
    static result<config> parse(std::string_view text);
};

}  // namespace qwire::qwp
