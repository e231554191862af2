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

// The q console's size (q's \c: rows and columns, each kept in 10..2000).
struct console_size {
    std::size_t rows = 25, columns = 80;
};

// x as the q console shows it at that size: output stays inside rows - 1
// lines of columns - 1 characters, a longer line cut and ended with "..",
// and past rows - 2 lines a ".." line ends it (as q's documented
// `\c 10 10` output shows). Only what shows is laid out, so a
// million-row table costs what its first rows cost; column widths are
// those of the rows shown.
std::string to_string(const k& x, console_size c);

}  // namespace qwire::kdb
