// The server's responses to ingress frames: OK (cumulative), durable acks,
// and the error statuses with their text.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/proto/qwp/wire.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace qwire::qwp {

// A server response to ingress frames.
struct response {
    qwp::status status = qwp::status::ok;
    std::int64_t sequence = -1;  // absent (-1) in durable acks
    std::vector<std::pair<std::string, std::int64_t>> tables;  // name, seqTxn
    std::string message;  // error text
    bool is_error() const noexcept {
        return status != qwp::status::ok && status != qwp::status::durable_ack && status != qwp::status::local_durable_ack;
    }
};
result<response> decode_response(std::span<const std::byte> frame);
// The same into `out`, reusing its storage (a client decodes every OK so).
result<void> decode_response(std::span<const std::byte> frame, response& out);
std::vector<std::byte> encode_response(const response& r);

}  // namespace qwire::qwp
