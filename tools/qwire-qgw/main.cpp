// qwire-qgw: a q gateway in front of QuestDB. q clients connect as to any
// kdb+ process; each sync request's text runs as SQL through QWP egress and
// comes back as a K table.
//
//     qwire-qgw --port 5050 --conf "ws::addr=127.0.0.1:9000;" [--user u:p]
//     q) h:hopen 5050; h"select count(), avg(price) from trade"
#include "../../examples/kdb/kdb_cli.hpp"

#include <qwire/core/when_all.hpp>
#include <qwire/proto/bridge/gateway.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app{"qwire-qgw: a q gateway in front of QuestDB (SQL over kdb+ IPC, answered as K tables)"};
    std::uint16_t port = 5050;
    std::string conf, user;
    examples::kdb_server_cli server_cli;
    examples::add_port_option(app, port, "TCP port on 127.0.0.1, and kdb+'s Unix socket @/tmp/kx.PORT");
    app.add_option("--conf", conf, "QuestDB's connect string, e.g. \"ws::addr=127.0.0.1:9000;\" (its credentials are QuestDB's)")
        ->required()
        ->check(examples::parsed_by([](const std::string& v) { return qwp::config::parse(v); }, "CONNECT"));
    app.add_option("--user", user, "only these q credentials get in (user:password)");
    server_cli.add(app);
    if (auto rc = examples::parse(app, argc, argv)) return *rc;

    reactor r;
    kdb::server srv(server_cli.options());
    if (!user.empty()) {
        const auto colon = user.find(':');
        const std::string u = user.substr(0, colon), p = colon == std::string::npos ? "" : user.substr(colon + 1);
        srv.on_login([u, p](std::string_view name, std::string_view password) { return name == u && password == p; });
    }
    bridge::gateway gw(srv, conf);
    auto listeners = examples::listen_kdb(port);
    if (!listeners) {
        std::fprintf(stderr, "qwire-qgw: cannot listen on port %u (--port): %s\n", port, listeners.error().message().c_str());
        return 1;
    }
    port = listeners->port;
    std::optional<tls_context> tls;
    if (!server_cli.load_tls(tls)) return 2;
    const auto target = qwp::config::parse(conf).value();  // named by address only: the string may hold a password
    std::printf("q gateway on 127.0.0.1:%u%s and %s, querying QuestDB at %s:%u\n", port, tls ? " (TLS)" : "",
                kdb::unix_socket_name(port).c_str(), target.addrs.front().host.c_str(), target.addrs.front().port);
    std::fflush(stdout);
    if (tls)
        r.block_on(when_all(srv.serve_tls(listeners->tcp, *tls), srv.serve(listeners->uds)));
    else
        r.block_on(when_all(srv.serve(listeners->tcp), srv.serve(listeners->uds)));
}
