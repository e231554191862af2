// prefixed_stream<S>: a stream whose first bytes were already read (to tell
// protocols apart on one port, as a q process tells HTTP from its own
// handshake) and are handed out again before the rest of S.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/io/byte_stream.hpp>

#include <algorithm>
#include <cstring>

namespace qwire {

template <byte_stream S>
class prefixed_stream {
public:
    prefixed_stream(S s, byte_buffer prefix) : s_(std::move(s)), prefix_(std::move(prefix)) {}

    task<result<std::size_t>> read_some(std::span<std::byte> buf, op_options o = {}) {
        if (prefix_.size() == 0) co_return co_await s_.read_some(buf, std::move(o));
        const std::size_t n = std::min(buf.size(), prefix_.size());
        std::memcpy(buf.data(), prefix_.data().data(), n);
        prefix_.consume(n);
        co_return n;
    }
    // Writes go straight to S, whatever awaitable it returns.
    auto write_all(std::span<const std::byte> buf, op_options o = {}) { return s_.write_all(buf, std::move(o)); }
    auto write_all(std::span<const const_buffer> bufs, op_options o = {}) { return s_.write_all(bufs, std::move(o)); }
    S& next_layer() noexcept { return s_; }

private:
    S s_;
    byte_buffer prefix_;
};

}  // namespace qwire
