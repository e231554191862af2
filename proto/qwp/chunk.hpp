// chunk: the column-major front end of the QWP encoder.
#pragma once

#include <qwire/proto/qwp/message_builder.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace qwire::qwp {

// A column-major chunk of one table that borrows the caller's memory. The
// buffers must stay valid and unchanged until the chunk has been encoded
// (flushed).
class chunk {
public:
    chunk(std::string table, std::size_t rows) : table_(std::move(table)), rows_(rows) {}

    // Fixed-width columns; T must match the type's width. validity: Arrow
    // bitmap (1 = present) of at least rows bits, or null.
    template <class T>
    chunk& column(std::string_view name, qwp::type t, std::span<const T> v, const std::uint8_t* validity = nullptr) {
        column_view c = base(name, t, validity);
        c.values = v.data();
        check(v.size() >= rows_ && sizeof(T) == fixed_width(t));
        return add(c);
    }
    chunk& column(std::string_view name, std::span<const std::int64_t> v, const std::uint8_t* validity = nullptr) {
        return column(name, qwp::type::long_, v, validity);
    }
    chunk& column(std::string_view name, std::span<const double> v, const std::uint8_t* validity = nullptr) {
        return column(name, qwp::type::double_, v, validity);
    }
    chunk& column(std::string_view name, std::span<const std::int32_t> v, const std::uint8_t* validity = nullptr) {
        return column(name, qwp::type::int_, v, validity);
    }
    chunk& boolean(std::string_view name, const std::uint8_t* bits, const std::uint8_t* validity = nullptr);
    chunk& decimal(std::string_view name, qwp::type t, const void* values, std::uint8_t scale,
                   const std::uint8_t* validity = nullptr);
    chunk& geohash(std::string_view name, std::span<const std::uint64_t> v, std::uint8_t bits,
                   const std::uint8_t* validity = nullptr);
    // The designated timestamp (type timestamp or timestamp_nanos).
    chunk& designated(std::span<const std::int64_t> v, qwp::type t = qwp::type::timestamp_nanos) {
        return column("", t, v);
    }
    // varchar or binary with 32- or 64-bit offsets (rows + 1 of them).
    chunk& varchar(std::string_view name, std::span<const std::int32_t> offsets, const std::byte* bytes,
                   const std::uint8_t* validity = nullptr, qwp::type t = qwp::type::varchar);
    chunk& varchar(std::string_view name, std::span<const std::int64_t> offsets, const std::byte* bytes,
                   const std::uint8_t* validity = nullptr, qwp::type t = qwp::type::varchar);
    // Symbols as dictionary codes (int8, int16 or int32) into dict.
    template <class Code>
    chunk& symbol(std::string_view name, std::span<const Code> codes, std::span<const std::string_view> dict,
                  const std::uint8_t* validity = nullptr) {
        static_assert(sizeof(Code) == 1 || sizeof(Code) == 2 || sizeof(Code) == 4);
        column_view c = base(name, qwp::type::symbol, validity);
        c.values = codes.data();
        c.code_width = sizeof(Code);
        c.dict = dict;
        check(codes.size() >= rows_);
        return add(c);
    }
    // Arrays: pre-encoded rows (encode_array) with rows + 1 int64 offsets.
    chunk& array(std::string_view name, qwp::type t, std::span<const std::int64_t> offsets, const std::byte* bytes,
                 const std::uint8_t* validity = nullptr);
    // Any view (the Arrow ingest uses this).
    chunk& add(const column_view& c);

    // Storage the chunk keeps alive for views it makes itself (names and
    // dictionaries taken from Arrow, pre-encoded arrays); copies share it.
    template <class T>
    const T& keep(T value) {
        auto p = std::make_shared<T>(std::move(value));
        const T& ref = *p;
        kept_.push_back(std::move(p));
        return ref;
    }

    const std::string& table() const noexcept { return table_; }
    std::size_t rows() const noexcept { return rows_; }
    std::span<const column_view> columns() const noexcept { return columns_; }
    // The first problem found while columns were added, if any.
    std::error_code error() const noexcept { return error_; }

private:
    column_view base(std::string_view name, qwp::type t, const std::uint8_t* validity) const {
        column_view c;
        c.name = name;
        c.type = t;
        c.rows = rows_;
        c.validity = validity;
        return c;
    }
    void check(bool ok) {
        if (!ok && !error_) error_ = make_error_code(errc::bad_column);
    }
    std::string table_;
    std::size_t rows_;
    std::vector<column_view> columns_;
    std::error_code error_;
    std::vector<std::shared_ptr<const void>> kept_;
};

// Encodes a chunk (or rows [from, from + count) of it) into b.
result<void> encode(message_builder& b, const chunk& c, std::size_t from, std::size_t count);
inline result<void> encode(message_builder& b, const chunk& c) { return encode(b, c, 0, c.rows()); }

}  // namespace qwire::qwp
