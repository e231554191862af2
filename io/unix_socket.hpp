// Unix-domain stream sockets. A name starting with '@' is a Linux abstract
// name; anything else is a filesystem path.
#pragma once

#include <qwire/io/socket.hpp>

namespace qwire {

task<result<socket_stream>> connect_unix(std::string_view path, op_options o = {});

// Listens on path. A stale socket file at path (one nobody listens on) is
// removed first; a live one is left alone and listen fails with EADDRINUSE.
result<acceptor> unix_listen(std::string_view path, int backlog = 4096);

}  // namespace qwire
