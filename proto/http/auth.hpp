// The Authorization header's Basic and Bearer forms.
#pragma once

#include <qwire/proto/http/message.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace qwire::http {

// "Basic base64(user:password)" and "Bearer token".
std::string basic_auth(std::string_view user, std::string_view password);
std::string bearer_auth(std::string_view token);
// The user and password of a Basic Authorization value.
result<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value);

}  // namespace qwire::http
