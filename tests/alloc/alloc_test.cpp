// Heap allocations in the steady state of the hot paths (a WebSocket frame,
// a QWP sender flushing and syncing, a kdb+ sync query): a replaced global
// operator new counts those made on this thread while a test watches.
// Built only without sanitizers (they replace operator new themselves, and
// coroutine frames then bypass qwire's frame pool on purpose).
// g++ 12 sees free() in a replaced operator delete as a mismatch with new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>
#include <qwire/proto/ws/stream.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cstdlib>
#include <new>
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
