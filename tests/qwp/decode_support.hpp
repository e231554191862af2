// What the server of a fresh connection decodes from an encoded row buffer:
// shared by the encoder tests and the peer tests that compare with it.
#pragma once

#include <qwire/proto/qwp/decoder.hpp>
#include <qwire/proto/qwp/encoder.hpp>

#include <catch2/catch.hpp>

namespace qwire::test {

inline qwp::decoded_message decode_fresh(const qwp::row_buffer& buf) {
    qwp::symbol_dict dict;
    qwp::message_builder b(dict);
    REQUIRE(buf.encode(b));
    qwp::message_decoder dec;
    auto m = dec.decode(b.finish_copy());
    REQUIRE(m);
    return std::move(*m);
}

}  // namespace qwire::test
