// kdb+ addresses as q's hopen takes them, parsed by one function.
//
//     auto a = kdb::parse_address(":tcps://db1:5001:alice:secret").value();
//     auto c = co_await kdb::connect(a);        // TLS, verified against the system's CAs
//
// Forms (the leading ':' and a backtick before it are optional, as every
// qwire program has always taken host:port):
//
//     host:port                    TCP; an empty host (::5001, :5001) is this host
//     host:port:user:password      with credentials (the password may hold ':')
//     :unix://port[:user:password] kdb+'s Unix socket for that port (@/tmp/kx.PORT)
//     :tcps://host:port[:user:password]   TLS
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/kdb/connection.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace qwire::kdb {

enum class transport { tcp, unix_socket, tls };

struct address {
    transport kind = transport::tcp;
    std::string host = "127.0.0.1";  // tcp and tls
    std::uint16_t port = 0;
    std::string credentials;  // "user:password", or empty
    // host:port, :unix://port or :tcps://host:port (with the user, never
    // the password, when there are credentials).
    std::string to_string() const;
};

// An error (errc::bad_address) whose detail names what is wrong: a port
// that is not a number in 1..65535, a missing port, an unknown scheme.
result<address> parse_address(std::string_view text);

// Connects to a, with its credentials unless o has some: TCP, kdb+'s Unix
// socket, or TLS verified against `tls` (the system's CAs when null).
task<result<connection>> connect(const address& a, connection_options o = {}, const tls_context* tls = nullptr);

}  // namespace qwire::kdb
