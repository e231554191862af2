#include <qwire/proto/kdb/display.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/core/timer.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/any_stream.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>

#include <catch2/catch.hpp>

#include "support.hpp"

#include <unistd.h>

using namespace qwire::kdb;
using qwire::op_options;
using qwire::reactor;
using qwire::result;
using qwire::task;
using qwire::when_all;
using namespace std::chrono_literals;

namespace {

std::string text_of(const k& x) {
    auto s = x.get_string();
    return s ? std::string(*s) : std::string();
}

// A server whose sync handler echoes, except for a few test expressions.
void configure(server& s) {
    s.on_sync([](peer&, k x) -> task<result<k>> {
        if (auto text = x.get_string(); text && *text == "1+`") co_return remote_error("type");
        if (auto text = x.get_string(); text && *text == "til 10") {
            std::vector<std::int64_t> v(10);
            for (int i = 0; i < 10; ++i) v[static_cast<std::size_t>(i)] = i;
            co_return new_long_list(v);
        }
        co_return x;
    });
}

// Client and server over an in-memory pipe; the server runs until the client closes.
template <class F>
auto over_pipe(server& srv, F client_body, connection_options o = {}, bool local = true) {
    using T = typename decltype(client_body(std::declval<connection&>()))::value_type;
    reactor r;
    auto [a, b] = qwire::pipe_stream::make_pair();
    auto client = [&](qwire::pipe_stream s) -> task<T> {
        // An any_stream, to say whether the peer counts as local.
        result<connection> opened = co_await connection::open(qwire::any_stream(std::move(s), local), o);
        connection c = std::move(opened).value();
        T out = co_await client_body(c);
        c.close();
        co_return out;
    };
    auto [_, out] = r.block_on(when_all(srv.serve_connection(std::move(b)), client(std::move(a))));
    return out;
}

}  // namespace

TEST_CASE("kdb client/server: sync query, server error text, async, over a pipe") {
    server srv;
    configure(srv);
    std::vector<std::string> asyncs;
    srv.on_async([&](peer&, k x) -> task<void> {
        asyncs.emplace_back(x.get_string().value());
        co_return;
    });
    auto out = over_pipe(srv, [](connection& c) -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        got.push_back(to_string((co_await c.query("til 10")).value()));
        auto err = co_await c.query("1+`");
        got.push_back(std::string(err.error().detail()));
        got.push_back(err.error() == errc::remote ? "remote" : "local");
        (void)co_await c.send_async(new_string("async one"));
        got.push_back(to_string((co_await c.call("f", new_long(1), new_symbol("x"))).value()));
        co_return got;
    });
    CHECK(out == std::vector<std::string>{"0 1 2 3 4 5 6 7 8 9", "type", "remote", "`f\n1\n`x\n"});
    CHECK(asyncs == std::vector<std::string>{"async one"});
}

TEST_CASE("kdb client/server: concurrent queries on one connection are matched in order") {
    server srv;
    srv.on_sync([](peer&, k x) -> task<result<k>> {
        // Answer out of the order of arrival time-wise is impossible per
        // connection; make each answer take a reactor turn anyway.
        (void)co_await qwire::sleep_for(0ms);
        co_return x;
    });
    auto out = over_pipe(srv, [](connection& c) -> task<bool> {
        std::vector<task<result<k>>> qs;
        for (int i = 0; i < 200; ++i) qs.push_back(c.query(new_long(i)));
        auto rs = co_await when_all(std::move(qs));
        for (int i = 0; i < 200; ++i)
            if (!rs[static_cast<std::size_t>(i)] || rs[static_cast<std::size_t>(i)]->get_long().value() != i) co_return false;
        co_return c.outstanding() == 0;
    });
    CHECK(out);
}

TEST_CASE("kdb handshake: login hook, access denied, capability negotiation") {
    server_options so;
    so.capability = 1;
    server srv(so);
    configure(srv);
    srv.on_login([](std::string_view u, std::string_view p) { return u == "alice" && p == "s3:cret"; });

    connection_options good;
    good.credentials = "alice:s3:cret";  // the password may contain ':'
    auto cap = over_pipe(srv, [](connection& c) -> task<int> { co_return c.capability(); }, good);
    CHECK(cap == 1);  // min(client 3, server 1)

    reactor r;
    auto [a, b] = qwire::pipe_stream::make_pair();
    connection_options bad;
    bad.credentials = "alice:wrong";
    auto [_, denied] = r.block_on(when_all(srv.serve_connection(std::move(b)),
                                           connection::open(std::move(a), bad)));
    CHECK(denied.error() == errc::access_denied);
}

