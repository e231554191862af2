// The byte_stream concept every transport and stage satisfies, and helpers
// written once against it.
#pragma once

#include <qwire/core/reactor.hpp>
#include <qwire/core/task.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <span>

namespace qwire {

// One piece of a scatter-gather write.
struct const_buffer {
    const void* data;
    std::size_t size;
};

inline const_buffer buffer(std::span<const std::byte> s) noexcept { return {s.data(), s.size()}; }
inline const_buffer buffer(std::string_view s) noexcept { return {s.data(), s.size()}; }

// read_some reads at least one byte (or fails; a clean close is errc::eof);
// write_all writes everything or fails; the scatter-gather form writes the
// pieces in order as one stream of bytes.
template <class S>
concept byte_stream = requires(S& s, std::span<std::byte> rb, std::span<const std::byte> wb,
                               std::span<const const_buffer> bufs, op_options o) {
    s.read_some(rb, o);
    s.write_all(wb, o);
    s.write_all(bufs, o);
};

// Reads exactly buf.size() bytes.
template <byte_stream S>
task<result<void>> read_exact(S& s, std::span<std::byte> buf, op_options o = {}) {
    while (!buf.empty()) {
        result<std::size_t> n = co_await s.read_some(buf, o);
        if (!n) co_return n.error();
        buf = buf.subspan(*n);
    }
    co_return result<void>{};
}

inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace qwire
