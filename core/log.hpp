// The library's log: one line per event a service operator should see (a
// connection refused or closed for cause), routed through a hook.
//
//     qwire::set_log_handler([](qwire::log_level, std::string_view line) { my_logger.warn(line); });
//
// Without a hook, lines go to stderr. Lines are rate-limited before they
// reach the hook (a burst of 20, then 10 a second): a flood of bad clients
// cannot turn the log into the bottleneck; how many were dropped is said on
// the next line that passes. Safe to call from any thread.
#pragma once

#include <functional>
#include <string_view>

namespace qwire {

enum class log_level { info, warning, error };

using log_handler = std::function<void(log_level, std::string_view line)>;

// Replaces the hook; an empty one restores stderr.
void set_log_handler(log_handler h);

// Writes one line (no trailing newline needed), unless the rate limit drops it.
void log_line(log_level level, std::string_view line);

// "<who>: <peer> <what>" (peer "a client" when empty): the one shape of the
// servers' lines about a connection.
void log_peer(std::string_view who, std::string_view peer, std::string_view what);

// Lines dropped by the rate limit since the process started.
unsigned long long log_lines_dropped() noexcept;

}  // namespace qwire
