// A TCP relay that delays what it forwards: qwire-perf's stand-in for the
// kernel's netem where the kernel has no sch_netem (some VM kernels). Bytes
// from the client reach the server `delay` later, so every round trip grows
// by `delay`, as with netem on the client-to-server direction. Threads and
// blocking sockets: it is a tool, not part of the library.
#pragma once

#include <qwire/core/error.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace qwire::perf {

class delay_relay {
public:
    // Listens on 127.0.0.1 (any port) and relays each connection to
    // host:port.
    static result<std::unique_ptr<delay_relay>> start(std::string host, std::uint16_t port, std::chrono::nanoseconds delay);
    ~delay_relay();

    std::uint16_t port() const noexcept { return port_; }

private:
    delay_relay() = default;
    void accept_loop();

    std::string host_;
    std::uint16_t target_port_ = 0;
    std::chrono::nanoseconds delay_{};
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    struct pump;
    std::vector<std::unique_ptr<pump>> pumps_;
};

// Parses netem's "delay 1ms" / "delay 500us" / "delay 10ms loss 0.1%";
// *loss set when loss was asked for (which only the kernel can do).
result<std::chrono::nanoseconds> parse_netem_delay(const std::string& spec, bool* loss);

}  // namespace qwire::perf
