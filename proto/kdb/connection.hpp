// kdb::connection: a client connection to a kdb+ process (or anything that
// speaks kdb+ IPC) over TCP, a Unix socket or TLS.
//
//     auto c = (co_await kdb::connection::connect_tcp("127.0.0.1", 5001)).value();
//     auto r = co_await c.query("til 10");               // result<k>
//     auto s = co_await c.call("sum", new_long_list({1, 2, 3}));
//     if (!r) std::puts(r.error().message().c_str());    // a server error has its text, e.g. "...: type"
//
// Several coroutines may query one connection at once: requests go out in the
// order they were issued and responses are matched to them in that order
// (kdb+ IPC has no request ids). Messages the server pushes (subscriptions)
// are read with receive(). A sync request *from* the server is answered by
// the sync handler, or with the error "unable to process sync requests".
#pragma once

#include <qwire/io/tls.hpp>
#include <qwire/proto/kdb/session.hpp>

#include <functional>
#include <memory>
#include <string>

namespace qwire::kdb {

// Not an aggregate on purpose (set the fields by name): g++ 12 destroys an
// aggregate temporary with non-trivial members twice when it is an argument
// of a coroutine call inside co_await.
struct connection_options {
    connection_options() {}
    std::string credentials;                                 // "user:password", or empty
    int capability = default_capability;                     // offered in the handshake
    compression compress = compression::auto_;
    clock::duration handshake_timeout = std::chrono::seconds(10);
    limits lim{};
    // Pushed messages (subscriptions) kept until receive() takes them; when
    // that many wait, the connection stops reading until one is taken, so a
    // slow consumer slows the publisher (TCP backpressure) instead of
    // growing this process. While it waits, responses to queries on the
    // connection wait too. 0: unbounded.
    std::size_t max_inbox = 4096;
};

// kdb+'s Unix socket name for a port: the abstract name "@/tmp/kx.<port>".
std::string unix_socket_name(std::uint16_t port);

class connection {
public:
    connection() = default;
    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept;
    ~connection();

    // The kdb+ handshake over a stream the caller connected: a socket, TLS
    // over one, the in-memory pipe, any byte_stream. The connection keeps
    // the stream; nothing between it and the session is type-erased.
    template <byte_stream S>
    static task<result<connection>> open(S t, connection_options o = {});
    static task<result<connection>> connect_tcp(std::string host, std::uint16_t port, connection_options o = {});
    // kdb+'s Unix socket for a port (the Linux abstract name "@/tmp/kx.<port>").
    static task<result<connection>> connect_unix(std::uint16_t port, connection_options o = {});
    // Any Unix socket: a path, or "@name" for an abstract name.
    static task<result<connection>> connect_unix_path(std::string path, connection_options o = {});
    static task<result<connection>> connect_tls(std::string host, std::uint16_t port, const tls_context& ctx,
                                                connection_options o = {});

    // A sync request; the response, or the server's error (errc::remote,
    // its text the detail).
    task<result<k>> query(k request, op_options o = {});
    task<result<k>> query(std::string_view expression, op_options o = {}) {
        return query(new_string(expression), std::move(o));
    }
    // f[args...] on the server, sent as (`f; args...).
    template <class... Args>
    task<result<k>> call(std::string_view function, Args&&... args) {
        return query(new_list_of(new_symbol(function), std::forward<Args>(args)...));
    }
    // An async message (no response).
    task<result<void>> send_async(k message, op_options o = {});
    // The next message the server pushed (async; or sync, already answered).
    // Ends with an error when the connection closes (close() ends a wait),
    // or gives up at o.deadline (std::errc::timed_out) or o.stop
    // (operation_canceled); no message is lost: one arriving later is the
    // next receive's.
    task<result<message>> receive(op_options o = {});

    // Answers sync requests the server sends us (they also arrive, answered,
    // through receive()).
    void set_sync_handler(std::function<result<k>(const k&)> handler);
    // Answers them with a coroutine instead, which may take its time and may
    // query the server on this same connection: responses to our own queries
    // are still read meanwhile (capture a reference to the connection, not
    // the connection: the handler lives as long as it). The request does
    // not go to receive(). A
    // server that sends more than 16 sync requests without waiting for the
    // answers ends the connection (errc::unexpected_message).
    void set_request_handler(std::function<task<result<k>>(k)> handler);

    void close();
    bool is_open() const noexcept;
    int capability() const noexcept;
    std::size_t outstanding() const noexcept;  // sync requests waiting for a response
    std::size_t waiting_messages() const noexcept;  // pushed messages receive() has not taken yet

    struct state;

private:
    explicit connection(std::shared_ptr<state> s) : s_(std::move(s)) {}
    // Starts the connection over a session past its handshake.
    static connection start(std::unique_ptr<session_base> sess, std::size_t max_inbox);
    std::shared_ptr<state> s_;
};

template <byte_stream S>
task<result<connection>> connection::open(S t, connection_options o) {
    auto cap = co_await client_handshake(t, o.credentials, o.capability, o.handshake_timeout);
    if (!cap) co_return cap.error();
    co_return start(std::make_unique<session<S>>(std::move(t), *cap, o.compress, o.lim), o.max_inbox);
}

}  // namespace qwire::kdb
