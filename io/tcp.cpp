#include <qwire/io/tcp.hpp>

namespace qwire {

task<result<socket_stream>> connect_tcp(std::string host, std::uint16_t port, op_options o) {
    auto addrs = co_await resolve(std::move(host), port, o);
    if (!addrs) co_return addrs.error();
    std::error_code last = make_error_code(errc::no_such_host);
    for (const endpoint& ep : *addrs) {
        auto s = co_await connect(ep, o);
        if (s) co_return std::move(*s);
        last = s.error();
        // Stop or deadline end the whole attempt, not just this address.
        if (last == std::errc::operation_canceled || last == std::errc::timed_out) break;
    }
    co_return last;
}

result<acceptor> tcp_listen(std::string_view address, std::uint16_t port, int backlog) {
    auto ep = endpoint::ip(address, port);
    if (!ep) return ep.error();
    return acceptor::listen(*ep, backlog);
}

}  // namespace qwire
