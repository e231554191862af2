// RFC 6455 opening-handshake keys: the client's random Sec-WebSocket-Key and
// the Sec-WebSocket-Accept the server must answer with.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace qwire::ws {

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view client_key);

// A Sec-WebSocket-Key: base64 of 16 random bytes.
std::string make_client_key();

}  // namespace qwire::ws
