// kdb_query host:port[:user:password] 'expression' [--tls] [--ca PEM]
//
// Sends the expression as a sync query and prints the result as the q
// console would, or the server's error as 'text. The address may start with
// q's ':' (:host:port). --tls (or --ca) connects over TLS.
#include <qwire/proto/kdb/display.hpp>
#include "kdb_cli.hpp"

#include <cstdio>
#include <string>
#include <vector>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("Sends one sync query to a kdb+ process and prints the answer as q does.", "kdb_query");
    std::string target, expression;
    examples::kdb_client_tls tls;
    app.add_option("address", target, "host:port[:user:password]")->required();
    app.add_option("expression", expression, "the q expression to send")->required();
    tls.add(app);
    // A q expression may start with '-' (-1+2): whatever follows the address
    // is the expression, never an option.
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() >= 3 && args.back().rfind("--", 0) != 0 && args[args.size() - 2] != "--ca")
        args.insert(args.end() - 1, "--");
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    if (auto rc = examples::parse(app, static_cast<int>(ptrs.size()), ptrs.data())) return *rc;
    const auto t = examples::parse_kdb_target(target);
    if (!t) {
        std::fprintf(stderr, "address: expected host:port[:user:password] with a port 1-65535, got '%s'\n", target.c_str());
        return 2;
    }

    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await examples::connect(*t, tls);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", target.c_str(), c.error().message().c_str());
            co_return 1;
        }
        auto v = co_await c->query(std::string_view(expression));
        if (!v) {
            if (v.error() == kdb::errc::remote)
                std::printf("'%s\n", kdb::signal_text(v.error()).c_str());
            else
                std::fprintf(stderr, "query: %s\n", v.error().message().c_str());
            co_return 1;
        }
        std::string text = kdb::to_string(*v);
        if (text.empty() || text.back() != '\n') text += '\n';
        std::fputs(text.c_str(), stdout);
        co_return 0;
    }());
}
