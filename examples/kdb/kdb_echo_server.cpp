// kdb_echo_server [--port N] [--compress auto|always|never] [--user u:p]
//                 [limits] [--tls-cert PEM --tls-key PEM]
//
// Answers every sync request with the request itself and ignores async
// messages. Listens on 127.0.0.1:N (default 5001) and on kdb+'s Unix socket
// for that port (the abstract name @/tmp/kx.N); with --tls-cert the TCP port
// speaks TLS. With --user, only those credentials get in. --help lists the
// limits (message size, decoded memory, send queue, timeouts, connections).
// These options and this behaviour are kept stable: outside checks use them.
#include "kdb_cli.hpp"

#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("Answers every kdb+ sync request with the request itself.", "kdb_echo_server");
    std::uint16_t port = 5001;
    std::string compress = "auto", user;
    examples::kdb_server_cli server_cli;
    examples::add_port_option(app, port, "TCP port on 127.0.0.1, and kdb+'s Unix socket @/tmp/kx.PORT");
    app.add_option("--compress", compress, "compress responses")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    app.add_option("--user", user, "only these credentials get in (user:password)");
    server_cli.add(app);
    if (auto rc = examples::parse(app, argc, argv)) return *rc;

    kdb::server_options opts = server_cli.options();
    opts.compress = compress == "always" ? kdb::compression::always
                    : compress == "never" ? kdb::compression::never
                                          : kdb::compression::auto_;
    reactor r;
    kdb::server srv(opts);
    if (!user.empty()) {
        const auto colon = user.find(':');
        const std::string u = user.substr(0, colon), p = colon == std::string::npos ? "" : user.substr(colon + 1);
        srv.on_login([u, p](std::string_view user, std::string_view password) { return user == u && password == p; });
    }
    srv.on_sync([](kdb::peer&, kdb::k request) -> task<result<kdb::k>> { co_return request; });

    auto listeners = examples::listen_kdb(port);
    if (!listeners) {
        std::fprintf(stderr, "kdb_echo_server: cannot listen on port %u (--port): %s\n", port, listeners.error().message().c_str());
        return 1;
    }
    port = listeners->port;
    std::optional<tls_context> tls;
    if (!server_cli.load_tls(tls)) return 2;
    std::printf("kdb echo server on 127.0.0.1:%u%s and %s\n", port, tls ? " (TLS)" : "", kdb::unix_socket_name(port).c_str());
    std::fflush(stdout);
    if (tls)
        r.block_on(when_all(srv.serve_tls(listeners->tcp, *tls), srv.serve(listeners->uds)));
    else
        r.block_on(when_all(srv.serve(listeners->tcp), srv.serve(listeners->uds)));
}