TEST_CASE("kdb handshake: server side parsing") {
    reactor r;
    auto check = [&](std::string hello, std::size_t limit = 1024) {
        auto [a, b] = qwire::pipe_stream::make_pair();
        qwire::pipe_stream t = std::move(b);
        auto writer = [](qwire::pipe_stream s, std::string h) -> task<void> {
            (void)co_await s.write_all(qwire::as_bytes(h));
            s.shutdown_write();
        };
        auto [_, req] = r.block_on(when_all(writer(std::move(a), hello), server_handshake(t, limit, 1s)));
        return req;
    };
    auto plain = check(std::string("u:p\x03\0", 5));
    REQUIRE(plain);
    CHECK(plain->user == "u");
    CHECK(plain->password == "p");
    CHECK(plain->capability == 3);
    auto old = check(std::string("bob\0", 4));  // a pre-2.6 client: no capability byte
    REQUIRE(old);
    CHECK(old->user == "bob");
    CHECK(old->capability == 0);
    CHECK(check(std::string(5000, 'x'), 1024).error() == errc::handshake_too_long);
    CHECK(check("no terminator").error() == qwire::errc::eof);
}

TEST_CASE("kdb client/server: pushes, deferred responses, callbacks into the client") {
    server srv;
    std::vector<deferred_response> parked;
    srv.on_sync([&](peer& p, k x) -> task<result<k>> {
        if (text_of(x) == "later") {
            parked.push_back(p.defer());
            co_return new_null();
        }
        if (text_of(x) == "release") {
            (void)co_await parked.back().reply(new_symbol("done later"));
            parked.pop_back();
            co_return new_symbol("released");
        }
        if (text_of(x) == "push") {
            (void)co_await p.send_async(new_symbol("pushed"));
            co_return new_bool(true);
        }
        co_return x;
    });
    auto out = over_pipe(srv, [](connection& c) -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        (void)co_await c.query("push");
        auto m = co_await c.receive();
        got.push_back(to_string(m.value().value));
        // The deferred request is answered only when another request releases it.
        auto waiting = [&]() -> task<std::string> { co_return to_string((co_await c.query("later")).value()); };
        auto release = [&]() -> task<std::string> { co_return to_string((co_await c.query("release")).value()); };
        auto [a, b] = co_await when_all(waiting(), release());
        got.push_back(a);
        got.push_back(b);
        co_return got;
    });
    CHECK(out == std::vector<std::string>{"`pushed", "`done later", "`released"});
}

TEST_CASE("kdb server: a slow request does not hold back the answers pipelined before it") {
    // The slow handler waits until the client has the fast answer: if the
    // server held the fast response until its buffer drained, both would
    // wait for each other and the deadline would end the test.
    struct gate {
        std::coroutine_handle<> waiter{};
        bool open = false;
        void release() {
            open = true;
            if (waiter) reactor::current()->schedule(std::exchange(waiter, {}));
        }
    } g;
    // Awaited through a pointer: g++ 12 awaits a copy of an lvalue awaiter
    // reached through a lambda capture.
    struct wait_for {
        gate* g;
        bool await_ready() const noexcept { return g->open; }
        void await_suspend(std::coroutine_handle<> h) noexcept { g->waiter = h; }
        void await_resume() const noexcept {}
    };
    server srv;
    srv.on_sync([&](peer&, k x) -> task<result<k>> {
        if (text_of(x) == "slow") co_await wait_for{&g};
        co_return x;
    });
    auto out = over_pipe(srv, [&](connection& c) -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        auto fast = [&]() -> task<void> {
            auto r = co_await c.query("fast", {qwire::after(5s)});
            got.push_back(r ? to_string(*r) : r.error().message());
            g.release();
        };
        auto slow = [&]() -> task<void> {
            auto r = co_await c.query("slow", {qwire::after(5s)});
            got.push_back(r ? to_string(*r) : r.error().message());
        };
        co_await when_all(fast(), slow());
        co_return got;
    });
    CHECK(out == std::vector<std::string>{"\"fast\"", "\"slow\""});
}

TEST_CASE("kdb client: stop and deadline abandon a query without losing the next response") {
    server srv;
    srv.on_sync([](peer&, k x) -> task<result<k>> {
        if (text_of(x) == "slow") (void)co_await qwire::sleep_for(50ms);
        co_return x;
    });
    auto out = over_pipe(srv, [](connection& c) -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        auto timed = co_await c.query("slow", {qwire::after(5ms)});
        got.push_back(timed.error() == std::errc::timed_out ? "timed out" : "?");
        std::stop_source src;
        auto stopper = [&]() -> task<void> {
            (void)co_await qwire::test::next_turn();
            src.request_stop();
        };
        auto [stopped, _] = co_await when_all(c.query("slow", {src.get_token()}), stopper());
        got.push_back(stopped.error() == std::errc::operation_canceled ? "canceled" : "?");
        // The late responses to both abandoned queries are dropped; this one
        // gets its own answer.
        got.push_back(to_string((co_await c.query("next")).value()));
        co_return got;
    });
    CHECK(out == std::vector<std::string>{"timed out", "canceled", "\"next\""});
}

