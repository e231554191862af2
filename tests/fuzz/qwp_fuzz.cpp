// A fuzz target for everything qwire decodes from a QWP peer: ingress
// messages (as a server), table blocks in egress mode (as a reader, with and
// without a schema from an earlier batch), ingress responses and SERVER_INFO.
//
// Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise the
// mutation driver (driver.hpp) runs it from valid seeds for
// QWIRE_FUZZ_SECONDS seconds.
#include <qwire/proto/qwp/decoder.hpp>
#include <qwire/proto/qwp/encoder.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/qwp/reader.hpp>

#include "driver.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

using namespace qwire::qwp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    message_decoder fresh;
    const auto full = fresh.decode(in);
    // Without values the decoder must reach the same verdict: the same
    // error, or the same tables, rows and column types.
    message_decoder light(2'000'000, false);
    const auto checked = light.decode(in);
    if (full.has_value() != checked.has_value()) std::abort();
    if (!full && full.error() != checked.error()) std::abort();
    if (full) {
        if (full->tables.size() != checked->tables.size()) std::abort();
        for (std::size_t i = 0; i < full->tables.size(); ++i) {
            const auto &a = full->tables[i], &b = checked->tables[i];
            if (a.name != b.name || a.rows != b.rows || a.columns.size() != b.columns.size()) std::abort();
            for (std::size_t k = 0; k < a.columns.size(); ++k)
                if (a.columns[k].name != b.columns[k].name || a.columns[k].type != b.columns[k].type) std::abort();
        }
    }
    // A connection that already knows some symbols.
    static const std::vector<std::string> known = {"a", "b", "c"};
    static const std::vector<std::pair<std::string, type>> schema = {
        {"s", type::symbol}, {"v", type::varchar}, {"t", type::timestamp}, {"d", type::date}, {"x", type::double_array}};
    for (std::uint8_t flags : {std::uint8_t{0x08}, std::uint8_t{0x0C}, std::uint8_t{0x00}}) {
        std::span<const std::byte> block = in;
        block_mode m;
        m.egress = true;
        m.max_rows = egress::max_batch_rows;
        (void)decode_block(block, flags, known, m);
        block = in;
        m.schema = &schema;
        (void)decode_block(block, flags, known, m);
    }
    (void)decode_response(in);
    (void)egress::decode_server_info(in);
    // The HTTP chunked body decoder (REST responses, QuestDB's /exec).
    {
        qwire::http::chunked_decoder dec(1 << 16);
        qwire::byte_buffer buf;
        buf.append(data, size);
        std::string body;
        (void)dec.feed(buf, body);
        if (body.size() > (1 << 16)) std::abort();
    }
    return 0;
}

#if !defined(QWIRE_LIBFUZZER)
namespace {

std::vector<std::uint8_t> bytes_of(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const std::uint8_t*>(v.data()), reinterpret_cast<const std::uint8_t*>(v.data()) + v.size()};
}

std::vector<std::vector<std::uint8_t>> seeds(const char* fixtures) {
    std::vector<std::vector<std::uint8_t>> out;
    std::ifstream f(std::string(fixtures) + "/m0-equivalent-buffer.hex");
    std::string hex;
    std::getline(f, hex);
    std::vector<std::uint8_t> golden;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) golden.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    out.push_back(golden);
    // Every type, with NULLs, plain and with Gorilla timestamps.
    for (bool gorilla : {false, true}) {
        row_buffer rows;
        const std::uint32_t dims[] = {2};
        const double arr[] = {1.5, 2.5};
        for (int i = 0; i < 5; ++i) {
            auto r = rows.table("t");
            if (i == 2) r.null("s", type::symbol).null("v", type::varchar).null("x", type::double_array);
            else r.symbol("s", i % 2 ? "a" : "b").column("v", "text").array("x", dims, arr);
            const std::int64_t d = 1000 * i, t = 1700000000000000 + i * 7;
            r.typed("t", type::timestamp, &t).typed("d", type::date, &d).column("b", i % 2 == 0).geohash("g", 5, 10);
            r.at(1700000000000000000LL + i * 1000);
        }
        symbol_dict dict;
        encode_options o;
        o.gorilla = gorilla;
        message_builder b(dict, o);
        (void)rows.encode(b);
        out.push_back(bytes_of(b.finish_copy()));
    }
    response ok;
    ok.sequence = 5;
    ok.tables = {{"trades", 42}};
    out.push_back(bytes_of(encode_response(ok)));
    response err;
    err.status = status::parse_error;
    err.sequence = 3;
    err.message = "bad";
    out.push_back(bytes_of(encode_response(err)));
    egress::server_info si;
    si.capabilities = 1;
    si.cluster_id = "c";
    si.node_id = "n";
    si.zone_id = "z";
    auto frame = egress::server_info_frame(si);
    out.push_back(bytes_of(std::vector<std::byte>(frame.begin() + 12, frame.end())));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const char* dir = argc > 1 && std::string(argv[1]) != "--replay" ? argv[1] : ".";
    return qwire::test::run_mutations("qwp fuzz", seeds(dir), LLVMFuzzerTestOneInput, argc, argv);
}
#endif
