// A fuzz target for the kdb+ decoder and decompressor.
//
// Built with clang -fsanitize=fuzzer it is a libFuzzer target. Built
// otherwise (as in CI, under ASan/UBSan) a small mutation driver runs it:
// it starts from valid messages and the captured kdb+ vectors and feeds
// mutated copies for QWIRE_FUZZ_SECONDS (default 10) seconds (driver.hpp).
#include <qwire/proto/kdb/codec.hpp>

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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    limits lim;
    lim.max_message_bytes = 1 << 24;  // keep a lying length from allocating much
    (void)decode(in, true, lim);
    (void)decode(in, false, lim);
    (void)decode_message(in, lim);
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
    return qwire::test::run_mutations("kdb fuzz", seeds(argc > 1 ? argv[1] : "."), LLVMFuzzerTestOneInput);
}
#endif
