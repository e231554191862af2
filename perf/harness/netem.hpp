// --netem: a network with delay and loss for qwire-perf, made of a network
// namespace and a veth pair that the tool creates and removes.
//
//     root namespace  10.213.<n>.1  ==veth==  10.213.<n>.2  namespace qwire-perf-<pid>
//
// The built-in server runs on a thread that entered the namespace; the
// client stays outside. The netem spec ("delay 1ms loss 0.1%") is applied to
// the client-to-server direction, so a delay is added once per round trip.
#pragma once

#include <qwire/core/error.hpp>

#include <string>

namespace qwire::perf {

class netem_link {
public:
    // Creates the namespace, the veth pair and the qdisc; *why says what
    // failed (creating namespaces needs root or CAP_NET_ADMIN). A kernel
    // without sch_netem gives std::errc::function_not_supported.
    static result<netem_link> create(const std::string& spec, std::string* why = nullptr);
    netem_link(netem_link&& o) noexcept : ns_(std::move(o.ns_)), server_ip_(std::move(o.server_ip_)) { o.ns_.clear(); }
    netem_link& operator=(netem_link&&) = delete;
    ~netem_link();  // removes the namespace (and with it the veth pair)

    const std::string& server_ip() const noexcept { return server_ip_; }
    // Moves the calling thread into the namespace.
    result<void> enter() const;

private:
    netem_link() = default;
    std::string ns_;
    std::string server_ip_;
};

}  // namespace qwire::perf
