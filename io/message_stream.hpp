// The message_stream concept: a stage that carries whole messages (the
// WebSocket stage, ws::stream<S>, is one; a test can write its own), and
// what a stage above it needs to keep sent messages for a replay without
// knowing how they look on the wire.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>

#include <concepts>
#include <span>
#include <vector>

namespace qwire {

// send: one message made of the pieces, in order.
// receive: the next message; its value has a `payload` (a span of bytes,
//     valid until the next receive).
// frame: appends the wire form of one message to `out`, for the caller to
//     keep; write_framed writes such wire forms as they are (one or several
//     back to back); unframe recovers the message a wire form carries
//     (false: not one of this stream's).
// keepalive: something the peer answers (a WebSocket PING), to make a peer
//     that only talks when talked to say something.
// finish: the closing handshake; peer_closed: whether the peer has ended
//     the stream with its side of that handshake (receive then fails);
//     shutdown: closes the transport beneath, so that pending receives end
//     with an error.
//
// Writes never interleave: a message written by one coroutine is never cut
// into by another's, nor by a reply the receive side writes.
template <class M>
concept message_stream = requires(M& m, std::span<const const_buffer> pieces, std::span<const std::byte> framed,
                                  byte_buffer& out, std::vector<std::byte>& payload, op_options o) {
    m.send(pieces, o);
    m.receive(o);
    m.frame(pieces, out);
    m.write_framed(framed, o);
    { m.unframe(framed, payload) } -> std::same_as<bool>;
    m.keepalive(o);
    m.finish(o);
    { m.peer_closed() } -> std::convertible_to<bool>;
    m.shutdown();
};

// The total size of a message's pieces.
inline std::size_t total_size(std::span<const const_buffer> pieces) noexcept {
    std::size_t n = 0;
    for (const auto& p : pieces) n += p.size;
    return n;
}

}  // namespace qwire
