// kdb_echo_server [--port N] [--compress auto|always|never] [--user u:p]
//
// Answers every sync request with the request itself and ignores async
// messages. Listens on 127.0.0.1:N (default 5001) and on kdb+'s Unix socket
// for that port (the abstract name @/tmp/kx.N). With --user, only those
// credentials get in. These options and this behaviour are kept stable:
// outside checks use them.
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>

#include <cstdio>
#include <cstring>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    std::uint16_t port = 5001;
    kdb::server_options opts;
    std::string user;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--port" && has_value) {
            port = static_cast<std::uint16_t>(std::stoi(argv[++i]));
        } else if (a == "--compress" && has_value) {
            const std::string v = argv[++i];
            if (v == "auto") opts.compress = kdb::compression::auto_;
            else if (v == "always") opts.compress = kdb::compression::always;
            else if (v == "never") opts.compress = kdb::compression::never;
            else {
                std::fprintf(stderr, "--compress takes auto, always or never, not %s\n", v.c_str());
                return 2;
            }
        } else if (a == "--user" && has_value) {
            user = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--port N] [--compress auto|always|never] [--user u:p]\n", argv[0]);
            return 2;
        }
    }

    reactor r;
    kdb::server srv(opts);
    if (!user.empty()) {
        const auto colon = user.find(':');
        const std::string u = user.substr(0, colon), p = colon == std::string::npos ? "" : user.substr(colon + 1);
        srv.on_login([u, p](std::string_view user, std::string_view password) { return user == u && password == p; });
    }
    srv.on_sync([](kdb::peer&, kdb::k request) -> task<result<kdb::k>> { co_return request; });

    auto tcp = tcp_listen("127.0.0.1", port);
    if (!tcp) {
        std::fprintf(stderr, "listen 127.0.0.1:%u: %s\n", port, tcp.error().message().c_str());
        return 1;
    }
    auto uds = unix_listen(kdb::unix_socket_name(port));
    if (!uds) {
        std::fprintf(stderr, "listen %s: %s\n", kdb::unix_socket_name(port).c_str(), uds.error().message().c_str());
        return 1;
    }
    std::printf("kdb echo server on 127.0.0.1:%u and %s\n", port, kdb::unix_socket_name(port).c_str());
    std::fflush(stdout);
    r.block_on(when_all(srv.serve(*tcp), srv.serve(*uds)));
}
