// An echo server and client used by the transport tests.
#pragma once

#include <qwire/core/scope.hpp>
#include <qwire/io/socket.hpp>

#include "support.hpp"

namespace qwire::test {

// Echoes everything back until the peer closes.
template <byte_stream S>
task<void> echo(S s) {
    std::vector<std::byte> buf(64 * 1024);
    for (;;) {
        auto n = co_await s.read_some(buf);
        if (!n) co_return;
        auto sent = co_await s.write_all(std::span<const std::byte>(buf.data(), *n));
        if (!sent) co_return;
    }
}

// Accepts `count` connections and echoes on each.
inline task<void> echo_server(acceptor& a, std::size_t count) {
    scope s;
    for (std::size_t i = 0; i < count; ++i) {
        auto c = co_await a.accept();
        if (!c) break;
        s.spawn(echo(std::move(*c)));
    }
    co_await s.join();
}

// Sends payload and reads the same number of bytes back.
template <byte_stream S>
task<std::vector<std::byte>> round_trip(S& s, std::span<const std::byte> payload) {
    std::vector<std::byte> back(payload.size());
    auto sent = co_await s.write_all(payload);
    REQUIRE(sent);
    auto got = co_await read_exact(s, std::span(back));
    REQUIRE(got);
    co_return back;
}

// Reads in chunks of `chunk` bytes until the stream ends or fails; returns
// what arrived and the error that ended it.
template <byte_stream S>
task<std::pair<std::vector<std::byte>, std::error_code>> read_to_end(S& s, std::size_t chunk = 4096,
                                                                     std::size_t limit = SIZE_MAX) {
    std::vector<std::byte> got, buf(chunk);
    while (got.size() < limit) {
        auto n = co_await s.read_some(buf);
        if (!n) co_return std::pair{std::move(got), n.error()};
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
    }
    co_return std::pair{std::move(got), std::error_code{}};
}

}  // namespace qwire::test
