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

// Whether the peer at the far end of s (or of the stream s runs over) is on
// this machine: loopback or a Unix socket. Stages use it for policies such
// as kdb+'s "never compress for a local peer". A stream that cannot tell
// says false.
template <class S>
bool peer_is_local(S& s) {
    if constexpr (requires { s.local(); })
        return s.local();
    else if constexpr (requires { s.peer_is_local(); })
        return s.peer_is_local();
    else if constexpr (requires { s.next_layer(); })
        return peer_is_local(s.next_layer());
    else
        return false;
}

// Closes the transport at the bottom of s so that pending reads and writes
// on every stage above it complete with an error.
template <class S>
void close_stream(S& s) {
    if constexpr (requires { s.close(); })
        s.close();
    else if constexpr (requires { s.next_layer(); })
        close_stream(s.next_layer());
}

inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace qwire
