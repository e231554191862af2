// Endpoints (IPv4, IPv6, Unix paths and Linux abstract names) and name
// resolution that never blocks the reactor thread.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/core/reactor.hpp>
#include <qwire/core/task.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qwire {

class endpoint {
public:
    endpoint() noexcept = default;

    // A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "[::1]").
    static result<endpoint> ip(std::string_view address, std::uint16_t port);
    // A Unix-domain socket. A name starting with '@' is a Linux abstract
    // name (no file); anything else is a filesystem path.
    static result<endpoint> unix_socket(std::string_view path);

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    void resize(socklen_t n) noexcept { len_ = n; }
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
    int family() const noexcept { return storage_.ss_family; }
    std::uint16_t port() const noexcept;
    // 127.0.0.0/8, ::1, or a Unix socket: traffic that never leaves the host.
    bool is_local() const noexcept;
    std::string to_string() const;

private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

// Resolves host to its addresses. Numeric addresses are parsed inline; other
// names are looked up with getaddrinfo on a short-lived helper thread (glibc
// has no lookup that suspends), so the reactor thread never blocks.
task<result<std::vector<endpoint>>> resolve(std::string host, std::uint16_t port, op_options o = {});

}  // namespace qwire
