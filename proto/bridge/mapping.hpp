// kdb+ <-> QuestDB: how kdb+ columns become QWP columns and QWP result
// columns become K vectors (the README's mapping table).
//
//   kdb+                      QWP                      back to kdb+
//   boolean  b                BOOLEAN                  boolean
//   guid     g                UUID (0Ng: NULL)         guid
//   byte     x                BYTE                     byte
//   short    h                SHORT                    short
//   int      i                INT (0Ni: NULL)          int
//   long     j                LONG (0N: NULL)          long
//   real     e                FLOAT (0Ne: NULL)        real
//   float    f                DOUBLE (0n: NULL)        float
//   char     c                CHAR                     char
//   string   (char lists)     VARCHAR                  string (NULL: "")
//   symbol   s                SYMBOL (`: NULL)         symbol
//   timestamp p               TIMESTAMP_NANOS          timestamp
//   month    m                DATE (its first day)     timestamp
//   date     d                DATE                     timestamp
//   datetime z                DATE (milliseconds)      timestamp
//   timespan n                LONG (nanoseconds)       long
//   minute u / second v / time t   INT (minutes / seconds / milliseconds)   int
//
// Temporal values move from kdb+'s 2000.01.01 epoch to 1970's; their nulls
// and infinities (which have no place on a shifted axis) become NULL. The
// integer types keep their infinities as values, and short's null as the
// number it is (QuestDB's SHORT has no NULL), so they come back as they
// went. QuestDB's TIMESTAMP (microseconds) comes back as a timestamp,
// IPv4 as an int, GEOHASH as a long, BINARY as byte lists; its other types
// have no kdb+ column and are an error naming the column.
//
// A column that cannot be mapped (a general list of anything but strings,
// an enumeration, a string that is not UTF-8) is an error naming the table
// and column, never dropped.
#pragma once

#include <qwire/proto/kdb/k.hpp>
#include <qwire/proto/qwp/chunk.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <span>
#include <vector>

namespace qwire::bridge {

enum class errc {
    unmappable = 1,    // a kdb+ or QWP column with no counterpart
    schema_changed,    // an update whose columns differ from the table's first
    bad_timestamp,     // the designated timestamp column is missing or NULL
    bad_state,         // the bridge's state file
};
const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// The QWP type a kdb+ vector type maps to, if any (for a general list, the
// string mapping: VARCHAR).
std::optional<qwp::type> qwp_type_for(kdb::type_t t) noexcept;

// Which column is a table's designated timestamp.
struct timestamp_source {
    // The column (timestamp, or timespan combined with the update's date);
    // empty: none, the server stamps each row.
    std::string column = "time";
    // Only when the table has that column: one without it gets the server's
    // time instead of an error.
    bool optional = true;
};

// The rows of one table on their way to QWP: updates are collected, then
// handed out as one chunk. Columns that need no conversion and come from
// one update go by reference to the K vector; the others are converted
// into buffers kept from batch to batch.
class table_batch {
public:
    table_batch(std::string table, timestamp_source ts = {});

    // Adds an update's rows (a table; day: the date a timespan time column
    // is on). Checked whole before anything is kept: an error names the
    // table and column, and leaves the batch as it was.
    result<void> append(const kdb::k& rows, std::chrono::sys_days day);

    std::size_t rows() const noexcept { return rows_; }
    // About what the rows take on the wire.
    std::size_t bytes() const noexcept { return bytes_; }
    bool empty() const noexcept { return rows_ == 0; }
    // The newest row's designated timestamp (ns since 1970), when the table
    // has a designated column and rows are waiting.
    std::optional<std::int64_t> newest_timestamp() const;
    const std::string& table() const noexcept { return table_; }

    // The collected rows as a chunk; it borrows from this batch, valid until
    // clear() or the next append().
    result<qwp::chunk> chunk();
    void clear();

private:
    struct column_plan {
        std::string name;
        kdb::type_t kind;  // the kdb+ type (0: strings)
        qwp::type out;
        bool by_reference;  // the K bytes are the QWP bytes
    };
    // A symbol column's names to their codes: open addressing over a
    // power-of-two table of (hash tag, code) words, the names in dict. Short
    // names (the usual tickers) hash from one 8-byte load.
    class symbol_index {
    public:
        // The code of s in dict, or -1.
        std::int32_t find(std::string_view s, std::span<const std::string_view> dict) const noexcept;
        // Records dict.back() (not in the index yet) under code dict.size() - 1.
        void add(std::span<const std::string_view> dict);
        void clear() noexcept;

    private:
        static std::uint64_t hash(std::string_view s) noexcept;
        std::vector<std::uint64_t> slots_;  // high 32 bits: the hash's; low: code + 1 (0: empty)
        std::size_t used_ = 0;
    };
    struct column_buffers {
        std::vector<std::byte> values;
        std::vector<std::uint8_t> validity;
        std::vector<std::int32_t> offsets;
        std::vector<std::byte> text;
        std::vector<std::int32_t> codes;
        // The symbol column's dictionary, kept across batches so that the
        // encoder's id cache stays valid (bounded: cleared past max_symbols).
        std::deque<std::string> names;
        std::vector<std::string_view> dict;
        symbol_index index;
    };
    result<void> plan(const kdb::k& rows);
    // Plans and checks an update; the bytes it adds.
    result<std::size_t> check(const kdb::k& rows, std::chrono::sys_days day);
    void convert(std::size_t col, column_buffers& b);
    void convert_timestamp();
    // Column col of the plan in an update (a checked table).
    const kdb::k& source(const kdb::k& update, std::size_t col) const;
    // What the designated column's values are shifted by (to 1970's epoch,
    // and a timespan onto its update's day).
    std::int64_t designated_base(std::chrono::sys_days day) const;

    std::string table_;
    timestamp_source ts_;
    std::vector<column_plan> plan_;
    std::optional<std::size_t> ts_col_;  // index of the designated column in the updates
    kdb::type_t ts_kind_ = 0;
    std::vector<kdb::k> updates_;
    std::vector<std::chrono::sys_days> days_;
    std::vector<column_buffers> buffers_;
    std::vector<std::int64_t> designated_;
    std::size_t rows_ = 0, bytes_ = 0;
};

// A QWP result column as a K vector (the right-hand column of the table
// above); an error names the column when its type has no kdb+ column.
result<kdb::k> to_k(const qwp::decoded_column& c);
// The same for several batches' pieces of one column, joined.
result<kdb::k> to_k(std::span<const qwp::decoded_column* const> pieces);

}  // namespace qwire::bridge

template <>
struct std::is_error_code_enum<qwire::bridge::errc> : std::true_type {};
