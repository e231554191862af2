// Helpers shared by the QWP tests that read back what a server holds: the
// test server's record of a table, and a query through qwire's reader.
#pragma once

#include <qwire/proto/qwp/reader.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qwire::test {

// How many times each value of column `id` of table t arrived in the
// server's committed rows.
inline std::map<std::int64_t, int> id_counts(const qwp::test_server& s, const std::string& t) {
    std::map<std::int64_t, int> out;
    auto it = s.tables().find(t);
    if (it == s.tables().end()) return out;
    for (const auto& b : it->second.blocks)
        for (const auto& c : b.columns)
            if (c.name == "id")
                for (std::size_t i = 0; i < b.rows; ++i) ++out[c.get<std::int64_t>(i)];
    return out;
}

// Every row a query returns through qwire's reader, as JSON lines.
inline task<std::vector<std::string>> rows_via_reader(std::string conf, std::string sql) {
    std::vector<std::string> rows;
    auto rd = co_await qwp::reader::connect(conf);
    REQUIRE(rd);
    auto e = co_await rd->execute(sql);
    REQUIRE(e);
    for (;;) {
        auto b = co_await rd->next();
        REQUIRE(b);
        if (!*b) break;
        for (std::size_t i = 0; i < (*b)->rows(); ++i) rows.push_back(qwp::row_json((*b)->table, i));
    }
    co_return rows;
}

// Drains the running query; the rows it returned.
inline task<std::size_t> drain(qwp::reader& rd) {
    std::size_t rows = 0;
    for (;;) {
        auto b = co_await rd.next();
        REQUIRE(b);
        if (!*b) break;
        rows += (*b)->rows();
    }
    co_return rows;
}

}  // namespace qwire::test
