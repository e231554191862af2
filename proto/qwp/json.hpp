// Decoded rows as JSON, as the test server's --dump writes them.
#pragma once

#include <qwire/proto/http/json.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace qwire::qwp {

// A JSON object of one row, {"col":value,...}, as the test server's --dump
// writes it: numbers as numbers, NULL as null, symbols/varchar as strings,
// binary/uuid/long256 as hex strings, decimals as decimal strings; floats
// and doubles in the shortest text that round-trips, NaN and infinities as
// null.
std::string row_json(const decoded_table& t, std::size_t row);
// s as a JSON string literal (the one writer's, proto/http/json.hpp).
using http::json_quote;

}  // namespace qwire::qwp
