// Reading qwire-bridge's status lines, for the tests that run it as a
// process.
#pragma once

#include <qwire/proto/kdb/types.hpp>

#include "peers/process.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace qwire::test {

// The position a status line says is committed ("... committed through
// 20261203.00000001064"), or null_long when it says none.
inline std::int64_t committed_through(const std::string& line) {
    const auto at = line.find("committed through ");
    if (at == std::string::npos) return kdb::null_long;
    std::int64_t v = 0;
    bool any = false;
    for (std::size_t i = at + 18; i < line.size(); ++i) {
        if (line[i] == '.') continue;
        if (line[i] < '0' || line[i] > '9') break;
        v = v * 10 + (line[i] - '0');
        any = true;
    }
    return any ? v : kdb::null_long;
}

// Reads the bridge's status lines until one says `pos` is committed.
inline void wait_committed(child_process& bridge, std::int64_t pos) {
    for (std::string line;;) {
        REQUIRE(bridge.read_line(line));  // the bridge ended early: its last words are in the log
        INFO(line);
        if (committed_through(line) != kdb::null_long && committed_through(line) >= pos) return;
    }
}

}  // namespace qwire::test
