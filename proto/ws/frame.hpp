// RFC 6455 frame headers and masking.
//
// encode_header() writes a frame header (2 to 14 bytes) in front of a
// payload; mask_copy() copies a payload while applying the masking key, eight
// bytes at a time (a byte loop is several times slower), so masking is fused
// into the copy that builds the frame. parse_header() reads a header from the
// front of a buffer with every length checked.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/error.hpp>
#include <qwire/io/byte_stream.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace qwire::ws {

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

struct frame_header {
    bool fin = true;
    opcode op = opcode::binary;
    bool masked = false;
    std::array<std::uint8_t, 4> mask{};
    std::uint64_t payload_length = 0;
    std::size_t header_length = 0;  // set by parse_header
};

inline constexpr std::size_t max_header_size = 14;

enum class errc {
    reserved_bits = 1,   // RSV1-3 set without an extension
    bad_opcode,
    control_too_long,    // control frames carry at most 125 bytes
    fragmented_control,
    non_minimal_length,  // a length encoded in more bytes than needed
    length_overflow,     // 64-bit length with the top bit set
    // Raised by the stream stage (stream.hpp) and the handshake:
    closed,              // the peer sent CLOSE (its code: stream::peer_close())
    message_too_big,     // a frame over the stream's maximum (closed with 1009)
    fragmented,          // a fragmented message, which this stage refuses (1002)
    text_refused,        // a TEXT frame where only BINARY is accepted (1003)
    bad_masking,         // a client frame not masked, or a server frame masked (1002)
    bad_upgrade,         // a 101 without the right Upgrade/Connection/Accept
    upgrade_rejected,    // the server answered the upgrade with another status
};

// Close codes (RFC 6455 section 7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code
const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// Writes the header for h into out (at least max_header_size bytes); returns
// its length.
std::size_t encode_header(const frame_header& h, std::span<std::byte> out) noexcept;

// The header at the front of in: its fields, or an empty result with no
// error when more bytes are needed (*need set to how many in total).
struct parsed {
    bool complete = false;
    frame_header h;
    std::size_t need = 0;
};
result<parsed> parse_header(std::span<const std::byte> in) noexcept;

// Copies src to dst applying the masking key, starting at key offset
// `phase` (for payloads masked in pieces); returns the next phase.
std::size_t mask_copy(std::byte* dst, const std::byte* src, std::size_t n, std::array<std::uint8_t, 4> key,
                      std::size_t phase = 0) noexcept;

// Appends one complete frame (FIN set) whose payload is the pieces, in
// order, to out: masked with *key (a client's frame) or plain. The masking
// is the copy, so a client frame costs one pass over the payload.
void append_frame(byte_buffer& out, opcode op, std::span<const const_buffer> pieces,
                  const std::array<std::uint8_t, 4>* key);

// A fresh, unpredictable masking key per frame (RFC 6455 section 5.3):
// a per-thread generator seeded from the kernel's random source.
std::array<std::uint8_t, 4> random_mask() noexcept;

}  // namespace qwire::ws

template <>
struct std::is_error_code_enum<qwire::ws::errc> : std::true_type {};
