// The ten-line hello shown in the README: connect, send, read one reply.
// Try it against the echo server: qwire_echo server tcp 127.0.0.1:5001
#include "../cli.hpp"

#include <qwire/io/tcp.hpp>

#include <cstdio>
#include <exception>

qwire::task<void> hello() {
    auto s = (co_await qwire::connect_tcp("127.0.0.1", 5001, {qwire::after(std::chrono::seconds(2))})).value();
    (co_await s.write_all(qwire::as_bytes("hello"))).value();
    char buf[64];
    auto n = co_await s.read_some(std::as_writable_bytes(std::span(buf)));
    if (n) std::printf("%.*s\n", static_cast<int>(*n), buf);
}

int main(int argc, char** argv) {
    CLI::App app("Connects to 127.0.0.1:5001, sends hello and prints the reply.", "qwire_hello");
    if (auto rc = qwire::examples::parse(app, argc, argv)) return *rc;
    try {
        qwire::reactor r;
        r.block_on(hello());
    } catch (const std::exception& e) {  // value() on a failed result throws
        std::fprintf(stderr, "qwire_hello: %s\n", e.what());
        return 1;
    }
}
