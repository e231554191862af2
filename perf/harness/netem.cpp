#include "netem.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace qwire::perf {

namespace {
int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }
}  // namespace

result<netem_link> netem_link::create(const std::string& spec, std::string* why) {
    auto fail = [&](std::string msg) -> result<netem_link> {
        if (why) *why = std::move(msg);
        return make_error_code(std::errc::operation_not_permitted);
    };
    for (char c : spec)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '%' || c == '-'))
            return fail("--netem takes tc netem words only (\"delay 1ms loss 0.1%\")");
    if (run("ip -V") != 0 || run("tc -V") != 0) return fail("--netem needs ip and tc (Debian's iproute2)");
    const std::string pid = std::to_string(::getpid() % 10000000);
    netem_link l;
    l.ns_ = "qwire-perf-" + pid;
    const std::string a = "qpa" + pid, b = "qpb" + pid;
    const std::string net = "10.213." + std::to_string(::getpid() % 250) + ".";
    l.server_ip_ = net + "2";
    if (run("ip netns add " + l.ns_) != 0) {
        l.ns_.clear();
        return fail("--netem could not create a network namespace: it needs root or CAP_NET_ADMIN");
    }
    const std::string cmds[] = {
        "ip link add " + a + " type veth peer name " + b,
        "ip link set " + b + " netns " + l.ns_,
        "ip addr add " + net + "1/24 dev " + a,
        "ip link set " + a + " up",
        "ip netns exec " + l.ns_ + " ip addr add " + l.server_ip_ + "/24 dev " + b,
        "ip netns exec " + l.ns_ + " ip link set " + b + " up",
        "ip netns exec " + l.ns_ + " ip link set lo up",
        "tc qdisc add dev " + a + " root netem " + spec,
    };
    for (const auto& c : cmds) {
        if (run(c) == 0) continue;
        if (c.rfind("tc ", 0) == 0) {
            if (why) *why = "the kernel has no netem qdisc (sch_netem)";
            return make_error_code(std::errc::function_not_supported);
        }
        return fail("--netem: '" + c + "' failed");
    }
    return l;
}

netem_link::~netem_link() {
    if (!ns_.empty()) run("ip netns del " + ns_);
}

result<void> netem_link::enter() const {
    const int fd = ::open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error_code(static_cast<std::errc>(errno));
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return make_error_code(static_cast<std::errc>(err));
    return {};
}

}  // namespace qwire::perf
