// Helpers shared by the tests.
#pragma once

#include <qwire/core/log.hpp>
#include <qwire/core/reactor.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/io/byte_stream.hpp>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace qwire::test {

// Every line qwire logs while it lives (the log is process-wide), for tests
// that check what a server said.
struct captured_log {
    std::mutex m;
    std::vector<std::string> lines;
    captured_log() {
        set_log_handler([this](log_level, std::string_view l) {
            std::lock_guard lock(m);
            lines.emplace_back(l);
        });
    }
    ~captured_log() { set_log_handler({}); }
    captured_log(const captured_log&) = delete;
    captured_log& operator=(const captured_log&) = delete;
    // Whether a line holds both texts.
    bool has(std::string_view a, std::string_view b = {}) {
        std::lock_guard lock(m);
        for (auto& l : lines)
            if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
        return false;
    }
};

inline std::span<const std::byte> bytes(const std::string& s) { return as_bytes(std::string_view(s)); }

inline std::string text(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Completes on the reactor's next trip through the kernel: every SQE
// prepared before it has been submitted by then. Used to order a cancel after
// the operation it cancels, without timing.
inline auto next_turn() { return sleep_until(clock::time_point{}); }

// Both ways of setting up a ring, so every test can run on both.
inline reactor::options mode_options(reactor::setup m) {
    reactor::options o;
    o.mode = m;
    return o;
}

inline std::string cert(const char* name) { return std::string(QWIRE_TEST_CERTS) + "/" + name; }

// Hex text to bytes and back (test vectors, peer output).
inline std::vector<std::byte> unhex(const std::string& h) {
    std::vector<std::byte> out(h.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
    return out;
}
inline std::string hex(std::span<const std::byte> b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s += digits[static_cast<unsigned>(x) >> 4];
        s += digits[static_cast<unsigned>(x) & 15];
    }
    return s;
}

// The first line of a text file, without its line end (hex fixtures).
inline std::string first_line(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
}

// Deterministic bytes for transfer checks.
inline std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
    std::vector<std::byte> v(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::byte>(x);
    }
    return v;
}

}  // namespace qwire::test
