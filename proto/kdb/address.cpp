#include <qwire/proto/kdb/address.hpp>

#include <qwire/proto/kdb/error.hpp>

#include <charconv>

namespace qwire::kdb {
namespace {

error bad(std::string_view text, std::string_view why) {
    return error(errc::bad_address, "'" + std::string(text) + "': " + std::string(why));
}

}  // namespace

std::string address::to_string() const {
    std::string out = kind == transport::unix_socket ? ":unix://" : kind == transport::tls ? ":tcps://" + host + ":" : host + ":";
    out += std::to_string(port);
    if (!credentials.empty()) out += ":" + credentials.substr(0, credentials.find(':'));
    return out;
}

result<address> parse_address(std::string_view text) {
    std::string_view s = text;
    if (!s.empty() && s.front() == '`') s.remove_prefix(1);
    if (!s.empty() && s.front() == ':') s.remove_prefix(1);
    address a;
    if (s.starts_with("unix://")) {
        a.kind = transport::unix_socket;
        s.remove_prefix(7);
        a.host.clear();
    } else if (s.starts_with("tcps://")) {
        a.kind = transport::tls;
        s.remove_prefix(7);
    } else if (const auto scheme = s.find("://"); scheme != std::string_view::npos) {
        return bad(text, "unknown scheme '" + std::string(s.substr(0, scheme)) + "' (unix:// or tcps://)");
    }
    if (a.kind != transport::unix_socket) {
        const auto colon = s.find(':');
        if (colon == std::string_view::npos) return bad(text, "no port (host:port)");
        if (colon > 0) a.host = std::string(s.substr(0, colon));
        s.remove_prefix(colon + 1);
    }
    const auto end = s.find(':');
    const std::string_view port = s.substr(0, end);
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty()) return bad(text, "no port (host:port)");
    if (ec != std::errc{} || p != port.data() + port.size()) return bad(text, "port '" + std::string(port) + "' is not a number");
    if (v == 0 || v > 65535) return bad(text, "port " + std::string(port) + " is outside 1..65535");
    a.port = static_cast<std::uint16_t>(v);
    if (end != std::string_view::npos) a.credentials = std::string(s.substr(end + 1));
    return a;
}

task<result<connection>> connect(const address& a, connection_options o, const tls_context* tls) {
    if (o.credentials.empty()) o.credentials = a.credentials;
    switch (a.kind) {
        case transport::unix_socket: co_return co_await connection::connect_unix(a.port, o);
        case transport::tls: {
            if (tls) co_return co_await connection::connect_tls(a.host, a.port, *tls, o);
            auto ctx = tls_context::client();
            if (!ctx) co_return ctx.error();
            if (auto r = ctx->load_ca_file("/etc/ssl/certs/ca-certificates.crt"); !r) co_return r.error();
            co_return co_await connection::connect_tls(a.host, a.port, *ctx, o);
        }
        case transport::tcp: break;
    }
    co_return co_await connection::connect_tcp(a.host, a.port, o);
}

}  // namespace qwire::kdb
