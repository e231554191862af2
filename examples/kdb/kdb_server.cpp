// kdb_server [--port N] [--log DIR] [--feed-interval-ms MS] [--rt] [limits] [--tls-cert PEM --tls-key PEM]
//
// A small kdb+tick tickerplant with a `trade` table (time, sym, price, size)
// and a built-in feed that publishes a few random trades every 100 ms
// (--feed-interval-ms 0: no built-in feed). With --rt it also carries kdb
// Insights' internal tables (_prtnEnd, _reload), as the RT tick shim needs.
// q or any kdb+ client can subscribe (.u.sub[`trade;`]) and ask .u.i;
// feeds may publish with (`.u.upd; `trade; data). Listens on 127.0.0.1
// (default port 5010; TLS with --tls-cert) and on kdb+'s Unix socket for
// that port. A subscriber whose queue passes --max-send-queue-bytes is
// dropped (--slow-peer disconnect, the default) or waited for (block);
// --help lists every limit.
#include "kdb_cli.hpp"

#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/rt.hpp>

#include <cstdio>
#include <random>
#include <string>

using namespace qwire;

namespace {

task<void> feed(kdb::tickerplant& tp, std::uint32_t interval_ms) {
    if (interval_ms == 0) co_return;
    std::mt19937_64 rng(1);
    static const std::string_view names[] = {"IBM", "MSFT", "AAPL", "GOOG"};
    for (;;) {
        auto slept = co_await sleep_for(std::chrono::milliseconds(interval_ms));
        if (!slept) co_return;
        std::vector<std::string_view> syms;
        std::vector<double> prices;
        std::vector<std::int64_t> sizes;
        for (int i = 0; i < 3; ++i) {
            syms.push_back(names[rng() % 4]);
            prices.push_back(100.0 + static_cast<double>(rng() % 400) / 4.0);
            sizes.push_back(static_cast<std::int64_t>(100 * (1 + rng() % 9)));
        }
        const kdb::k data = kdb::new_list_of(kdb::new_symbol_list(std::span<const std::string_view>(syms)),
                                             kdb::new_float_list(prices), kdb::new_long_list(sizes));
        (void)co_await tp.publish("trade", data);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("A kdb+tick tickerplant with a `trade table and a built-in feed.", "kdb_server");
    std::uint16_t port = 5010;
    kdb::tickerplant_options o;
    examples::kdb_server_cli server_cli;
    examples::add_port_option(app, port, "TCP port on 127.0.0.1, and kdb+'s Unix socket @/tmp/kx.PORT");
    app.add_option("--log", o.log_directory, "write kdb-tick's daily log in this directory");
    std::uint32_t feed_ms = 100;
    app.add_option("--feed-interval-ms", feed_ms, "the built-in feed publishes every this many ms (0: no feed)")
        ->check(CLI::Range(0, 3'600'000))
        ->capture_default_str();
    bool rt = false;
    app.add_flag("--rt", rt, "carry kdb Insights' internal tables _prtnEnd and _reload (for RT subscribers and SM)");
    server_cli.add(app);
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    reactor r;
    kdb::server srv(server_cli.options());
    kdb::tickerplant tp(srv, o);
    (void)tp.add_table("trade", kdb::new_table({"time", "sym", "price", "size"},
                                               {kdb::new_vector(kdb::qtype::timespan, 0), kdb::new_symbol_list({}),
                                                kdb::new_float_list({}), kdb::new_long_list({})})
                                    .value());
    if (rt) (void)kdb::rt::add_internal_tables(tp);
    auto listeners = examples::listen_kdb(port);
    if (!listeners) {
        std::fprintf(stderr, "cannot listen on port %u: %s\n", port, listeners.error().message().c_str());
        return 1;
    }
    port = listeners->port;
    std::optional<tls_context> tls;
    if (!server_cli.load_tls(tls)) return 2;
    const std::string feeding = feed_ms ? ", publishing `trade every " + std::to_string(feed_ms) + " ms" : std::string();
    std::printf("kdb tickerplant on 127.0.0.1:%u%s and %s%s\n", port, tls ? " (TLS)" : "", kdb::unix_socket_name(port).c_str(),
                feeding.c_str());
    std::fflush(stdout);
    if (tls)
        r.block_on(when_all(srv.serve_tls(listeners->tcp, *tls), srv.serve(listeners->uds), feed(tp, feed_ms)));
    else
        r.block_on(when_all(srv.serve(listeners->tcp), srv.serve(listeners->uds), feed(tp, feed_ms)));
}
