// Boost.Asio and qwire in one program, both ways:
//  1. a qwire reactor hosted inside an Asio io_context (one thread), with an
//     Asio coroutine awaiting a qwire task that does TCP I/O;
//  2. a qwire reactor on its own thread, awaited from Asio the same way.
#include "../cli.hpp"

#include <qwire/core/asio_bridge.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <future>
#include <thread>

namespace net = boost::asio;
using namespace qwire;

// A qwire task: echo one message through a loopback TCP connection.
task<std::string> qwire_echo_once(std::string msg) {
    auto listener = tcp_listen("127.0.0.1", 0).value();
    auto server = [&]() -> task<void> {
        auto s = (co_await listener.accept()).value();
        std::string buf(msg.size(), '\0');
        (void)co_await read_exact(s, std::as_writable_bytes(std::span(buf)));
        (void)co_await s.write_all(as_bytes(buf));
    };
    auto client = [&]() -> task<std::string> {
        auto s = (co_await connect_tcp("127.0.0.1", listener.local_endpoint().port())).value();
        (void)co_await s.write_all(as_bytes(msg));
        std::string back(msg.size(), '\0');
        (void)co_await read_exact(s, std::as_writable_bytes(std::span(back)));
        co_return back;
    };
    auto [_, back] = co_await when_all(server(), client());
    co_return back;
}

int main(int argc, char** argv) {
    CLI::App app("Runs qwire coroutines from Asio and Asio from qwire, on one thread and across two.", "qwire_asio_interop");
    if (auto rc = qwire::examples::parse(app, argc, argv)) return *rc;
    // 1. Hosted: one thread runs both loops.
    {
        net::io_context ioc;
        reactor r;
        asio::reactor_host host(ioc, r);
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                net::steady_timer t(ioc, std::chrono::milliseconds(1));
                co_await t.async_wait(net::use_awaitable);
                auto back = co_await asio::async_run(r, qwire_echo_once("hello from a hosted reactor"),
                                                     net::use_awaitable);
                std::printf("asio coroutine got: %s\n", back.c_str());
            },
            net::detached);
        ioc.run();
    }
    // 2. A reactor on its own thread.
    {
        net::io_context ioc;
        std::unique_ptr<reactor> r;
        std::optional<reactor::work_guard> keep;
        std::promise<void> ready;
        std::thread worker([&] {
            r = std::make_unique<reactor>();
            keep.emplace(*r);
            ready.set_value();
            r->run();
            r.reset();
        });
        ready.get_future().wait();
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                auto back = co_await asio::async_run(*r, qwire_echo_once("hello from a reactor thread"),
                                                     net::use_awaitable);
                std::printf("asio coroutine got: %s\n", back.c_str());
                r->post([&] { keep.reset(); });
            },
            net::detached);
        ioc.run();
        worker.join();
    }
}