TEST_CASE("kdb client: a sync request from the server is answered, not left hanging") {
    server srv;
    std::string answer;
    srv.on_open([&](peer& p) {
        // Callbacks need a coroutine; run one detached on the reactor.
        reactor::current()->spawn([](peer p, std::string& out) -> task<void> {
            // The server asks the client synchronously, as a q process would with .z.w.
            (void)co_await p.send_async(new_string("hello"));
            out = "pushed";
        }(p, answer));
    });
    configure(srv);
    auto out = over_pipe(srv, [](connection& c) -> task<std::string> {
        c.set_sync_handler([](const k& x) -> result<k> { return new_list_of(new_symbol("seen"), x); });
        auto m = co_await c.receive();
        co_return to_string(m.value().value);
    });
    CHECK(out == "\"hello\"");
    CHECK(answer == "pushed");
}

TEST_CASE("kdb client: pending queries fail when the connection closes") {
    server srv;
    srv.on_sync([](peer& p, k) -> task<result<k>> {
        p.close();
        co_return new_null();
    });
    auto out = over_pipe(srv, [](connection& c) -> task<std::error_code> { co_return (co_await c.query("bye")).error(); });
    CHECK(out == errc::connection_closed);
}

TEST_CASE("kdb compression: auto, always, never on the wire") {
    // Look at the raw bytes a client sends: a hand-made server reads them.
    auto first_message = [](compression policy, bool local) {
        reactor r;
        auto [a, b] = qwire::pipe_stream::make_pair(1 << 20);
        connection_options o;
        o.compress = policy;
        std::vector<std::int64_t> big(5000, 7);
        auto client = [&](qwire::pipe_stream s) -> task<void> {
            auto c = (co_await connection::open(qwire::any_stream(std::move(s), local), o)).value();
            (void)co_await c.send_async(new_long_list(big));
            (void)co_await c.query("sync");  // never answered: the raw server closes
        };
        auto raw = [](qwire::pipe_stream s) -> task<std::vector<std::byte>> {
            qwire::pipe_stream t = std::move(s);
            (void)co_await server_handshake(t, 1024, 1s);
            const std::byte cap{3};
            const qwire::const_buffer piece{&cap, 1};
            (void)co_await t.write_all(std::span(&piece, 1));
            std::vector<std::byte> header(8);
            (void)co_await qwire::read_exact(t, std::span(header));
            t.close();
            co_return header;
        };
        auto [_, header] = r.block_on(when_all(client(std::move(a)), raw(std::move(b))));
        return static_cast<int>(header[2]);
    };
    CHECK(first_message(compression::always, true) == 1);
    CHECK(first_message(compression::never, false) == 0);
    CHECK(first_message(compression::auto_, true) == 0);   // kdb+ never compresses for local peers
    CHECK(first_message(compression::auto_, false) == 1);
}

TEST_CASE("kdb client/server: TCP, kdb+'s Unix socket name, TLS") {
    reactor r;
    server srv;
    configure(srv);
    std::stop_source stop;
    const std::uint16_t uds_port = static_cast<std::uint16_t>(40000 + ::getpid() % 20000);
    auto tcp = qwire::tcp_listen("127.0.0.1", 0).value();
    auto uds = qwire::unix_listen(unix_socket_name(uds_port)).value();
    auto tls_listener = qwire::tcp_listen("127.0.0.1", 0).value();
    auto sctx = qwire::tls_context::server(qwire::test::cert("server.pem"), qwire::test::cert("server.key")).value();
    auto cctx = qwire::tls_context::client().value();
    REQUIRE(cctx.load_ca_file(qwire::test::cert("ca.pem")));
    const auto tcp_port = tcp.local_endpoint().port();
    const auto tls_port = tls_listener.local_endpoint().port();

    auto clients = [&]() -> task<std::vector<std::string>> {
        std::vector<std::string> got;
        auto c1 = (co_await connection::connect_tcp("127.0.0.1", tcp_port)).value();
        got.push_back(to_string((co_await c1.query("til 10")).value()));
        auto c2 = (co_await connection::connect_unix(uds_port)).value();
        got.push_back(to_string((co_await c2.query("til 10")).value()));
        auto c3 = (co_await connection::connect_tls("localhost", tls_port, cctx)).value();
        got.push_back(to_string((co_await c3.query("til 10")).value()));
        stop.request_stop();
        co_return got;
    };
    auto [a, b, c, got] = r.block_on(when_all(srv.serve(tcp, stop.get_token()), srv.serve(uds, stop.get_token()),
                                              srv.serve_tls(tls_listener, sctx, stop.get_token()), clients()));
    CHECK(got == std::vector<std::string>(3, "0 1 2 3 4 5 6 7 8 9"));
}

