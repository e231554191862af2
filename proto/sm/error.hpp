// Errors of the Storage Manager interface. SM's own errors ('mount, 'state,
// 'callback over q IPC; 404, 503, 400 over REST) map to the same codes,
// whichever way the DA talks to SM.
#pragma once

#include <qwire/core/error.hpp>

#include <system_error>

namespace qwire::sm {

enum class errc {
    mount = 1,     // no such mount (q 'mount, HTTP 404)
    state,         // SM is not ready (q 'state, HTTP 503)
    callback,      // the callback is missing or unusable (q 'callback, HTTP 400)
    bad_signal,    // a reload signal without a field it needs, or of the wrong type: the detail names it
    bad_response,  // an answer of the wrong shape, or JSON that does not parse
    http_status,   // an HTTP status SM does not document: the detail has it and the body
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace qwire::sm

template <>
struct std::is_error_code_enum<qwire::sm::errc> : std::true_type {};
