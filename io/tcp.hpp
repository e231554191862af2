// TCP: connect by name or address, listen on an address.
#pragma once

#include <qwire/io/socket.hpp>

#include <string>

namespace qwire {

// Resolves host and tries each address in turn until one connects. A
// deadline in o bounds the whole attempt, resolution included.
task<result<socket_stream>> connect_tcp(std::string host, std::uint16_t port, op_options o = {});

// Listens on a numeric address ("127.0.0.1", "::1", "0.0.0.0").
result<acceptor> tcp_listen(std::string_view address, std::uint16_t port, int backlog = 4096);

}  // namespace qwire
