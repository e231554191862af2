// The ten-line hello shown in the README: connect, send, read one reply.
// Try it against the echo server: qwire_echo server tcp 127.0.0.1:5001
#include <qwire/io/tcp.hpp>

#include <cstdio>

qwire::task<void> hello() {
    auto s = (co_await qwire::connect_tcp("127.0.0.1", 5001, {qwire::after(std::chrono::seconds(2))})).value();
    (co_await s.write_all(qwire::as_bytes("hello"))).value();
    char buf[64];
    auto n = co_await s.read_some(std::as_writable_bytes(std::span(buf)));
    if (n) std::printf("%.*s\n", static_cast<int>(*n), buf);
}

int main() { qwire::reactor r; r.block_on(hello()); }