namespace {
// The server's half of a request-handler test, written by hand over the
// session because kdb::server never sends sync requests: it sends `n` sync
// requests at once, answers the client's own queries meanwhile (echo), and
// returns the responses to its requests in the order they came.
task<std::vector<std::string>> asking_server(qwire::pipe_stream t, int n) {
    std::vector<std::string> answers;
    auto login = co_await server_handshake(t, 1024, 1s);
    REQUIRE(login);
    const std::byte cap{3};
    auto w = co_await t.write_all(std::span(&cap, 1));
    REQUIRE(w);
    session<qwire::pipe_stream> s(std::move(t), 3);
    for (int i = 0; i < n; ++i) {
        auto sent = co_await s.write_message(new_list_of(new_symbol("cb"), new_long(i)), msg_type::sync);
        REQUIRE(sent);
    }
    while (static_cast<int>(answers.size()) < n) {
        auto m = co_await s.read_message();
        if (!m) {
            answers.push_back("closed");
            break;
        }
        if (m->type == msg_type::sync) {
            auto echo = co_await s.write_message(m->value, msg_type::response);
            REQUIRE(echo);
        } else {
            answers.push_back(m->value.is_error() ? "'" + std::string(m->value.error_text()) : to_string(m->value));
        }
    }
    co_return answers;
}
}  // namespace

TEST_CASE("kdb client: a request handler answers the server's sync requests, querying the server meanwhile") {
    reactor r;
    auto [a, b] = qwire::pipe_stream::make_pair();
    auto client = [](qwire::pipe_stream s) -> task<int> {
        auto c = (co_await connection::open(std::move(s))).value();
        c.set_request_handler([&c](k x) -> task<result<k>> {
            const auto i = x.items()[1].get_long().value();
            if (i == 1) co_return remote_error("odd");
            // A query of our own inside the handler: its response is read
            // while the server waits for ours.
            auto back = co_await c.query(new_long(i * 10));
            if (!back) co_return back.error();
            co_return new_long(back->get_long().value() + 1);
        });
        // Keep the connection until the server is done with it.
        auto m = co_await c.receive();
        co_return m ? 0 : 1;
    };
    auto [answers, _] = r.block_on(when_all(asking_server(std::move(b), 3), client(std::move(a))));
    // Answers may come back in any order: the handler of 1 fails at once.
    std::sort(answers.begin(), answers.end());
    CHECK(answers == std::vector<std::string>{"'odd", "1", "21"});
}

TEST_CASE("kdb client: a server flooding sync requests without waiting ends the connection") {
    reactor r;
    auto [a, b] = qwire::pipe_stream::make_pair();
    auto client = [](qwire::pipe_stream s) -> task<std::string> {
        auto c = (co_await connection::open(std::move(s))).value();
        // A handler that never finishes before the flood is over.
        auto gate = std::make_shared<qwire::notifier>();
        c.set_request_handler([gate](k) -> task<result<k>> {
            (void)co_await gate->wait();
            co_return new_null();
        });
        auto m = co_await c.receive();
        gate->notify_all();
        co_return m ? std::string("open") : std::string(m.error().code().message());
    };
    auto [answers, why] = r.block_on(when_all(asking_server(std::move(b), 17), client(std::move(a))));
    CHECK(why == make_error_code(errc::unexpected_message).message());
    CHECK(answers.back() == "closed");
}

TEST_CASE("kdb client: pushes not yet received are bounded by max_inbox, and none is lost") {
    server srv;
    srv.on_sync([&](peer& p, k) -> task<result<k>> {
        for (std::int64_t i = 0; i < 500; ++i) (void)co_await p.send_async(new_long(i));
        co_return new_bool(true);
    });
    connection_options o;
    o.max_inbox = 8;
    auto out = over_pipe(srv, [](connection& c) -> task<bool> {
        // The answer comes after the 500 pushes: it is read only as the
        // receiver makes room, so the query and the receiver run together.
        std::size_t most = 0;
        bool in_order = true;
        auto receiver = [&]() -> task<void> {
            for (std::int64_t i = 0; i < 500; ++i) {
                most = std::max(most, c.waiting_messages());
                auto m = co_await c.receive();
                in_order = in_order && m && m->value.get_long() && *m->value.get_long() == i;
            }
        };
        auto [answer, _] = co_await when_all(c.query("flood"), receiver());
        co_return answer && most <= 8 && most >= 1 && in_order;
    }, o);
    CHECK(out);
}
