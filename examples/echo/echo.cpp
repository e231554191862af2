// qwire_echo: an echo server and client over TCP, Unix sockets and TLS.
//
//   qwire_echo                         the demo: server and client in one
//                                      process over all three transports,
//                                      printing round-trip latency and
//                                      throughput
//   qwire_echo server tcp|unix|tls ADDRESS
//   qwire_echo client tcp|unix|tls ADDRESS [COUNT]
//
// ADDRESS is host:port for tcp and tls, a path (or @name) for unix. TLS uses
// the test certificates from tests/certs (for localhost / 127.0.0.1).
#include "../cli.hpp"

#include <qwire/core/reactor.hpp>
#include <qwire/core/scope.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/io/unix_socket.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

using namespace qwire;

namespace {

enum class transport { tcp, unix_socket, tls };

struct address {
    std::string host;
    std::uint16_t port = 0;
};

// host:port with a port in 1..65535 (0 too for a server: any free port);
// the error says what is wrong.
result<address> parse_host_port(const std::string& s, bool any_port = false) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return error(std::make_error_code(std::errc::invalid_argument), "'" + s + "': expected host:port");
    unsigned v = 0;
    const char* first = s.data() + colon + 1;
    const auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || p == first || (v == 0 && !any_port) || v > 65535)
        return error(std::make_error_code(std::errc::invalid_argument),
                     "'" + s + "': the port must be a number in " + (any_port ? "0" : "1") + "..65535");
    return address{s.substr(0, colon), static_cast<std::uint16_t>(v)};
}

// The test certificates, at ../share/qwire/certs from this program in the
// build tree (and installed).
std::string certs_dir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (exe.parent_path().parent_path() / "share/qwire/certs").string();
}

const tls_context& server_tls() {
    static const tls_context ctx =
        tls_context::server(certs_dir() + "/server.pem", certs_dir() + "/server.key").value();
    return ctx;
}

const tls_context& client_tls() {
    static const tls_context ctx = [] {
        auto c = tls_context::client().value();
        c.load_ca_file(certs_dir() + "/ca.pem").value();
        return c;
    }();
    return ctx;
}

template <byte_stream S>
task<void> echo(S s) {
    std::vector<std::byte> buf(64 * 1024);
    for (;;) {
        auto n = co_await s.read_some(buf);
        if (!n) co_return;
        auto sent = co_await s.write_all(std::span<const std::byte>(buf.data(), *n));
        if (!sent) co_return;
    }
}

task<void> serve(acceptor& a, transport t, std::size_t max_connections) {
    scope s;
    for (std::size_t i = 0; i < max_connections; ++i) {
        auto c = co_await a.accept();
        if (!c) {
            std::fprintf(stderr, "accept: %s\n", c.error().message().c_str());
            break;
        }
        if (t == transport::tls) {
            s.spawn([](socket_stream raw) -> task<void> {
                auto tls = co_await tls_stream<socket_stream>::accept(std::move(raw), server_tls());
                if (tls) co_await echo(std::move(*tls));
            }(std::move(*c)));
        } else {
            s.spawn(echo(std::move(*c)));
        }
    }
    co_await s.join();
}

using any_stream = std::variant<socket_stream, tls_stream<socket_stream>>;

task<result<any_stream>> open(transport t, const std::string& where) {
    if (t == transport::unix_socket) {
        auto s = co_await connect_unix(where);
        if (!s) co_return s.error();
        co_return any_stream(std::move(*s));
    }
    const auto a = parse_host_port(where).value();  // main checked it
    auto s = co_await connect_tcp(a.host, a.port, {after(std::chrono::seconds(5))});
    if (!s) co_return s.error();
    if (t == transport::tcp) co_return any_stream(std::move(*s));
    auto tls = co_await tls_stream<socket_stream>::connect(std::move(*s), client_tls(), a.host);
    if (!tls) co_return tls.error();
    co_return any_stream(std::move(*tls));
}

struct report {
    std::vector<double> rtt_us;
    double mib_per_s = 0;
};

