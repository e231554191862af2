// A fuzz target for the kdb+ decoder and decompressor, and for what the
// library does with a decoded value (print it, look up columns and keys,
// read it as a tickerplant message): decode, then use.
//
// Built with clang -fsanitize=fuzzer it is a libFuzzer target. Built
// otherwise (as in CI, under ASan/UBSan) a small mutation driver runs it:
// it starts from valid messages and the captured kdb+ vectors and feeds
// mutated copies for QWIRE_FUZZ_SECONDS (default 10) seconds (driver.hpp).
#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/kdb/tick.hpp>

#include "driver.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace qwire::kdb;

namespace {
// Every accessor a user or the tickerplant reaches for; none may crash.
void use(const k& x, int depth = 0) {
    (void)to_string(x);
    (void)x.count();
    (void)parse_tick_message(x);
    if (x.is_table()) {
        if (auto names = x.column_names(); names && names->get_symbol_list())
            for (auto n : *names->get_symbol_list()) (void)x.column(n);
    }
    if (x.is_dict()) {
        if (auto keys = x.keys()) use(*keys, depth + 1);
        if (auto values = x.values()) use(*values, depth + 1);
    }
    if (depth < 4 && (x.is_list() || x.is_vector()))
        for (std::size_t i = 0; i < x.count() && i < 64; ++i)
            if (auto item = x.item(i)) use(*item, depth + 1);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    limits lim;
    lim.max_message_bytes = 1 << 24;  // keep a lying length from allocating much
    lim.max_decoded_bytes = 1 << 26;
    if (auto x = decode(in, true, lim)) use(*x);
    if (auto x = decode(in, false, lim)) use(*x);
    if (auto m = decode_message(in, lim)) use(m->value);
    qwire::byte_buffer out;
    (void)decompress(in, out, lim);
    (void)decode_prefix(in, true, lim);
    return 0;
}

#if !defined(QWIRE_LIBFUZZER)
namespace {

std::vector<std::vector<std::uint8_t>> seeds(const char* vectors_dir) {
    std::vector<std::vector<std::uint8_t>> out;
    auto add = [&](const k& x, bool zip) {
        qwire::byte_buffer b;
        if (encode_message(x, msg_type::sync, b, zip)) {
            auto d = b.data();
            out.emplace_back(reinterpret_cast<const std::uint8_t*>(d.data()), reinterpret_cast<const std::uint8_t*>(d.data()) + d.size());
        }
    };
    std::vector<std::int64_t> til(3000);
    for (std::size_t i = 0; i < til.size(); ++i) til[i] = static_cast<std::int64_t>(i % 100);
    add(new_long_list(til), true);
    add(new_table({"a", "s"}, {new_long_list({1, 2}), new_symbol_list({"x", "y"})}).value(), false);
    add(new_list_of(new_string("abc"), new_guid({}), new_function(qtype::projection, {new_lambda("", "{x}"), new_long(1)})), false);
    add(new_dict(new_symbol_list({"a", "b"}), new_list_of(new_long(1), new_string("x"))).value(), false);
    add(new_keyed_table(new_table({"k"}, {new_long_list({1, 2})}).value(), new_table({"v"}, {new_float_list({1.5, 2.5})}).value())
            .value(),
        false);
    add(new_list_of(new_symbol("upd"), new_symbol("trade"),
                    new_table({"time", "sym", "price"}, {new_vector(qtype::timespan, 2), new_symbol_list({"IBM", "MSFT"}),
                                                         new_float_list({1.5, 2.5})})
                        .value()),
        false);
    std::ifstream in(std::string(vectors_dir) + "/QExpressions3.out");
    std::string expr, hex;
    while (std::getline(in, expr) && std::getline(in, hex)) {
        std::vector<std::uint8_t> body;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2) body.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        out.push_back(std::move(body));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const char* dir = argc > 1 && std::string(argv[1]) != "--replay" ? argv[1] : ".";
    return qwire::test::run_mutations("kdb fuzz", seeds(dir), LLVMFuzzerTestOneInput, argc, argv);
}
#endif
