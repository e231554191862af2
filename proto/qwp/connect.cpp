#include <qwire/proto/qwp/connect.hpp>

#include <qwire/io/tcp.hpp>
#include <qwire/io/tls.hpp>

#include <algorithm>
#include <charconv>

namespace qwire::qwp {

task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, const config::address& a,
                                                                          std::string path, http::headers extra,
                                                                          op_options o) {
    op_options connect_o = o;
    if (c.connect_timeout.count() > 0) {
        const auto d = clock::now() + c.connect_timeout;
        connect_o.deadline = o.deadline ? std::min(*o.deadline, d) : d;
    }
    auto tcp = co_await tcp_connect(a.host, a.port, connect_o);
    if (!tcp) co_return tcp.error();
    const bool local = tcp->peer_is_local();
    any_stream s;
    if (c.tls) {
        auto ctx = tls_context::client();
        if (!ctx) co_return ctx.error();
        if (!c.tls_verify) {
            ctx->set_verify_peer(false);
        } else {
            const std::string roots = c.tls_roots.empty() ? "/etc/ssl/certs/ca-certificates.crt" : c.tls_roots;
            if (auto r = ctx->load_ca_file(roots); !r) co_return r.error();
        }
        op_options auth_o = o;
        const auto auth_deadline = clock::now() + c.auth_timeout;
        auth_o.deadline = o.deadline ? std::min(*o.deadline, auth_deadline) : auth_deadline;
        auto t = co_await tls_stream<socket_stream>::connect(std::move(*tcp), *ctx, a.host, auth_o);
        if (!t) co_return t.error();
        s = any_stream(std::move(*t), local);
    } else {
        s = any_stream(std::move(*tcp), local);
    }
    co_return co_await open_ws(c, std::move(s), a.host + ":" + std::to_string(a.port), std::move(path), std::move(extra), o);
}

task<result<std::pair<ws::stream<any_stream>, http::response>>> open_ws(const config& c, any_stream s, std::string host,
                                                                          std::string path, http::headers extra,
                                                                          op_options o) {
    op_options auth_o = o;
    const auto auth_deadline = clock::now() + c.auth_timeout;
    auth_o.deadline = o.deadline ? std::min(*o.deadline, auth_deadline) : auth_deadline;
    extra.add("X-QWP-Max-Version", "1");
    if (!c.client_id.empty()) extra.add("X-QWP-Client-Id", c.client_id);
    if (!c.token.empty()) extra.add("Authorization", http::bearer_auth(c.token));
    else if (!c.username.empty()) extra.add("Authorization", http::basic_auth(c.username, c.password));
    byte_buffer in;
    auto resp = co_await ws::client_handshake(s, in, std::move(host), std::move(path), extra, auth_o);
    if (!resp) co_return resp.error();
    if (resp->status == 401 || resp->status == 403) co_return make_error_code(errc::unauthorized);
    if (resp->status == 400 || resp->status == 426) co_return make_error_code(errc::bad_request);
    if (resp->status == 404) co_return make_error_code(errc::no_qwp_endpoint);
    if (resp->status != 101) co_return make_error_code(errc::handshake_rejected);
    if (auto v = resp->headers.get("X-QWP-Version"); v && *v != "1") co_return make_error_code(errc::version_mismatch);
    ws::stream_options wo;
    wo.max_message_size = 256 << 20;  // the reference clients' sanity cap
    co_return std::pair(ws::stream<any_stream>(std::move(s), ws::role::client, std::move(in), wo), std::move(*resp));
}

task<result<std::pair<ws::stream<any_stream>, server_info>>> open_ingress(const config& c, const config::address& a,
                                                                           op_options o, const stream_factory* factory) {
    http::headers extra;
    if (c.request_durable_ack) extra.add("X-QWP-Request-Durable-Ack", "true");
    result<std::pair<ws::stream<any_stream>, http::response>> w = make_error_code(errc::must_close);
    if (factory) {
        auto s = co_await (*factory)(o);
        if (!s) co_return s.error();
        w = co_await open_ws(c, std::move(*s), a.host + ":" + std::to_string(a.port), "/write/v4", std::move(extra), o);
    } else {
        w = co_await open_ws(c, a, "/write/v4", std::move(extra), o);
    }
    if (!w) co_return w.error();
    const http::response& resp = w->second;
    server_info info;
    if (auto m = resp.headers.get("X-QWP-Max-Batch-Size")) {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(m->data(), m->data() + m->size(), n);
        if (ec == std::errc{} && end == m->data() + m->size() && n >= 1024) info.max_batch_size = n;
    }
    if (auto r = resp.headers.get("X-QuestDB-Role")) info.role = std::string(*r);
    info.durable_ack = resp.headers.get("X-QWP-Durable-Ack") == std::optional<std::string_view>("enabled");
    if (c.request_durable_ack && !info.durable_ack) co_return make_error_code(errc::durable_ack_unavailable);
    co_return std::pair(std::move(w->first), std::move(info));
}

}  // namespace qwire::qwp
