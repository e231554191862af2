// kdb::server: serve q clients (and anything speaking kdb+ IPC) from C++.
//
// The hooks mirror q's: on_login (.z.pw), on_open (.z.po), on_sync (.z.pg:
// its value, or its error, is the response), on_async (.z.ps), on_close
// (.z.pc). Messages of one client are handled one after another, in order;
// clients are served concurrently. A sync handler may take over its response
// with peer::defer() and answer later from any coroutine (kdb+'s -30!).
//
//     kdb::server srv;
//     srv.on_sync([](kdb::peer&, kdb::k x) -> task<result<kdb::k>> { co_return x; });
//     co_await srv.serve(acceptor);
#pragma once

#include <qwire/core/scope.hpp>
#include <qwire/io/socket.hpp>
#include <qwire/io/tls.hpp>
#include <qwire/proto/kdb/session.hpp>

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>

namespace qwire::kdb {

// What the server does with a peer whose send queue is over its bound
// (a subscriber that reads slower than the feed publishes).
enum class slow_peer_policy {
    disconnect,  // drop the peer, with a log line (what a kdb+ tickerplant's users expect)
    block,       // the pushing coroutine waits for room (it stalls that publisher only)
};

// Everything a client can make the server hold is bounded. Per connection,
// memory is at most about lim.max_message_bytes (the message being read,
// twice when it arrives compressed) + lim.max_decoded_bytes (its decoded
// value) + max_send_queue_bytes (encoded messages waiting for the socket).
struct server_options {
    int capability = default_capability;   // the highest we agree to
    compression compress = compression::auto_;
    std::size_t max_credentials = 1024;     // longer handshakes are refused
    clock::duration handshake_timeout = std::chrono::seconds(10);
    limits lim = server_limits();           // 128 MiB messages, 512 MiB decoded
    // Bytes of pushes and responses queued for one peer before the policy acts.
    std::size_t max_send_queue_bytes = std::size_t{64} << 20;
    slow_peer_policy slow_peer = slow_peer_policy::disconnect;
    // A connection that sends no message for idle_timeout is closed. Zero
    // (the default): never, as kdb+ (subscribers are idle by nature).
    clock::duration idle_timeout{0};
    // A message that has begun must arrive whole within read_timeout (a peer
    // stuck halfway, or trickling bytes, is closed). Zero: no limit.
    clock::duration read_timeout = std::chrono::seconds(60);
    // Connections served at once (handshakes included); more are closed
    // at accept, with a log line.
    std::size_t max_connections = 1000;
    // Names the server in its log lines.
    std::string log_name = "kdb server";
};

class peer;

// A response a sync handler took over with peer::defer().
class deferred_response {
public:
    deferred_response() = default;
    task<result<void>> reply(k value);
    task<result<void>> fail(std::string_view error_text);
    bool valid() const noexcept { return p_ != nullptr; }

private:
    friend class peer;
    explicit deferred_response(std::shared_ptr<struct peer_state> p) : p_(std::move(p)) {}
    std::shared_ptr<struct peer_state> p_;
};

// The server's side of one client connection.
class peer {
public:
    std::uint64_t id() const noexcept;
    const std::string& user() const noexcept;
    int capability() const noexcept;
    bool is_open() const noexcept;

    // Queues an async message for the client and returns: it never waits
    // for the client to read (with the block policy, it waits while the
    // peer's queue is over its bound). Over the bound with the disconnect
    // policy, the peer is closed and errc::slow_consumer returned.
    task<result<void>> send_async(k message);
    // Where the client connects from ("" when the server was not told).
    const std::string& address() const noexcept;
    // Inside on_sync: the handler's return value is ignored and the response
    // is sent by the returned object instead.
    deferred_response defer();
    void close();

    explicit peer(std::shared_ptr<peer_state> s) : s_(std::move(s)) {}

private:
    friend class server;
    std::shared_ptr<peer_state> s_;
};

class server {
public:
    using login_handler = std::function<bool(std::string_view user, std::string_view password)>;
    using peer_handler = std::function<void(peer&)>;
    using sync_handler = std::function<task<result<k>>(peer&, k request)>;
    using async_handler = std::function<task<void>(peer&, k message)>;

    explicit server(server_options o = {});
    ~server();

    void on_login(login_handler h) { login_ = std::move(h); }
    void on_open(peer_handler h) { open_ = std::move(h); }
    void on_close(peer_handler h) { close_ = std::move(h); }
    void on_sync(sync_handler h) { sync_ = std::move(h); }
    void on_async(async_handler h) { async_ = std::move(h); }

    // Accepts clients until the acceptor fails or st is stopped.
    task<void> serve(acceptor& a, std::stop_token st = {});
    // The same over TLS (the TLS handshake first, then kdb+'s).
    task<void> serve_tls(acceptor& a, const tls_context& ctx, std::stop_token st = {});
    // Serves one connected client over any byte stream (a socket, TLS, the
    // in-memory pipe) until it leaves; peer_address names it in log lines.
    template <byte_stream S>
    task<void> serve_connection(S t, std::string peer_address = {});

    // Connected clients, for pushing to them.
    std::vector<peer> peers() const;
    // Closes every client connection.
    void close_all();
    // Writes "<log_name>: <peer_address> <what>" to qwire's log (core/log.hpp).
    void log(std::string_view peer_address, std::string_view what) const;

private:
    // Counts a connection being served for as long as it lives.
    struct counted {
        std::size_t& n;
        explicit counted(std::size_t& c) : n(c) { ++n; }
        counted(const counted&) = delete;
        ~counted() { --n; }
    };
    // The capability to agree for a hello, or nullopt when the handshake
    // failed or the login is refused (logged).
    std::optional<int> agree(const result<login_request>& login, const std::string& peer_address) const;
    task<void> run_peer(std::unique_ptr<session_base> sess, std::string user, std::string peer_address);
    // Whether another connection may be served; logs the refusal if not.
    bool admit(const std::string& address) const;

    server_options o_;
    login_handler login_;
    peer_handler open_, close_;
    sync_handler sync_;
    async_handler async_;
    std::uint64_t next_id_ = 1;
    std::size_t active_ = 0;  // connections being served, handshakes included
    std::unordered_map<std::uint64_t, std::shared_ptr<peer_state>> peers_;
};

template <byte_stream S>
task<void> server::serve_connection(S t, std::string peer_address) {
    const counted live(active_);
    auto login = co_await server_handshake(t, o_.max_credentials, o_.handshake_timeout);
    // A bad handshake or refused login just closes the connection, as kdb+
    // does: the client reads that as access denied.
    const auto cap = agree(login, peer_address);
    if (!cap) {
        close_stream(t);
        co_return;
    }
    const std::byte reply = static_cast<std::byte>(*cap);
    auto replied = co_await t.write_all(std::span(&reply, 1), {clock::now() + o_.handshake_timeout});
    if (!replied) co_return;
    co_await run_peer(std::make_unique<session<S>>(std::move(t), *cap, o_.compress, o_.lim), std::move(login->user),
                      std::move(peer_address));
}

}  // namespace qwire::kdb
