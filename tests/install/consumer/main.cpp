// The smallest program built against an installed qwire: a TCP echo over
// loopback.
#include <qwire/core/reactor.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/sm/signal.hpp>

#include <cstdio>
#include <string_view>

int main() {
    qwire::reactor r;
    auto listener = qwire::tcp_listen("127.0.0.1", 0).value();
    const auto port = listener.local_endpoint().port();
    auto server = [&]() -> qwire::task<void> {
        auto s = (co_await listener.accept()).value();
        char buf[64];
        auto n = (co_await s.read_some(std::as_writable_bytes(std::span(buf)))).value();
        (co_await s.write_all(std::as_bytes(std::span(buf, n)))).value();
    };
    auto client = [&]() -> qwire::task<void> {
        auto s = (co_await qwire::connect_tcp("127.0.0.1", port)).value();
        (co_await s.write_all(qwire::as_bytes("hello from qwire"))).value();
        char buf[64];
        auto n = (co_await s.read_some(std::as_writable_bytes(std::span(buf)))).value();
        std::printf("%.*s\n", static_cast<int>(n), buf);
    };
    r.block_on(qwire::when_all(server(), client()));
    qwire::byte_buffer b;
    (void)qwire::kdb::encode(qwire::kdb::new_long(1), b);
    std::printf("kdb: %zu bytes\n", b.size());
    qwire::qwp::row_buffer rows;
    rows.table("t").column("v", 1).at_now();
    qwire::qwp::symbol_dict dict;
    qwire::qwp::message_builder m(dict);
    (void)rows.encode(m);
    std::printf("qwp: %zu bytes\n", m.finish_copy().size());
    const auto signal = qwire::sm::make_signal(qwire::sm::disk_signal{});
    std::printf("sm: %s\n", qwire::sm::to_json(qwire::sm::signal_from_json(qwire::sm::to_json(signal)).value()).c_str());
}