template <byte_stream S>
task<result<report>> measure(S& s, std::size_t round_trips) {
    report rep;
    std::vector<std::byte> msg(64, std::byte{'q'}), back(64);
    rep.rtt_us.reserve(round_trips);
    for (std::size_t i = 0; i < round_trips; ++i) {
        const auto t0 = clock::now();
        if (auto w = co_await s.write_all(msg); !w) co_return w.error();
        if (auto r = co_await read_exact(s, std::span(back)); !r) co_return r.error();
        rep.rtt_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    // Throughput: 64 MiB in 1 MiB writes, echoed back while we write.
    constexpr std::size_t chunk = 1 << 20, total = 64 << 20;
    std::vector<std::byte> big(chunk, std::byte{'x'});
    std::vector<std::byte> sink(chunk);
    const auto t0 = clock::now();
    auto writer = [&]() -> task<result<void>> {
        for (std::size_t sent = 0; sent < total; sent += chunk)
            if (auto w = co_await s.write_all(big); !w) co_return w;
        co_return result<void>{};
    };
    auto reader = [&]() -> task<result<void>> {
        for (std::size_t got = 0; got < total;) {
            auto n = co_await s.read_some(sink);
            if (!n) co_return n.error();
            got += *n;
        }
        co_return result<void>{};
    };
    auto [w, r] = co_await when_all(writer(), reader());
    if (!w) co_return w.error();
    if (!r) co_return r.error();
    // Echo doubles the bytes on the wire; count what the client sent.
    rep.mib_per_s = double(total) / (1 << 20) / std::chrono::duration<double>(clock::now() - t0).count();
    co_return rep;
}

void print(const char* name, report& r) {
    std::sort(r.rtt_us.begin(), r.rtt_us.end());
    auto pct = [&](double p) { return r.rtt_us[static_cast<std::size_t>(p * double(r.rtt_us.size() - 1))]; };
    std::printf("%-6s  round trip (64 B): p50 %7.1f us  p99 %7.1f us   echo throughput (1 MiB writes): %8.0f MiB/s\n",
                name, pct(0.5), pct(0.99), r.mib_per_s);
}

task<int> client(transport t, std::string where, std::size_t count) {
    auto s = co_await open(t, where);
    if (!s) {
        std::fprintf(stderr, "connect %s: %s\n", where.c_str(), s.error().message().c_str());
        co_return 1;
    }
    auto rep = co_await std::visit([&](auto& st) { return measure(st, count); }, *s);
    if (!rep) {
        std::fprintf(stderr, "echo: %s\n", rep.error().message().c_str());
        co_return 1;
    }
    print(t == transport::tcp ? "tcp" : t == transport::tls ? "tls" : "unix", *rep);
    if (auto* tls = std::get_if<tls_stream<socket_stream>>(&*s))
        std::printf("        %s %s (both ends encrypt and decrypt on this one thread)\n",
                    std::string(tls->version()).c_str(), std::string(tls->cipher()).c_str());
    co_return 0;
}

result<acceptor> listen(transport t, const std::string& where) {
    if (t == transport::unix_socket) return unix_listen(where);
    auto a = parse_host_port(where, true);
    if (!a) return a.error();
    return tcp_listen(a->host, a->port);
}

int demo() {
    reactor r;
    std::printf("qwire echo demo: server and client on one reactor, one thread (ring: %s)\n",
                r.defer_taskrun() ? "SINGLE_ISSUER|DEFER_TASKRUN" : "plain");
    const std::string unix_name = "@qwire-echo-demo-" + std::to_string(::getpid());
    int rc = 0;
    for (auto [t, where] : {std::pair{transport::tcp, std::string("127.0.0.1:0")},
                            std::pair{transport::unix_socket, unix_name},
                            std::pair{transport::tls, std::string("127.0.0.1:0")}}) {
        auto a = listen(t, where).value();
        std::string target = where;
        if (t != transport::unix_socket) target = "localhost:" + std::to_string(a.local_endpoint().port());
        auto [_, c] = r.block_on(when_all(serve(a, t, 1), client(t, target, 20000)));
        rc |= c;
    }
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("The echo demo: with no arguments, server and client in one process over TCP, a Unix socket and TLS; "
                 "or one side of it.",
                 "qwire_echo");
    std::string mode, transport_name, address;
    std::size_t count = 10000;
    app.add_option("mode", mode, "server or client (none: the demo)")->check(CLI::IsMember({"server", "client"}));
    app.add_option("transport", transport_name, "tcp, unix or tls")->check(CLI::IsMember({"tcp", "unix", "tls"}));
    app.add_option("address", address, "host:port (tcp, tls) or a Unix socket path (@name: abstract)");
    app.add_option("count", count, "client: round trips to time")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))->capture_default_str();
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    try {
        if (mode.empty()) return demo();
        if (address.empty()) {
            std::fprintf(stderr, "qwire_echo: %s needs a transport and an address (see --help)\n", mode.c_str());
            return 2;
        }
        const transport t = transport_name == "tcp" ? transport::tcp : transport_name == "unix" ? transport::unix_socket : transport::tls;
        if (t != transport::unix_socket) {
            if (auto a = parse_host_port(address, mode == "server"); !a) {
                std::fprintf(stderr, "address: %s\n", std::string(a.error().detail()).c_str());
                return 2;
            }
        }
        reactor r;
        if (mode == "server") {
            auto a = listen(t, address);
            if (!a) {
                std::fprintf(stderr, "listen %s: %s\n", address.c_str(), a.error().message().c_str());
                return 1;
            }
            std::printf("echo server on %s\n", a->local_endpoint().to_string().c_str());
            r.block_on(serve(*a, t, SIZE_MAX));
            return 0;
        }
        return r.block_on(client(t, address, count));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
