// Command-line pieces of the kdb+ examples: kdb+ addresses as q's hopen
// spells them, TLS for clients, and the server's limits and TLS.
#pragma once

#include "../cli.hpp"

#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/address.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

namespace qwire::examples {

// A kdb+ address option (or positional, when name has no dashes): what
// q's hopen takes (kdb::parse_address), checked while parsing, so a bad one
// is an error naming the option, and exit 2.
inline CLI::Option* add_address(CLI::App& app, const std::string& name, kdb::address& out, const std::string& what) {
    return app
        .add_option_function<std::string>(
            name, [&out](const std::string& v) { out = kdb::parse_address(v).value(); }, what)
        ->check(CLI::Validator(
            [](std::string& v) {
                auto a = kdb::parse_address(v);
                return a ? std::string() : std::string(a.error().detail());
            },
            "ADDRESS"));
}

inline constexpr const char* address_help = "host:port[:user:password], :unix://port or :tcps://host:port (as hopen takes them)";

// Listens on 127.0.0.1:port, waiting up to `patience` for the port while it
// is in use: a process killed with -9 holds its listening socket a moment
// after it is gone (io_uring tears its ring down asynchronously), and a
// restart right after must not fail for that.
inline result<acceptor> listen_tcp_waiting(std::uint16_t port, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto a = tcp_listen("127.0.0.1", port);
        if (a || a.error() != std::errc::address_in_use || std::chrono::steady_clock::now() >= until) return a;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// A kdb+ process's listeners: 127.0.0.1:port (0: any free port, the one
// bound reported in `port`) and kdb+'s Unix socket for that port. Tests
// start servers on port 0 and read the port from the banner, so that
// parallel tests never race for one.
struct kdb_listeners {
    acceptor tcp, uds;
    std::uint16_t port = 0;
};

inline result<kdb_listeners> listen_kdb(std::uint16_t port) {
    auto tcp = listen_tcp_waiting(port);
    if (!tcp) return tcp.error();
    const std::uint16_t bound = tcp->local_endpoint().port();
    auto uds = unix_listen(kdb::unix_socket_name(bound));
    if (!uds) return uds.error();
    return kdb_listeners{std::move(*tcp), std::move(*uds), bound};
}

// --port for a server: 0 asks for any free port (the banner names it).
inline CLI::Option* add_port_option(CLI::App& app, std::uint16_t& port, const char* what) {
    return app.add_option("--port", port, std::string(what) + " (0: any free one, printed on the first line)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
}

// --tls / --ca for a kdb+ client.
struct kdb_client_tls {
    bool tls = false;
    std::string ca;
    void add(CLI::App& app) {
        app.add_flag("--tls", tls, "connect over TLS, verifying the server against the system's CAs");
        app.add_option("--ca", ca, "connect over TLS, trusting the CAs in this PEM file")->check(CLI::ExistingFile);
    }
    bool enabled() const { return tls || !ca.empty(); }
    result<tls_context> context() const {
        auto ctx = tls_context::client();
        if (!ctx) return ctx.error();
        const std::string roots = ca.empty() ? "/etc/ssl/certs/ca-certificates.crt" : ca;
        if (auto r = ctx->load_ca_file(roots); !r) return r.error();
        return ctx;
    }
};

// Connects to a kdb+ address; --tls or --ca make it TLS whatever its form.
inline task<result<kdb::connection>> connect(kdb::address a, const kdb_client_tls& tls) {
    if (!tls.enabled()) co_return co_await kdb::connect(a);
    a.kind = kdb::transport::tls;
    auto ctx = tls.context();
    if (!ctx) co_return ctx.error();
    co_return co_await kdb::connect(a, {}, &*ctx);
}

// The limits and timeouts of kdb::server_options, and TLS, for a server.
struct kdb_server_cli {
    kdb::server_options opts;
    std::string tls_cert, tls_key;
    std::uint64_t idle_ms = 0, read_ms = 60'000;
    std::string slow_peer = "disconnect";

    void add(CLI::App& app) {
        auto* limits = "Limits";
        app.add_option("--max-message-bytes", opts.lim.max_message_bytes,
                       "largest message accepted, on the wire or decompressed")
            ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{1} << 40))
            ->capture_default_str()
            ->group(limits);
        app.add_option("--max-decoded-bytes", opts.lim.max_decoded_bytes, "memory one message's decoded value may take")
            ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{1} << 42))
            ->capture_default_str()
            ->group(limits);
        app.add_option("--max-send-queue-bytes", opts.max_send_queue_bytes,
                       "bytes queued for one client before --slow-peer acts")
            ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40))
            ->capture_default_str()
            ->group(limits);
        app.add_option("--slow-peer", slow_peer, "what happens to a client over its send queue bound")
            ->check(CLI::IsMember({"disconnect", "block"}))
            ->capture_default_str()
            ->group(limits);
        app.add_option("--idle-timeout-ms", idle_ms, "close a client silent this long (0: never)")
            ->capture_default_str()
            ->group(limits);
        app.add_option("--read-timeout-ms", read_ms, "close a client whose message is unfinished after this long (0: never)")
            ->capture_default_str()
            ->group(limits);
        app.add_option("--max-connections", opts.max_connections, "clients served at once")
            ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
            ->capture_default_str()
            ->group(limits);
        auto* cert = app.add_option("--tls-cert", tls_cert, "serve TLS on the TCP port with this PEM certificate")
                         ->check(CLI::ExistingFile)
                         ->group("TLS");
        auto* key = app.add_option("--tls-key", tls_key, "the certificate's PEM key")->check(CLI::ExistingFile)->group("TLS");
        cert->needs(key);
        key->needs(cert);
    }
    // Call after parsing.
    const kdb::server_options& options() {
        opts.idle_timeout = std::chrono::milliseconds(idle_ms);
        opts.read_timeout = std::chrono::milliseconds(read_ms);
        opts.slow_peer = slow_peer == "block" ? kdb::slow_peer_policy::block : kdb::slow_peer_policy::disconnect;
        return opts;
    }
    bool tls() const { return !tls_cert.empty(); }
    // The server's TLS context, when --tls-cert was given; on failure it
    // says why (naming the option) and returns false.
    bool load_tls(std::optional<tls_context>& out) const {
        if (!tls()) return true;
        auto ctx = tls_context::server(tls_cert, tls_key);
        if (!ctx) {
            std::fprintf(stderr, "--tls-cert %s: %s\n", tls_cert.c_str(), ctx.error().message().c_str());
            return false;
        }
        out.emplace(std::move(*ctx));
        return true;
    }
};

}  // namespace qwire::examples
