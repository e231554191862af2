// QWP over transports other than TCP: a Unix socket, and the in-memory pipe,
// through a sender's stream factory (the stack compiled for the stream the
// factory returns), and a type-erased stream_factory.
#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/io/unix_socket.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace qwire;
using namespace qwire::qwp;

namespace {

std::size_t rows_of(const test_server& s, const std::string& t) {
    auto it = s.tables().find(t);
    return it == s.tables().end() ? 0 : it->second.rows;
}

// Flushes `batches` row buffers of 100 rows and syncs.
task<result<void>> ingest(sender& s, int batches) {
    row_buffer rows;
    for (int b = 0; b < batches; ++b) {
        for (int i = 0; i < 100; ++i) rows.table("t").symbol("sym", i % 2 ? "a" : "b").column("v", b * 100 + i).at_now();
        auto f = co_await s.flush(rows);
        if (!f) co_return f;
    }
    co_return co_await s.sync();
}

// A test server on a Unix socket, and a sender over the streams of the
// factory factory_for(path) makes; the rows the server got.
template <class FactoryFor>
std::size_t ingest_over_unix(const std::string& name, FactoryFor factory_for, int batches) {
    test_server_options so;
    so.unix_path = "@" + name + "-" + std::to_string(::getpid());
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    result<void> done = make_error_code(qwire::errc::invalid_argument);
    auto client = [&]() -> task<void> {
        auto conf = config::parse("ws::addr=localhost:9000;").value();
        auto s = co_await sender::connect(conf, factory_for(so.unix_path));
        REQUIRE(s);
        done = co_await ingest(*s, batches);
        server.stop();
    };
    r.block_on(when_all(server.run(), client()));
    CHECK(done);
    return rows_of(server, "t");
}

}  // namespace

TEST_CASE("qwp sender over a Unix socket, end to end") {
    auto factory_for = [](std::string path) {
        return [path](op_options o) -> task<result<socket_stream>> { co_return co_await connect_unix(path, o); };
    };
    CHECK(ingest_over_unix("qwire-qwp-test", factory_for, 5) == 500);
}

TEST_CASE("qwp sender over the in-memory pipe, reconnecting over a new pipe when one breaks") {
    test_server_options so;
    so.chaos_reset_one_in = 4;  // drops a connection as one frame in four arrives (before reading it)
    reactor r;
    auto srv = test_server::start(so);
    REQUIRE(srv);
    auto& server = **srv;
    int opened = 0;
    result<void> done = make_error_code(qwire::errc::invalid_argument);
    scope connections;
    auto factory = [&](op_options) -> task<result<pipe_stream>> {
        auto [ours, theirs] = pipe_stream::make_pair();
        connections.spawn(server.serve_stream(std::move(theirs), "pipe"));
        ++opened;
        co_return std::move(ours);
    };
    auto client = [&]() -> task<void> {
        auto conf = config::parse("ws::addr=localhost:9000;reconnect_initial_backoff_millis=1;").value();
        auto s = co_await sender::connect(conf, factory);
        REQUIRE(s);
        done = co_await ingest(*s, 6);
        server.stop();
        co_await connections.join();
    };
    r.block_on(client());
    CHECK(done);
    CHECK(opened >= 2);
    CHECK(rows_of(server, "t") == 600);
}

TEST_CASE("qwp sender over a type-erased stream_factory (an any_stream picked at run time)") {
    auto factory_for = [](std::string path) -> stream_factory {
        return [path](op_options o) -> task<result<any_stream>> {
            auto s = co_await connect_unix(path, o);
            if (!s) co_return s.error();
            co_return any_stream(std::move(*s), true);
        };
    };
    CHECK(ingest_over_unix("qwire-qwp-erased", factory_for, 2) == 200);
}
