// The kdb+ code's name for a type-erased byte stream.
#pragma once

#include <qwire/io/any_stream.hpp>

namespace qwire::kdb {

// Loopback and Unix-socket peers (local()) are never sent compressed data.
using transport = any_stream;

}  // namespace qwire::kdb
