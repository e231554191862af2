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
    kdb::address target;
    std::string expression;
    examples::kdb_client_tls tls;
    examples::add_address(app, "address", target, examples::address_help)->required();
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

    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await examples::connect(target, tls);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", target.to_string().c_str(), c.error().message().c_str());
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
