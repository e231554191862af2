// kdb_subscribe host:port[:user:password] [table] [sym ...] [--count N]
//
// Subscribes to a kdb+tick tickerplant (.u.sub[table; syms]) and prints each
// update as the q console prints a table, until --count updates (default:
// forever) or the end of the day.
#include <qwire/proto/kdb/tick.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace qwire;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s host:port[:user:password] [table] [sym ...] [--count N]\n", argv[0]);
        return 2;
    }
    const std::string target = argv[1];
    std::string table;
    std::vector<std::string> syms;
    long count = -1;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--count" && i + 1 < argc)
            count = std::stol(argv[++i]);
        else if (table.empty())
            table = a;
        else
            syms.push_back(a);
    }
    const auto c1 = target.find(':');
    const auto c2 = target.find(':', c1 + 1);
    if (c1 == std::string::npos) {
        std::fprintf(stderr, "expected host:port, got %s\n", target.c_str());
        return 2;
    }
    kdb::connection_options o;
    if (c2 != std::string::npos) o.credentials = target.substr(c2 + 1);
    const auto port = static_cast<std::uint16_t>(std::stoi(target.substr(c1 + 1, c2 - c1 - 1)));

    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await kdb::connection::connect_tcp(target.substr(0, c1), port, o);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", target.c_str(), c.error().message().c_str());
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
