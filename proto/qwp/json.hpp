// Decoded rows as JSON, as the test server's --dump writes them.
#pragma once

#include <qwire/proto/qwp/decoder.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace qwire::qwp {

// A JSON object of one row, {"col":value,...}, as the test server's --dump
// writes it: numbers as numbers, NULL as null, symbols/varchar as strings,
// binary/uuid/long256 as hex strings, decimals as decimal strings.
std::string row_json(const decoded_table& t, std::size_t row);
// s as a JSON string literal.
std::string json_quote(std::string_view s);

}  // namespace qwire::qwp
