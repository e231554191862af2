// qwp_test_server [--port N] [--dump FILE] [--user u:p] [--token T]
//
// A QWP ingress server (proto/qwp/test_server.hpp) on 127.0.0.1:N (default
// 9000) that serves until it is stopped. With --dump, every committed row is
// appended to FILE as one JSON line:
//
//     {"table":"trades","row":{"sym":"ETH","price":2615.5,"timestamp":1700000000000000}}
//
// (NULL as null; symbols and varchar as strings; the designated timestamp
// under "timestamp"; binary, uuid and long256 as hex strings; decimals as
// decimal strings.) Committed rows are also kept in memory and answer
// egress queries on /read/v1 (SELECT * FROM t [LIMIT n]). These options and
// this output are kept stable: outside checks use them.
#include <qwire/proto/qwp/test_server.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    qwp::test_server_options o;
    o.port = 9000;
    std::string dump;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--port" && has_value) {
            o.port = static_cast<std::uint16_t>(std::stoi(argv[++i]));
        } else if (a == "--dump" && has_value) {
            dump = argv[++i];
        } else if (a == "--user" && has_value) {
            const std::string up = argv[++i];
            const auto colon = up.find(':');
            o.username = up.substr(0, colon);
            o.password = colon == std::string::npos ? "" : up.substr(colon + 1);
        } else if (a == "--token" && has_value) {
            o.token = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--port N] [--dump FILE] [--user u:p] [--token T]\n", argv[0]);
            return 2;
        }
    }
    std::FILE* out = nullptr;
    if (!dump.empty()) {
        out = std::fopen(dump.c_str(), "a");
        if (!out) {
            std::perror(dump.c_str());
            return 1;
        }
    }
    reactor r;
    auto srv = qwp::test_server::start(o);
    if (!srv) {
        std::fprintf(stderr, "listen 127.0.0.1:%u: %s\n", o.port, srv.error().message().c_str());
        return 1;
    }
    if (out) {
        (*srv)->on_commit = [out](const qwp::decoded_table& t) {
            std::string line;
            for (std::size_t i = 0; i < t.rows; ++i) {
                line.clear();
                line += "{\"table\":";
                line += qwp::json_quote(t.name);
                line += ",\"row\":";
                line += qwp::row_json(t, i);
                line += "}\n";
                std::fwrite(line.data(), 1, line.size(), out);
            }
            std::fflush(out);
        };
    }
    std::printf("qwp test server on 127.0.0.1:%u\n", (*srv)->port());
    std::fflush(stdout);
    r.block_on((*srv)->run());
}
