// kdb_subscribe host:port[:user:password] [table] [sym ...] [--count N] [--tls] [--ca PEM]
//
// Subscribes to a kdb+tick tickerplant (.u.sub[table; syms]) and prints each
// update as the q console prints a table, until --count updates (default:
// forever) or the end of the day. --tls (or --ca) connects over TLS.
#include "kdb_cli.hpp"

#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/tick.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("Subscribes to a kdb+tick tickerplant and prints every update.", "kdb_subscribe");
    kdb::address target;
    std::string table;
    std::vector<std::string> syms;
    long count = -1;
    examples::kdb_client_tls tls;
    examples::add_address(app, "address", target, examples::address_help)->required();
    app.add_option("table", table, "the table to follow (default: all)");
    app.add_option("syms", syms, "the symbols to follow (default: all)");
    app.add_option("--count", count, "stop after this many updates (default: never)")->check(CLI::Range(0L, 1L << 62));
    tls.add(app);
    if (auto rc = examples::parse(app, argc, argv)) return *rc;

    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await examples::connect(target, tls);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", target.to_string().c_str(), c.error().message().c_str());
            co_return 1;
        }
        auto sub = co_await kdb::subscriber::subscribe(std::move(*c), table, syms);
        if (!sub) {
            std::fprintf(stderr, "subscribe: %s\n", sub.error().message().c_str());
            co_return 1;
        }
        for (auto& [name, schema] : sub->schemas())
            std::printf("subscribed to %s (%s)\n", name.c_str(), kdb::to_string(schema.column_names().value()).c_str());
        for (long n = 0; count < 0 || n < count; ++n) {
            auto m = co_await sub->next();
            if (!m) {
                std::fprintf(stderr, "%s\n", m.error().message().c_str());
                co_return 1;
            }
            if (m->function == ".u.end") {
                std::printf("end of day %s\n", kdb::to_string(m->data).c_str());
                co_return 0;
            }
            std::printf("%s:\n%s", m->table.c_str(), kdb::to_string(m->data).c_str());
            std::fflush(stdout);
        }
        co_return 0;
    }());
}
