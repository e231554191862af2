// Errors of the kdb+ layer.
//
// kdb::errc covers malformed input, misuse of the K model and protocol
// failures. An error the *server* returned ('type, 'length, a user signal)
// is errc::remote with the server's text as its detail, so query results
// stay result<k> and still carry the text:
//
//     if (r.error() == kdb::errc::remote) std::printf("'%s\n", std::string(r.error().detail()).c_str());
#pragma once

#include <qwire/core/error.hpp>

#include <string_view>
#include <system_error>

namespace qwire::kdb {

enum class errc {
    truncated = 1,         // input ends inside an object or message
    trailing_bytes,        // a message body longer than its one object
    bad_type,              // a type byte that is not a kdb+ IPC type
    enumeration,           // types 20..76: kdb+ resolves enumerations before sending
    negative_count,
    too_deep,              // nesting deeper than the decoder's limit
    too_large,             // over the configured message size limit
    unterminated_symbol,
    bad_header,            // message header fields out of range
    bad_compression,       // compressed stream inconsistent with its lengths
    capability,            // a type the negotiated capability does not allow
    type_mismatch,         // accessor of the wrong type
    index_out_of_range,
    no_such_column,
    length_mismatch,       // dictionary keys and values, or table columns, of different lengths
    access_denied,         // the server closed the connection during the handshake
    handshake_too_long,    // credentials beyond the server's limit
    unexpected_message,    // a response nobody asked for, or a bad message type
    connection_closed,     // the connection ended while requests were pending
    not_a_tickerplant,     // a tickerplant reply of the wrong shape
    slow_consumer,         // a peer's send queue went over its bound: the server dropped it
    remote,                // the remote process signalled an error: the detail is its text
    bad_address,           // an address hopen would not take: the detail says why
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// The error a remote process returned, with its text (no leading quote).
inline error remote_error(std::string_view text) { return error(make_error_code(errc::remote), text); }
// The text a q client gets for an error: a remote error's own text, or
// the message of any other.
std::string signal_text(const error& e);

}  // namespace qwire::kdb

template <>
struct std::is_error_code_enum<qwire::kdb::errc> : std::true_type {};
