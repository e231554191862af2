// The Asio side of the ping-pong and bulk benchmarks, compiled once per Asio
// backend (epoll in bench_reactor.cpp, io_uring in bench_asio_uring.cpp).
#pragma once

#include "bench_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace qwire::bench {

namespace net = boost::asio;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

inline void drive(net::io_context& ioc, placement p) {
    if (p == placement::busy_poll)
        while (!ioc.stopped()) ioc.poll();
    else
        ioc.run();
}

inline void asio_pingpong(benchmark::State& state, placement p) {
    auto [c, s] = tcp_pair();
    {
        side_thread server(server_cpu(p), [s = s, p] {
            net::io_context ioc(1);
            net::ip::tcp::socket sock(ioc, net::ip::tcp::v4(), s);
            net::co_spawn(
                ioc,
                [&]() -> net::awaitable<void> {
                    std::array<char, message_size> buf;
                    for (;;) {
                        auto [ec, n] = co_await net::async_read(sock, net::buffer(buf), use_tuple);
                        if (ec) co_return;
                        auto [ec2, n2] = co_await net::async_write(sock, net::buffer(buf), use_tuple);
                        if (ec2) co_return;
                    }
                },
                net::detached);
            drive(ioc, p);
        });
        pin_to(client_cpu(p));
        net::io_context ioc(1);
        net::ip::tcp::socket sock(ioc, net::ip::tcp::v4(), c);
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                std::array<char, message_size> msg{}, back{};
                for (auto _ : state) {
                    co_await net::async_write(sock, net::buffer(msg), use_tuple);
                    co_await net::async_read(sock, net::buffer(back), use_tuple);
                }
                sock.shutdown(net::ip::tcp::socket::shutdown_send);
            },
            net::detached);
        drive(ioc, p);
    }
    unpin();
    label(state, p);
}

}  // namespace qwire::bench
