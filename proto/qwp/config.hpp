// QuestDB's connect string for QWP: what it configures, and its parser.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/proto/qwp/encoder.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
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

    // Parses a connect string; an error's detail says what was wrong (the
    // key and its value).
    static result<config> parse(std::string_view text);
};

}  // namespace qwire::qwp
