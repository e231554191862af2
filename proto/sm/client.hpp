// A Data Access process's side of the Storage Manager over q IPC.
//
//     sm::client sm((co_await kdb::connection::connect_tcp("sm", 10001)).value());
//     auto last = co_await sm.register_mount("rdb", 0ns, ".da.reload",
//         [&](const sm::reload_signal& s) -> task<result<void>> { purge_before(s.min_ts()); co_return {}; });
//     co_await sm.run();   // SM's callbacks arrive on this connection
//
// register_mount is a sync .sm.api.register[mount; timeout; callback]; SM
// answers the mount's last reload signal (with the timeout it uses) and
// from then on calls the callback on this same connection, sync or async,
// with each new signal. qwire routes that call to the C++ handler. When the
// timeout is positive SM waits for the DA to say its reload is done: the
// client sends (reload_complete_function; `mount) async once the handler
// returns. That function's name is not in KX's public documents, so it is
// an option.
#pragma once

#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/sm/signal.hpp>

#include <functional>
#include <map>
#include <memory>

namespace qwire::sm {

struct client_options {
    client_options() {}
    std::string register_function = ".sm.api.register";
    std::string status_function = ".sm.api.getStatus";
    // Unconfirmed: the function a DA calls when a reload with a timeout is done.
    std::string reload_complete_function = ".sm.api.reloadComplete";
};

// Handles one reload signal for a mount. An error is answered to SM (a sync
// callback gets it as a q error) and no completion is sent.
using reload_handler = std::function<task<result<void>>(const std::string& mount, const reload_signal& s)>;

// SM's 'mount, 'state and 'callback as sm::errc; any other error as it came.
error map_remote_error(const error& e);

class client {
public:
    explicit client(kdb::connection c, client_options o = {});
    client(client&&) noexcept = default;
    client& operator=(client&&) noexcept = default;
    ~client();

    // Registers a mount (a symbol; timeout 0 for a stream mount, else about
    // the longest query) with `callback` as the q name SM calls. The answer
    // is the mount's last reload signal.
    task<result<reload_signal>> register_mount(std::string mount, std::chrono::nanoseconds timeout, std::string callback,
                                               reload_handler h);
    // .sm.api.getStatus[]: every mount with its last signal.
    task<result<std::vector<mount_status>>> status();
    // Handles SM's async callbacks until the connection ends (sync ones are
    // answered whether run() is running or not); ends with why.
    task<result<void>> run();

    kdb::connection& conn();

    struct state;

private:
    std::shared_ptr<state> s_;
};

}  // namespace qwire::sm
