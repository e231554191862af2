#include <qwire/io/unix_socket.hpp>

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

namespace qwire {

task<result<socket_stream>> connect_unix(std::string_view path, op_options o) {
    auto ep = endpoint::unix_socket(path);
    if (!ep) co_return ep.error();
    co_return co_await connect(*ep, o);
}

result<acceptor> unix_listen(std::string_view path, int backlog) {
    auto ep = endpoint::unix_socket(path);
    if (!ep) return ep.error();
    if (path.front() != '@') {
        const std::string p(path);
        struct stat st{};
        if (::stat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            // Probe synchronously: a refused connect means nobody listens.
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const bool live = fd >= 0 && ::connect(fd, ep->data(), ep->size()) == 0;
            if (fd >= 0) ::close(fd);
            if (!live) ::unlink(p.c_str());
        }
    }
    return acceptor::listen(*ep, backlog);
}

}  // namespace qwire
