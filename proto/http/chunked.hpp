// Transfer-Encoding: chunked, decoded as the bytes arrive.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/proto/http/message.hpp>

#include <string>

namespace qwire::http {

// Decodes a chunked body (RFC 9112 7.1) as its bytes arrive: feed() takes
// what it can from the front of `in` into `body` and says whether the body
// (and its trailer section) is complete. Chunk extensions and trailers are
// read and dropped; the body is bounded by max_body.
class chunked_decoder {
public:
    explicit chunked_decoder(std::size_t max_body) : max_(max_body) {}
    result<bool> feed(byte_buffer& in, std::string& body);

private:
    enum class state { size_line, data, data_end, trailer, done };
    state st_ = state::size_line;
    std::size_t left_ = 0;
    std::size_t trailers_ = 0;
    std::size_t max_;
};

}  // namespace qwire::http
