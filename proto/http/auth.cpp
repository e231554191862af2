#include <qwire/proto/http/auth.hpp>

#include <qwire/proto/http/base64.hpp>
#include <qwire/proto/http/detail/text.hpp>

namespace qwire::http {

std::string basic_auth(std::string_view user, std::string_view password) {
    std::string plain = std::string(user) + ":" + std::string(password);
    return "Basic " + base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
}

std::string bearer_auth(std::string_view token) { return "Bearer " + std::string(token); }

result<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value) {
    if (value.size() < 6 || !detail::iequals(value.substr(0, 6), "Basic ")) return make_error_code(errc::malformed_header);
    auto plain = base64_decode(detail::trim(value.substr(6)));
    if (!plain) return plain.error();
    const std::size_t colon = plain->find(':');
    if (colon == std::string::npos) return make_error_code(errc::malformed_header);
    return std::pair(plain->substr(0, colon), plain->substr(colon + 1));
}

}  // namespace qwire::http
