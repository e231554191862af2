// row_buffer: the row-major front end of the QWP encoder.
#pragma once

#include <qwire/proto/qwp/chunk.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::qwp {

// Row-major front end. Rows are appended to per-table columnar storage;
// a column first named at row k is null for rows 0..k-1, a column not set
// in a row is null there.
class row_buffer {
public:
    class row;

    row_buffer();
    ~row_buffer();
    row_buffer(row_buffer&&) noexcept;
    row_buffer& operator=(row_buffer&&) noexcept;

    // Starts a row of table `name`.
    row table(std::string_view name);

    std::size_t row_count() const noexcept;
    bool empty() const noexcept { return row_count() == 0; }
    void clear();
    // The first error of a row call (bad name, type change, ...), if any.
    // Its detail names the table and column.
    const qwire::error& error() const noexcept { return error_; }

    // Encodes every table into b (one block each, in first-use order).
    result<void> encode(message_builder& b) const;
    // One chunk per table, viewing this buffer's storage (valid until the
    // buffer changes).
    std::vector<chunk> chunks() const;

    struct column_store;
    struct table_store;

private:
    friend class row;
    std::vector<std::unique_ptr<table_store>> tables_;
    qwire::error error_;
};

class row_buffer::row {
public:
    row& symbol(std::string_view name, std::string_view v);
    row& column(std::string_view name, bool v);
    row& column(std::string_view name, std::int64_t v);
    row& column(std::string_view name, int v) { return column(name, std::int64_t{v}); }
    row& column(std::string_view name, double v);
    row& column(std::string_view name, std::string_view v);  // varchar
    row& column(std::string_view name, const char* v) { return column(name, std::string_view(v)); }
    // Any fixed-width type from its little-endian bytes (int, float, byte,
    // short, char, date, timestamp, uuid, long256, ipv4, decimals).
    row& typed(std::string_view name, qwp::type t, const void* value, std::uint8_t scale = 0);
    row& binary(std::string_view name, std::span<const std::byte> v);
    row& geohash(std::string_view name, std::uint64_t v, std::uint8_t bits);
    row& array(std::string_view name, std::span<const std::uint32_t> dims, std::span<const double> v);
    row& array(std::string_view name, std::span<const std::uint32_t> dims, std::span<const std::int64_t> v);
    row& null(std::string_view name, qwp::type t);

    // Ends the row with its designated timestamp, or with none (the server
    // stamps it).
    void at(std::int64_t ts, qwp::type t = qwp::type::timestamp_nanos);
    void at_now();

private:
    friend class row_buffer;
    row(row_buffer& b, table_store& t) : b_(&b), t_(&t) {}
    column_store* col(std::string_view name, qwp::type t);
    // Records the row's first error, naming the table and the column.
    void fail(std::string_view column, errc e, std::string_view why);
    row_buffer* b_;
    table_store* t_;
};

}  // namespace qwire::qwp
