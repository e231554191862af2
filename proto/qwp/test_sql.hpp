// The SQL the QWP test server answers on /read/v1: enough for the queries
// tests and tools send, and a clear error for anything else.
//
//     SELECT * | item [, item ...] FROM table
//         [WHERE column op value [AND column op value ...]]
//         [ORDER BY column [ASC | DESC]] [LIMIT n]
//     item: column | count() | count(*) | sum(c) | avg(c) | min(c) | max(c),
//           each optionally followed by [AS] alias
//     op: = != <> < <= > >=; value: a number, 'text', true, false, or a
//     bind $1, $2, ... (a NULL bind matches nothing, as in SQL)
//
// A bare table name means SELECT * FROM it. Aggregates give one row
// (count() a LONG, avg() a DOUBLE, sum() a LONG or DOUBLE, min() and max()
// the column's type); a query mixing aggregates and plain columns is an
// error, as there is no GROUP BY.
#pragma once

#include <qwire/proto/qwp/message_builder.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::qwp::test_sql {

// A query's result as columns, ready to be sliced into batches.
struct result_set {
    struct column {
        std::string name;
        type t = type::long_;
        std::size_t rows = 0;
        std::vector<std::uint8_t> valid;  // Arrow bitmap, 1 = present
        std::vector<std::byte> fixed;
        std::vector<std::int64_t> offsets{0};
        std::vector<std::byte> bytes;
        std::vector<std::int32_t> codes;
        std::vector<std::string> dict;
        std::map<std::string, std::int32_t, std::less<>> index;
        std::vector<std::string_view> dict_views;
        std::uint8_t scale = 0, bits = 0;

        // Appends row `row` of c (null c or a NULL row: a NULL).
        void push(const decoded_column* c, std::size_t row);
        column_view view();
    };
    std::vector<column> columns;
    std::size_t rows = 0;
};

// A bind value as the query's text would spell it: a number, a text, true
// or false, or NULL.
struct param {
    enum kind_t { null, number, text, boolean } kind = null;
    std::string value;
};

// The binds of a QUERY_REQUEST (count of them, then each a type code and a
// one-row column), as params; `in` is left after the last one. An error
// names the bind ($n) and what was wrong with it.
result<std::vector<param>> decode_binds(std::span<const std::byte>& in, std::uint64_t count);

// Runs sql over the server's tables. An error's detail is the text the
// server answers with (QUERY_ERROR).
result<result_set> run(std::string_view sql, const std::map<std::string, test_server::table_data>& tables,
                       const std::vector<param>& params = {});

}  // namespace qwire::qwp::test_sql
