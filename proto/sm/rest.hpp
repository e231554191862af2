// The Storage Manager over REST: a DA registers with POST /register
// ({"mount": ..., "callback": <URL>}, answered with the mount's last
// ReloadSignal as JSON) and reads GET /status (an array of MountStatus:
// mount, params); SM then POSTs each new reload signal to the callback URL,
// where reload_endpoint() hands it to the same reload_handler the q IPC
// client uses. HTTP 404 (no such mount), 503 (SM not ready) and 400 (no
// callback) are errc::mount, errc::state and errc::callback. The status
// path is not in KX's public documents: it is an option.
#pragma once

#include <qwire/proto/http/server.hpp>
#include <qwire/proto/sm/client.hpp>

namespace qwire::sm {

struct rest_options {
    rest_options() {}
    std::string register_path = "/register";
    std::string status_path = "/status";  // unconfirmed
    clock::duration timeout = std::chrono::seconds(10);  // per call, connect included
    http::limits lim{16 * 1024, 64, 16 * 1024 * 1024};
};

// Where an HTTP peer listens: a host and port, or a Unix socket's path.
struct http_endpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string unix_path;  // when set, host and port are only the Host header's
    std::string target = "/";
};
// "http://host:port/path" (port 80 when left out) or "http+unix://%2Fpath%2Fsock/path".
result<http_endpoint> parse_http_url(std::string_view url);

// One request to ep, on a connection of its own.
task<result<http::response>> http_call(const http_endpoint& ep, http::request r, clock::duration timeout, http::limits lim = {});

// The error for one of SM's HTTP statuses (a 2xx is none).
error status_error(int status, std::string_view body);

class rest_client {
public:
    rest_client(std::string host, std::uint16_t port, rest_options o = {});
    static rest_client over_unix(std::string path, rest_options o = {});

    // The timeout is sent only when positive (for an IDB or HDB mount).
    task<result<reload_signal>> register_mount(std::string mount, std::string callback_url,
                                               std::chrono::nanoseconds timeout = {});
    task<result<std::vector<mount_status>>> status();

private:
    rest_client(http_endpoint ep, rest_options o) : ep_(std::move(ep)), o_(std::move(o)) {}
    http_endpoint ep_;
    rest_options o_;
};

// A handler for the DA's callback URL: each POST carries a reload signal
// as JSON with its "mount"; answered 200 once h is done (SM reads that as
// the reload's completion), 400 for a body that is not a signal, 405 for
// another method, 500 with the text when h fails.
http::handler reload_endpoint(reload_handler h);

}  // namespace qwire::sm
