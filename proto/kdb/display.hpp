// Values as the q console prints them.
#pragma once

#include <qwire/proto/kdb/k.hpp>

#include <string>

namespace qwire::kdb {

// The value as the q console prints it: `1 2 3`, `` `a`b ``, `0N`,
// `2024.01.15D09:30:00.000000000`, dictionaries as `key| value` lines,
// tables with a header line. Never throws: a value it cannot lay out (a
// table whose columns disagree, built by hand) prints as `?`.
std::string to_string(const k& x);

}  // namespace qwire::kdb
