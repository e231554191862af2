// sm_emulator [--port N] [--tp HOST:PORT] [--reload-timeout-ms MS] [--mount NAME:KIND ...]
//
// A kdb Insights Storage Manager stand-in to test a Data Access process
// against: q IPC (.sm.api.register, .sm.api.getStatus) and REST (POST
// /register, GET /status) on one port (127.0.0.1, default 10001 as in KX's
// samples). Mounts: rdb (stream), idb and hdb by default. An end of
// interval or of day is asked for with q's .sm.eoi[] / .sm.eod[] (or with
// an endTS timestamp) or REST POST /eoi, /eod; with --tp the emulator
// publishes _prtnEnd and _reload on that tickerplant (kdb_server --rt) and
// follows it to learn each _prtnEnd's position.
#include "kdb_cli.hpp"

#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/sm/emulator.hpp>

#include <cstdio>

using namespace qwire;

namespace {

task<void> attach_stream(sm::emulator& em, kdb::address tp) {
    auto pub = co_await kdb::connect(tp);
    auto follow = co_await kdb::connect(tp);
    if (!pub || !follow) {
        std::fprintf(stderr, "sm_emulator: cannot connect to the tickerplant at %s (--tp): %s\n", tp.to_string().c_str(),
                     (!pub ? pub.error() : follow.error()).message().c_str());
        std::exit(1);
    }
    em.set_publisher(kdb::rt::publisher(std::move(*pub)));
    auto r = co_await em.follow_stream(std::move(*follow));
    std::fprintf(stderr, "sm_emulator: the stream ended: %s\n", r ? "closed" : r.error().message().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("A kdb Insights Storage Manager emulator: q IPC and REST on one port.", "sm_emulator");
    std::uint16_t port = 10001;
    std::uint64_t reload_timeout_ms = 30'000;
    std::vector<std::string> mounts;
    examples::add_port_option(app, port, "TCP port on 127.0.0.1 for q IPC and REST");
    std::optional<kdb::address> tp;
    examples::add_address(app, "--tp", tp.emplace(), "tickerplant (started with --rt) to publish _prtnEnd and _reload on: " +
                                                         std::string(examples::address_help));
    app.add_option("--reload-timeout-ms", reload_timeout_ms, "the longest a DA's reload is waited for")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{86'400'000}))
        ->capture_default_str();
    app.add_option("--mount", mounts, "a mount as NAME:stream|idb|hdb (repeatable; default rdb:stream idb:idb hdb:hdb)");
    if (auto rc = examples::parse(app, argc, argv)) return *rc;

    sm::emulator_options o;
    o.reload_timeout = std::chrono::milliseconds(reload_timeout_ms);
    if (!mounts.empty()) {
        o.mounts.clear();
        for (const auto& m : mounts) {
            const auto colon = m.find(':');
            const std::string kind = colon == std::string::npos ? "" : m.substr(colon + 1);
            if (colon == 0 || (kind != "stream" && kind != "idb" && kind != "hdb")) {
                std::fprintf(stderr, "--mount: \"%s\" is not NAME:stream, NAME:idb or NAME:hdb\n", m.c_str());
                return 2;
            }
            o.mounts.push_back({m.substr(0, colon), kind == "stream" ? sm::mount_kind::stream
                                                     : kind == "idb"  ? sm::mount_kind::idb
                                                                      : sm::mount_kind::hdb});
        }
    }
    if (app.count("--tp") == 0) tp.reset();
    reactor r;
    sm::emulator em(o);
    auto a = examples::listen_tcp_waiting(port);
    if (!a) {
        std::fprintf(stderr, "sm_emulator: cannot listen on port %u (--port): %s\n", port, a.error().message().c_str());
        return 1;
    }
    std::string names;
    for (const auto& m : o.mounts)
        names += " " + m.name + (m.kind == sm::mount_kind::stream ? "(stream)" : m.kind == sm::mount_kind::idb ? "(idb)" : "(hdb)");
    std::printf("sm emulator on 127.0.0.1:%u (q IPC and REST), mounts%s%s\n", a->local_endpoint().port(), names.c_str(),
                tp ? (", stream " + tp->to_string()).c_str() : "");
    std::fflush(stdout);
    if (tp)
        r.block_on(when_all(em.serve(*a), attach_stream(em, *tp)));
    else
        r.block_on(em.serve(*a));
}
