// kdb_query host:port[:user:password] 'expression'
//
// Sends the expression as a sync query and prints the result as the q
// console would, or the server's error as 'text.
#include <qwire/proto/kdb/connection.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s host:port[:user:password] 'expression'\n", argv[0]);
        return 2;
    }
    const std::string target = argv[1];
    const auto c1 = target.find(':');
    if (c1 == std::string::npos) {
        std::fprintf(stderr, "expected host:port, got %s\n", target.c_str());
        return 2;
    }
    const auto c2 = target.find(':', c1 + 1);
    const std::string host = target.substr(0, c1);
    const std::string port = target.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    kdb::connection_options o;
    if (c2 != std::string::npos) o.credentials = target.substr(c2 + 1);

    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await kdb::connection::connect_tcp(host, static_cast<std::uint16_t>(std::stoi(port)), o);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", target.c_str(), c.error().message().c_str());
            co_return 1;
        }
        auto v = co_await c->query(std::string_view(argv[2]));
        if (!v) {
            if (v.error().category() == kdb::remote_category())
                std::printf("'%s\n", v.error().message().c_str());
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
