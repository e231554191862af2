// qwp_test_server [--port N] [--dump FILE] [--user u:p] [--token T]
//                 [--tls-cert PEM --tls-key PEM] [limits] [chaos]
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
// egress queries on /read/v1 (a SQL subset: test_sql.hpp); --keep none
// checks every byte but keeps nothing (for benchmarks). --help lists the
// limits (memory a connection may hold uncommitted, idle and upgrade
// timeouts, connections) and the fault injection knobs for chaos tests.
// These options and this output are kept stable: outside checks use them.
#include "../cli.hpp"

#include <qwire/proto/qwp/test_server.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("A QWP ingress and egress server for tests, on 127.0.0.1.", "qwp_test_server");
    qwp::test_server_options o;
    o.port = 9000;
    std::string dump, user;
    std::uint64_t idle_ms = static_cast<std::uint64_t>(o.idle_timeout.count());
    std::uint64_t handshake_ms = static_cast<std::uint64_t>(o.handshake_timeout.count());
    app.add_option("--port", o.port, "TCP port on 127.0.0.1 (0: any free one)")->check(CLI::Range(0, 65535))->capture_default_str();
    app.add_option("--dump", dump, "append every committed row to this file as a JSON line");
    std::string keep = "all";
    app.add_option("--keep", keep, "all: keep committed rows (for egress and --dump); none: validate every byte, keep nothing")
        ->check(CLI::IsMember({"all", "none"}))
        ->capture_default_str();
    app.add_flag("--durable-ack", o.durable_ack, "offer durable acks (a DURABLE_ACK after each OK) to clients that ask");
    std::string role = "standalone";
    app.add_option("--role", role,
                   "the node role it plays: a replica or primary_catchup refuses ingest with HTTP 421 and still answers "
                   "queries (SERVER_INFO and X-QuestDB-Role carry it)")
        ->check(CLI::IsMember({"standalone", "primary", "replica", "primary_catchup"}))
        ->capture_default_str();
    bool no_zstd = false;
    app.add_flag("--no-zstd", no_zstd, "answer every reader raw, even one that offers zstd in X-QWP-Accept-Encoding");
    std::size_t max_batch = o.max_batch;
    app.add_option("--max-batch-bytes", max_batch, "the batch size advertised in X-QWP-Max-Batch-Size")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{(16 << 20) - 14}))
        ->capture_default_str();
    app.add_option("--user", user, "require Basic auth with these credentials (user:password)");
    app.add_option("--token", o.token, "require this Bearer token");
    auto* cert = app.add_option("--tls-cert", o.tls_cert, "serve wss with this PEM certificate")->check(CLI::ExistingFile);
    auto* key = app.add_option("--tls-key", o.tls_key, "the certificate's PEM key")->check(CLI::ExistingFile);
    cert->needs(key);
    key->needs(cert);
    app.add_option("--max-connection-bytes", o.max_connection_bytes, "memory a connection's uncommitted rows may take")
        ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{1} << 40))
        ->capture_default_str()
        ->group("Limits");
    app.add_option("--idle-timeout-ms", idle_ms, "close a connection that completes no message for this long (0: never)")
        ->capture_default_str()
        ->group("Limits");
    app.add_option("--handshake-timeout-ms", handshake_ms, "the HTTP upgrade must arrive within this")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
        ->capture_default_str()
        ->group("Limits");
    app.add_option("--max-connections", o.max_connections, "connections served at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str()
        ->group("Limits");
    app.add_option("--chaos-reset-one-in", o.chaos_reset_one_in, "drop the connection as 1 frame in N arrives (0: never)")
        ->group("Fault injection");
    app.add_option("--chaos-lost-ok-one-in", o.chaos_lost_ok_one_in,
                   "commit, then drop the connection before the OK, 1 commit in N (0: never)")
        ->group("Fault injection");
    std::uint64_t ack_delay_ms = 0;
    app.add_option("--ack-delay-ms,--ack-delay", ack_delay_ms, "send each OK this long after its commit, in ms: a slow server (0: at once)")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{3'600'000}))
        ->group("Fault injection");
    app.add_option("--chaos-seed", o.chaos_seed, "seed of the fault injection")->capture_default_str()->group("Fault injection");
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    if (!user.empty()) {
        const auto colon = user.find(':');
        o.username = user.substr(0, colon);
        o.password = colon == std::string::npos ? "" : user.substr(colon + 1);
    }
    if (keep == "none" && !dump.empty()) {
        std::fprintf(stderr, "--keep none: --dump needs the rows kept\n");
        return 2;
    }
    o.keep_rows = keep == "all";
    using role_t = qwp::test_server_options::node_role;
    o.role = role == "primary" ? role_t::primary
             : role == "replica" ? role_t::replica
             : role == "primary_catchup" ? role_t::primary_catchup
                                         : role_t::standalone;
    o.zstd = !no_zstd;
    o.max_batch = max_batch;
    o.max_frame = std::max(o.max_frame, max_batch + 14);
    o.idle_timeout = std::chrono::milliseconds(idle_ms);
    o.ack_delay = std::chrono::milliseconds(ack_delay_ms);
    o.handshake_timeout = std::chrono::milliseconds(handshake_ms);
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
