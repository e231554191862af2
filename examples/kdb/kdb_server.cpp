// kdb_server [--port N] [--log DIR]
//
// A small kdb+tick tickerplant with a `trade` table (time, sym, price, size)
// and a built-in feed that publishes a few random trades every 100 ms.
// q or any kdb+ client can subscribe (.u.sub[`trade;`]) and ask .u.i;
// feeds may publish with (`.u.upd; `trade; data). Listens on 127.0.0.1
// (default port 5010) and on kdb+'s Unix socket for that port.
#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/tick.hpp>

#include <cstdio>
#include <random>
#include <string>

using namespace qwire;

namespace {

task<void> feed(kdb::tickerplant& tp) {
    std::mt19937_64 rng(1);
    static const std::string_view names[] = {"IBM", "MSFT", "AAPL", "GOOG"};
    for (;;) {
        auto slept = co_await sleep_for(std::chrono::milliseconds(100));
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
    std::uint16_t port = 5010;
    kdb::tickerplant_options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--port" && i + 1 < argc)
            port = static_cast<std::uint16_t>(std::stoi(argv[++i]));
        else if (a == "--log" && i + 1 < argc)
            o.log_directory = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--port N] [--log DIR]\n", argv[0]);
            return 2;
        }
    }
    reactor r;
    kdb::server srv;
    kdb::tickerplant tp(srv, o);
    (void)tp.add_table("trade", kdb::new_table({"time", "sym", "price", "size"},
                                               {kdb::new_vector(kdb::qtype::timespan, 0), kdb::new_symbol_list({}),
                                                kdb::new_float_list({}), kdb::new_long_list({})})
                                    .value());
    auto tcp = tcp_listen("127.0.0.1", port);
    auto uds = unix_listen(kdb::unix_socket_name(port));
    if (!tcp || !uds) {
        std::fprintf(stderr, "cannot listen on port %u: %s\n", port, (!tcp ? tcp.error() : uds.error()).message().c_str());
        return 1;
    }
    std::printf("kdb tickerplant on 127.0.0.1:%u and %s, publishing `trade every 100 ms\n", port,
                kdb::unix_socket_name(port).c_str());
    std::fflush(stdout);
    r.block_on(when_all(srv.serve(*tcp), srv.serve(*uds), feed(tp)));
}
