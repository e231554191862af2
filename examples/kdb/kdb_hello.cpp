// The kdb+ hello shown in the README: two queries against a kdb+ process
// (try examples/kdb_echo_server, or q -p 5001).
#include "../cli.hpp"

#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/connection.hpp>

#include <cstdio>
#include <exception>

using namespace qwire;

task<void> run() {
    auto c = (co_await kdb::connection::connect_tcp("127.0.0.1", 5001)).value();
    auto r = co_await c.query("til 10");                       // result<kdb::k>
    if (r) std::puts(kdb::to_string(*r).c_str());              // q prints 0 1 2 3 4 5 6 7 8 9
    else std::puts(kdb::signal_text(r.error()).c_str());       // a server error prints its text, e.g. type
    const auto numbers = kdb::new_long_list({1, 2, 3});        // named: see "g++ 12 and coroutines"
    auto s = co_await c.call("sum", numbers);                  // sum[1 2 3]
    if (s) std::puts(kdb::to_string(*s).c_str());
}

int main(int argc, char** argv) {
    CLI::App app("Sends two queries to a kdb+ process on 127.0.0.1:5001 and prints the answers.", "kdb_hello");
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    try {
        reactor r;
        r.block_on(run());
    } catch (const std::exception& e) {  // value() on a failed result throws
        std::fprintf(stderr, "kdb_hello: %s\n", e.what());
        return 1;
    }
}
