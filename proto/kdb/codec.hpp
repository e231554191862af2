// kdb+ IPC serialization: the 8-byte message header, object encoding and
// decoding, and whole messages (with IPC compression).
//
// Encoding always writes little-endian. Decoding accepts both byte orders
// (javakdb releases up to 2.1.1 send big-endian) and checks every length
// against the input before reading or allocating: truncated or lying input is
// an error, never a crash or an unbounded allocation.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/proto/kdb/k.hpp>

#include <cstdint>
#include <span>

namespace qwire::kdb {

enum class msg_type : std::uint8_t { async = 0, sync = 1, response = 2 };

inline constexpr std::size_t header_size = 8;

struct header {
    bool little_endian = true;
    msg_type type = msg_type::async;
    std::uint8_t compressed = 0;  // 0 plain, 1 compressed, 2 compressed with an 8-byte size (provisional)
    std::uint64_t length = 0;     // whole message, header included
};

// What one message may cost. A message over max_message_bytes (on the wire,
// or once decompressed) is refused before it is read or inflated; one whose
// decoded objects would take more than max_decoded_bytes of memory (a list
// of atoms is ~150 bytes an item, from 2 on the wire) is refused while it is
// decoded, before the memory is taken.
struct limits {
    std::uint64_t max_message_bytes = std::uint64_t{1} << 30;  // compressed and uncompressed
    std::uint64_t max_decoded_bytes = std::uint64_t{1} << 34;  // memory of the decoded value
    unsigned max_depth = 100;                                  // nesting of lists, dicts, tables
};

// A server's defaults, sized for a 2-core, 24 GiB machine serving many
// clients: 128 MiB messages, 512 MiB of decoded objects per message.
inline limits server_limits() noexcept {
    limits l;
    l.max_message_bytes = std::uint64_t{128} << 20;
    l.max_decoded_bytes = std::uint64_t{512} << 20;
    return l;
}

// The highest capability qwire negotiates: 3 (kdb+ 3.0+, GUIDs, 2 GB
// messages). 5 and 6 (larger messages) are undocumented by KX; see codec.cpp.
inline constexpr int default_capability = 3;

result<header> parse_header(std::span<const std::byte> bytes);
void write_header(std::span<std::byte> out, msg_type t, std::uint64_t length, std::uint8_t compressed = 0);

// Bytes the encoded object takes (without a header), or errc::capability.
result<std::size_t> encoded_size(const k& x, int capability = default_capability);
// Appends the encoded object to out.
result<void> encode(const k& x, byte_buffer& out, int capability = default_capability);
// Decodes the object at the front of bytes; returns it and the bytes it took
// (tickerplant logs hold objects back to back without headers).
result<std::pair<k, std::size_t>> decode_prefix(std::span<const std::byte> bytes, bool little_endian = true,
                                               const limits& lim = {});
// Decodes exactly one object that must fill the whole of body.
result<k> decode(std::span<const std::byte> body, bool little_endian = true, const limits& lim = {});

// Appends a whole message (header + object) to out. With compress set, a
// message over 2000 bytes is sent compressed if that halves it (kdb+'s rule).
result<void> encode_message(const k& x, msg_type t, byte_buffer& out, bool compress = false,
                            int capability = default_capability);

struct message {
    msg_type type;
    k value;
};
// Decodes a whole message (header included), decompressing if needed.
result<message> decode_message(std::span<const std::byte> bytes, const limits& lim = {});

// IPC compression of a whole uncompressed message (header included). Returns
// false (and leaves out alone) when the compressed form would not be smaller
// than half the original, as kdb+ does.
bool compress(std::span<const std::byte> message, byte_buffer& out);
// Decompresses a whole compressed message into out (header rebuilt).
result<void> decompress(std::span<const std::byte> message, byte_buffer& out, const limits& lim = {});

}  // namespace qwire::kdb
