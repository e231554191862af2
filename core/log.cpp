#include <qwire/core/log.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace qwire {
namespace {

struct log_state {
    std::mutex m;
    log_handler hook;
    // Token bucket: `burst` lines at once, refilled at `rate` per second.
    static constexpr double burst = 20, rate = 10;
    double tokens = burst;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
    unsigned long long dropped_since = 0;
    std::atomic<unsigned long long> dropped_total{0};
};

log_state& state() {
    static log_state s;
    return s;
}

const char* level_name(log_level l) {
    switch (l) {
        case log_level::info: return "info";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "?";
}

}  // namespace

void set_log_handler(log_handler h) {
    auto& s = state();
    std::lock_guard lock(s.m);
    s.hook = std::move(h);
}

void log_line(log_level level, std::string_view line) {
    auto& s = state();
    std::unique_lock lock(s.m);
    const auto now = std::chrono::steady_clock::now();
    s.tokens = std::min(log_state::burst, s.tokens + std::chrono::duration<double>(now - s.last).count() * log_state::rate);
    s.last = now;
    if (s.tokens < 1) {
        ++s.dropped_since;
        s.dropped_total.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    s.tokens -= 1;
    std::string text(line);
    if (s.dropped_since) {
        text += " (" + std::to_string(s.dropped_since) + " earlier lines dropped by the log's rate limit)";
        s.dropped_since = 0;
    }
    if (s.hook) {
        // Called under the lock: lines reach the hook one at a time, in order.
        s.hook(level, text);
        return;
    }
    std::fprintf(stderr, "qwire %s: %s\n", level_name(level), text.c_str());
}

void log_peer(std::string_view who, std::string_view peer, std::string_view what) {
    std::string line(who);
    line += ": ";
    line += peer.empty() ? std::string_view("a client") : peer;
    line += " ";
    line += what;
    log_line(log_level::warning, line);
}

unsigned long long log_lines_dropped() noexcept { return state().dropped_total.load(std::memory_order_relaxed); }

}  // namespace qwire
