#include <qwire/proto/sm/rest.hpp>

#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>

#include <simdjson.h>

#include <charconv>

namespace qwire::sm {

namespace {

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        int v = 0;
        if (s[i] == '%' && i + 2 < s.size() && std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr == s.data() + i + 3) {
            out.push_back(static_cast<char>(v));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

http::request json_request(std::string method, const http_endpoint& ep, std::string target, std::string body) {
    http::request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers.add("Host", ep.unix_path.empty() ? ep.host + ":" + std::to_string(ep.port) : std::string("localhost"));
    if (!body.empty()) r.headers.add("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

// The "mount" of a callback body, if it names one.
std::string mount_of(std::string_view json) {
    simdjson::dom::parser p;
    simdjson::padded_string text(json);
    std::string_view mount;
    if (p.parse(text)["mount"].get(mount)) return {};
    return std::string(mount);
}

}  // namespace

result<http_endpoint> parse_http_url(std::string_view url) {
    http_endpoint ep;
    const error wrong(errc::callback, "not an http:// URL: \"" + std::string(url.substr(0, 200)) + "\"");
    std::string_view rest;
    const bool over_unix = url.starts_with("http+unix://");
    if (over_unix) rest = url.substr(12);
    else if (url.starts_with("http://")) rest = url.substr(7);
    else return wrong;
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    ep.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (authority.empty()) return wrong;
    if (over_unix) {
        ep.unix_path = percent_decode(authority);
        return ep;
    }
    const auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    ep.port = 80;
    if (colon != std::string_view::npos) {
        const std::string_view port = authority.substr(colon + 1);
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) return wrong;
        ep.port = static_cast<std::uint16_t>(v);
    }
    if (ep.host.empty()) return wrong;
    return ep;
}

task<result<http::response>> http_call(const http_endpoint& ep, http::request r, clock::duration timeout, http::limits lim) {
    const op_options o(clock::now() + timeout);
    // Two statements: g++ 12 mishandles co_await inside ?:.
    result<socket_stream> s = make_error_code(errc::callback);
    if (ep.unix_path.empty()) s = co_await connect_tcp(ep.host, ep.port, o);
    else s = co_await connect_unix(ep.unix_path, o);
    if (!s) co_return s.error();
    r.headers.add("Connection", "close");
    byte_buffer in;
    co_return co_await http::exchange(*s, in, std::move(r), o, lim);
}

error status_error(int status, std::string_view body) {
    const std::string text(body.substr(0, 400));
    switch (status) {
        case 404: return error(errc::mount, text);
        case 503: return error(errc::state, text);
        case 400: return error(errc::callback, text);
        default:
            if (status >= 200 && status < 300) return {};
            return error(errc::http_status, std::to_string(status) + " " + text);
    }
}

rest_client::rest_client(std::string host, std::uint16_t port, rest_options o) : o_(std::move(o)) {
    ep_.host = std::move(host);
    ep_.port = port;
}

rest_client rest_client::over_unix(std::string path, rest_options o) {
    http_endpoint ep;
    ep.unix_path = std::move(path);
    return rest_client(std::move(ep), std::move(o));
}

task<result<reload_signal>> rest_client::register_mount(std::string mount, std::string callback_url,
                                                        std::chrono::nanoseconds timeout) {
    http::json_writer w;
    w.begin_object().key("mount").value(mount).key("callback").value(callback_url);
    if (timeout.count() > 0) w.key("timeout").value(timespan_text(timeout));
    w.end_object();
    auto r = co_await http_call(ep_, json_request("POST", ep_, o_.register_path, std::move(w).take()), o_.timeout, o_.lim);
    if (!r) co_return r.error();
    if (auto e = status_error(r->status, r->body)) co_return error(e.code(), "register " + mount + ": " + std::string(e.detail()));
    auto s = signal_from_json(r->body);
    if (!s) co_return error(s.error().code(), "register " + mount + ": " + std::string(s.error().detail()));
    co_return s;
}

task<result<std::vector<mount_status>>> rest_client::status() {
    auto r = co_await http_call(ep_, json_request("GET", ep_, o_.status_path, {}), o_.timeout, o_.lim);
    if (!r) co_return r.error();
    if (auto e = status_error(r->status, r->body)) co_return e;
    co_return status_from_json(r->body);
}

http::handler reload_endpoint(reload_handler h) {
    return [h = std::move(h)](http::request& q) -> task<http::response> {
        if (q.method != "POST") co_return http::make_response(405, "{\"error\":\"POST a reload signal\"}");
        auto s = signal_from_json(q.body);
        const std::string mount = mount_of(q.body);
        if (!s || mount.empty())
            co_return http::make_response(400, "{\"error\":" +
                                                   http::json_quote(s ? std::string("no mount") : s.error().message()) + "}");
        auto done = co_await h(mount, *s);
        if (!done) co_return http::make_response(500, "{\"error\":" + http::json_quote(done.error().message()) + "}");
        co_return http::make_response(200, "{}");
    };
}

}  // namespace qwire::sm
