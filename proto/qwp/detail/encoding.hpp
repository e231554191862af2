// Helpers the encoder's sources share (not installed).
#pragma once

#include <qwire/proto/qwp/message_builder.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace qwire::qwp::detail {

// Equality for the short strings names and symbols are: overlapping word
// loads instead of a call to memcmp.
inline bool same_text(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    const char *p = a.data(), *q = b.data();
    auto word8 = [](const char* x) {
        std::uint64_t w;
        std::memcpy(&w, x, 8);
        return w;
    };
    auto word4 = [](const char* x) {
        std::uint32_t w;
        std::memcpy(&w, x, 4);
        return w;
    };
    if (n >= 8) {
        if (n > 64) return std::memcmp(p, q, n) == 0;
        std::uint64_t diff = word8(p + n - 8) ^ word8(q + n - 8);
        for (std::size_t i = 0; i + 8 <= n; i += 8) diff |= word8(p + i) ^ word8(q + i);
        return diff == 0;
    }
    if (n >= 4) return ((word4(p) ^ word4(q)) | (word4(p + n - 4) ^ word4(q + n - 4))) == 0;
    unsigned diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(p[i] ^ q[i]);
    return diff == 0;
}

// Whether row i of the column holds a value (its validity bit, if any).
inline bool present(const column_view& c, std::size_t i) noexcept {
    if (!c.validity) return true;
    const std::size_t j = c.offset + i;
    return (c.validity[j >> 3] >> (j & 7)) & 1;
}

inline bool valid_name(std::string_view n) noexcept { return n.size() <= max_name_bytes; }

}  // namespace qwire::qwp::detail
