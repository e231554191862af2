// Heap allocations in the steady state of the hot paths (a WebSocket frame,
// a QWP sender flushing and syncing, a kdb+ sync query, a tickerplant
// publish): a replaced global
// operator new counts those made on this thread while a test watches.
// Built only without sanitizers (they replace operator new themselves, and
// coroutine frames then bypass qwire's frame pool on purpose).
// g++ 12 sees free() in a replaced operator delete as a mismatch with new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/kdb/tick.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>
#include <qwire/proto/ws/stream.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cstdlib>
#include <new>
#include <optional>
#include <thread>

namespace {
thread_local bool watching = false;
thread_local std::size_t allocations = 0;

// Counts the heap allocations `body` makes on this thread.
template <class F>
std::size_t count_allocations(F&& body) {
    allocations = 0;
    watching = true;
    body();
    watching = false;
    return allocations;
}
}  // namespace

void* operator new(std::size_t n) {
    if (watching) ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (watching) ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace qwire;

TEST_CASE("steady state allocates nothing: a WebSocket frame sent and received") {
    reactor r;
    auto [a, b] = pipe_stream::make_pair();
    ws::stream<pipe_stream> client(std::move(a), ws::role::client);
    ws::stream<pipe_stream> server(std::move(b), ws::role::server);
    const auto payload = test::pattern(4000);
    auto round = [&]() -> task<void> {
        auto s = co_await client.send(ws::opcode::binary, std::span<const std::byte>(payload));
        REQUIRE(s);
        auto m = co_await server.receive();
        REQUIRE(m);
        REQUIRE(m->payload.size() == payload.size());
    };
    for (int i = 0; i < 100; ++i) r.block_on(round());  // warm: buffers and frame pools
    const auto n = count_allocations([&] {
        for (int i = 0; i < 1000; ++i) r.block_on(round());
    });
    CHECK(n == 0);
}

TEST_CASE("steady state allocates nothing: a QWP sender flushing chunks and syncing") {
    qwp::test_server_options so;
    so.keep_rows = false;
    qwp::test_server_thread server(so);  // on its own thread: only the sender's allocations are counted
    reactor r;
    auto s = r.block_on(qwp::sender::connect(server.server().conf()));
    REQUIRE(s);
    constexpr std::size_t rows = 1000;
    std::vector<std::int64_t> v(rows), ts(rows);
    for (std::size_t i = 0; i < rows; ++i) v[i] = static_cast<std::int64_t>(i), ts[i] = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(i);
    qwp::chunk c("t", rows);
    c.column("v", std::span<const std::int64_t>(v)).designated(ts);
    auto round = [&]() -> task<void> {
        for (int i = 0; i < 4; ++i) {
            auto f = co_await s->flush(c);
            REQUIRE(f);
        }
        auto y = co_await s->sync();
        REQUIRE(y);
    };
    for (int i = 0; i < 50; ++i) r.block_on(round());
    const auto n = count_allocations([&] {
        for (int i = 0; i < 200; ++i) r.block_on(round());
    });
    CHECK(n == 0);
}

namespace {
// A kdb+ echo server on its own thread over one end of a socket pair,
// serving until the other end closes.
struct kdb_echo_thread {
    int client_fd = -1;
    std::thread t;
    kdb_echo_thread() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        client_fd = fds[0];
        t = std::thread([fd = fds[1]] {
            reactor r;
            kdb::server srv;
            srv.on_sync([](kdb::peer&, kdb::k x) -> task<result<kdb::k>> { co_return x; });
            r.block_on(srv.serve_connection(socket_stream(fd, r)));
        });
    }
    ~kdb_echo_thread() { t.join(); }
};
}  // namespace

TEST_CASE("steady state allocates nothing: a kdb+ sync query round trip") {
    kdb_echo_thread server;
    reactor r;
    auto c = r.block_on(kdb::connection::open(socket_stream(server.client_fd, r)));
    REQUIRE(c);
    const kdb::k request = kdb::new_long_list({1, 2, 3, 4, 5, 6, 7, 8});
    std::int64_t sum = 0;
    auto round = [&]() -> task<void> {
        auto v = co_await c->query(request);
        REQUIRE(v);
        sum += v->get_long_list().value()[7];
    };
    for (int i = 0; i < 100; ++i) r.block_on(round());
    const auto n = count_allocations([&] {
        for (int i = 0; i < 1000; ++i) r.block_on(round());
    });
    CHECK(n == 0);
    CHECK(sum == 8 * 1100);
    c->close();
}

TEST_CASE("steady state allocates nothing: a tickerplant publish to a subscriber") {
    // The tickerplant on this thread; its subscriber on another, over a
    // socket pair, reading every update.
    constexpr int warm = 100, counted = 1000;
    // The server outlives the reactor: destroying the reactor ends the
    // connection's coroutine, which still runs the server's close hook.
    kdb::server srv;
    kdb::tickerplant tp(srv);
    reactor r;
    const kdb::k schema = kdb::new_table({"time", "sym", "price"}, {kdb::new_vector(kdb::qtype::timespan, 0),
                                                                    kdb::new_symbol_list({}), kdb::new_float_list({})})
                              .value();
    REQUIRE(tp.add_table("trade", schema));
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    r.spawn(srv.serve_connection(socket_stream(fds[1], r)));

    notifier changed;
    bool subscribed = false, finished = false;
    int received = 0;
    std::thread sub([&, fd = fds[0], mailbox = r.get_mailbox()] {
        reactor sr;
        sr.block_on([&]() -> task<void> {
            // No Catch macros on this thread: both flags are always posted,
            // and a failure shows as fewer updates received.
            int got = -1;
            auto c = co_await kdb::connection::open(socket_stream(fd, sr));
            std::optional<kdb::subscriber> s;
            if (c) {
                auto sr2 = co_await kdb::subscriber::subscribe(std::move(*c), "trade");
                if (sr2) s.emplace(std::move(*sr2));
            }
            mailbox->post([&] {
                subscribed = true;
                changed.notify_all();
            });
            if (s) {
                got = 0;
                while (got < warm + counted) {
                    auto m = co_await s->next();
                    if (!m) break;
                    ++got;
                    mailbox->post([&, got] {
                        received = got;
                        changed.notify_all();
                    });
                }
            }
            mailbox->post([&, got] {
                received = got;
                finished = true;
                changed.notify_all();
            });
        }());
    });
    auto until = [&](bool& flag) -> task<void> {
        while (!flag) (void)co_await changed.wait();
    };
    r.block_on(until(subscribed));

    const std::vector<std::int64_t> when{1};
    const kdb::k update = kdb::new_table({"time", "sym", "price"}, {kdb::new_temporal_list(kdb::qtype::timespan, when),
                                                                    kdb::new_symbol_list({"IBM"}), kdb::new_float_list({101.5})})
                              .value();
    // One update out and read by the subscriber: the steady state of a
    // subscriber that keeps up (one that does not makes the send queue grow
    // until the slow-peer policy acts).
    int published = 0;
    auto publish = [&]() -> task<void> {
        auto p = co_await tp.publish("trade", update);
        REQUIRE(p);
        ++published;
        while (received < published && !finished) (void)co_await changed.wait();
    };
    for (int i = 0; i < warm; ++i) r.block_on(publish());
    const auto n = count_allocations([&] {
        for (int i = 0; i < counted; ++i) r.block_on(publish());
    });
    CHECK(n == 0);
    r.block_on(until(finished));
    sub.join();
    CHECK(received == warm + counted);
    srv.close_all();
}
