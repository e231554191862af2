#include <qwire/proto/qwp/connect.hpp>

#include <algorithm>
#include <charconv>

namespace qwire::qwp {

namespace detail {

std::string host_header(const config::address& a) { return a.host + ":" + std::to_string(a.port); }

op_options within(op_options o, clock::duration d) { return d.count() > 0 ? o.cut_to(clock::now() + d) : o; }

http::headers upgrade_headers(const config& c, http::headers extra) {
    extra.add("X-QWP-Max-Version", "1");
    if (!c.client_id.empty()) extra.add("X-QWP-Client-Id", c.client_id);
    if (!c.token.empty())
        extra.add("Authorization", http::bearer_auth(c.token));
    else if (!c.username.empty())
        extra.add("Authorization", http::basic_auth(c.username, c.password));
    return extra;
}

result<void> check_answer(const http::response& r) {
    if (r.status == 401 || r.status == 403) return make_error_code(errc::unauthorized);
    if (r.status == 400 || r.status == 426) return make_error_code(errc::bad_request);
    if (r.status == 404) return make_error_code(errc::no_qwp_endpoint);
    if (r.status == 421) {
        const auto role = r.headers.get("X-QuestDB-Role");
        return error(errc::role_mismatch, "HTTP 421 from a node with role " + std::string(role ? *role : "?"));
    }
    if (r.status != 101) return make_error_code(errc::handshake_rejected);
    if (auto v = r.headers.get("X-QWP-Version"); v && *v != "1") return make_error_code(errc::version_mismatch);
    return {};
}

result<tls_context> client_tls(const config& c) {
    auto ctx = tls_context::client();
    if (!ctx) return ctx.error();
    if (!c.tls_verify) {
        ctx->set_verify_peer(false);
    } else {
        const std::string roots = c.tls_roots.empty() ? "/etc/ssl/certs/ca-certificates.crt" : c.tls_roots;
        if (auto r = ctx->load_ca_file(roots); !r) return r.error();
    }
    return ctx;
}

result<server_info> ingress_info(const config& c, const http::response& resp) {
    server_info info;
    if (auto m = resp.headers.get("X-QWP-Max-Batch-Size")) {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(m->data(), m->data() + m->size(), n);
        if (ec == std::errc{} && end == m->data() + m->size() && n >= 1024) info.max_batch_size = n;
    }
    if (auto r = resp.headers.get("X-QuestDB-Role")) info.role = std::string(*r);
    info.durable_ack = resp.headers.get("X-QWP-Durable-Ack") == std::optional<std::string_view>("enabled");
    if (c.request_durable_ack && !info.durable_ack) return make_error_code(errc::durable_ack_unavailable);
    return info;
}

pipeline_base::options pipeline_options(const config& c, const server_info& info) {
    pipeline_base::options po;
    po.window = c.in_flight_window;
    po.max_bytes = c.max_in_flight_bytes;
    po.durable = info.durable_ack;
    return po;
}

}  // namespace detail

task<result<ingress>> open_ingress(const config& c, const config::address& a, op_options o) {
    std::string host = detail::host_header(a);
    co_return co_await with_stream<ingress>(c, a, o, [&](auto s) {
        return open_ingress(c, std::move(s), std::move(host), o);
    });
}

}  // namespace qwire::qwp
