// Base64 (RFC 4648), for Basic auth and WebSocket keys.
#pragma once

#include <qwire/proto/http/message.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace qwire::http {

std::string base64_encode(std::span<const std::uint8_t> bytes);
result<std::string> base64_decode(std::string_view text);

}  // namespace qwire::http
