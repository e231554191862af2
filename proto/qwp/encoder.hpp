// The QWP message encoder and its two front ends.
//
// One encoder (encode_table) writes table blocks from column_views: typed
// views of column memory with Arrow-style validity bitmaps (bit set = value
// present). Two front ends produce column_views:
//
//   chunk   column-major: borrows the caller's buffers. Column data without
//           nulls goes out by reference (no copy until the bytes are masked
//           into the WebSocket frame); symbols are dictionary codes plus a
//           dictionary, interned in bulk so only referenced entries travel.
//   row_buffer  row-major: table("t").symbol("s", "ETH").column("px", 1.5).at(ts)
//           for code that produces rows one at a time.
//
// A message is built by message_builder: table blocks first, then finish()
// puts the header and the delta symbol dictionary (the connection-global
// ids first used by this message) in front and returns the pieces to send.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/io/byte_stream.hpp>
#include <qwire/proto/qwp/wire.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qwire::qwp {

// The connection-global symbol dictionary: ids 0, 1, 2, ... in first-use
// order across all tables and columns. Entries from `sent()` on have not
// been on the wire yet and go into the next message's delta section.
class symbol_dict {
public:
    explicit symbol_dict(std::size_t cap = default_symbol_cap) : cap_(cap) {}

    result<std::uint32_t> intern(std::string_view s);
    // The id of s if it was interned, without interning it.
    std::optional<std::uint32_t> find(std::string_view s) const noexcept;
    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t sent() const noexcept { return sent_; }
    std::string_view at(std::size_t id) const noexcept { return entries_[id]; }
    void mark_sent() noexcept { sent_ = entries_.size(); }
    // After a reconnect: the server knows nothing; every entry is unsent.
    void forget_sent() noexcept { sent_ = 0; }
    void clear() noexcept {
        slots_.assign(slots_.size(), slot{});
        entries_.clear();
        storage_.clear();
        sent_ = 0;
    }

private:
    // Open addressing with linear probing over a power-of-two table at most
    // half full; each slot keeps the full hash, so a probe compares strings
    // only when the hashes match. Several times faster than a node-based
    // map on the short strings symbols are, and the encoder looks up every
    // dictionary entry a chunk references.
    struct slot {
        std::uint64_t hash = 0;
        std::uint32_t id = empty;
    };
    static constexpr std::uint32_t empty = 0xffffffffu;
    static std::uint64_t hash_of(std::string_view s) noexcept;
    // The slot holding s, or the empty slot where it would go.
    std::size_t probe(std::string_view s, std::uint64_t h) const noexcept;
    void grow();

    std::size_t cap_;
    std::vector<std::unique_ptr<char[]>> storage_;
    std::vector<std::string_view> entries_;
    std::vector<slot> slots_;
    std::size_t sent_ = 0;
};

// How a column's values are laid out in memory. Row i of the view is at
// index offset + i of the underlying arrays (and validity bit offset + i),
// so a view can be sliced without touching the data.
struct column_view {
    std::string_view name;  // empty name + timestamp type = designated timestamp
    qwp::type type = qwp::type::long_;
    std::size_t rows = 0;
    std::size_t offset = 0;
    const std::uint8_t* validity = nullptr;  // Arrow bitmap, 1 = present; null = all present

    // Fixed-width types: `rows` little-endian values of fixed_width(type)
    // bytes (boolean: bits LSB first; geohash: one uint64 per row).
    const void* values = nullptr;

    // varchar / binary: offsets (int32 or int64) and bytes. Arrays: the same
    // over pre-encoded rows (n_dims, dims, elements) made by encode_array().
    const void* offsets = nullptr;
    bool offsets64 = false;
    const std::byte* bytes = nullptr;

    // symbol: dictionary codes of code_width bytes (1, 2 or 4) into dict.
    int code_width = 4;
    std::span<const std::string_view> dict;

    std::uint8_t scale = 0;          // decimals
    std::uint8_t geohash_bits = 0;   // geohash precision, 1..60

    column_view sliced(std::size_t from, std::size_t count) const noexcept {
        column_view v = *this;
        v.offset += from;
        v.rows = count;
        return v;
    }
};

// One row's array value in QWP's layout: n_dims, the dimensions (i32 LE),
// the elements row-major. Appended to out.
void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const double> elements);
void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims,
                  std::span<const std::int64_t> elements);

struct encode_options {
    bool gorilla = false;  // Gorilla-code timestamp columns where smaller
};

// Builds one message. Not reusable across threads; reuse it across
// messages (clear()) so that steady state allocates nothing.
class message_builder {
public:
    explicit message_builder(symbol_dict& dict, encode_options o = {}) : dict_(&dict), opt_(o) {}

    // Appends a table block. On error nothing is appended.
    result<void> add_table(std::string_view name, std::size_t rows, std::span<const column_view> columns);
    // An egress result block: empty name, the schema only when asked (the
    // first batch of a result), up to 1,048,576 rows.
    result<void> add_result_block(std::size_t rows, std::span<const column_view> columns, bool with_schema);

    std::size_t table_count() const noexcept { return tables_; }
    // The whole message's size if finished now (header and delta included).
    std::size_t message_size() const noexcept;
    // Where the message stands; reset_to() drops the tables added since.
    struct mark_t {
        std::size_t owned, segments, body, tables, last_len;
    };
    mark_t mark() const noexcept;
    void reset_to(const mark_t& m) noexcept;
    // Bytes the message would have now (payload without header and dict).
    std::size_t body_size() const noexcept { return body_bytes_; }

    // Finishes the message: header (with `extra_flags`, e.g. defer_commit)
    // and delta dictionary in front; the symbol entries it carries count as
    // sent. The pieces stay valid until clear() or the next add_table().
    std::span<const const_buffer> finish(std::uint8_t extra_flags = 0);
    // The same with `prefix` between the header and the dictionary (egress
    // server frames: msg_kind, request_id, batch_seq).
    std::span<const const_buffer> finish(std::uint8_t extra_flags, std::span<const std::byte> prefix);
    // The finished message as one contiguous copy.
    std::vector<std::byte> finish_copy(std::uint8_t extra_flags = 0);

    void clear();
    // Undo the tables added since the last clear() (a message that must be
    // split); symbol ids interned meanwhile stay, unsent.
    void rollback() { clear(); }

    symbol_dict& dict() noexcept { return *dict_; }
    const encode_options& options() const noexcept { return opt_; }

private:
    friend struct column_writer;
    void own(const void* p, std::size_t n);
    std::uint8_t* own_space(std::size_t n);  // n writable bytes at the end of owned data
    void borrow(const void* p, std::size_t n);
    void unown(std::size_t n);
    void put_u8(std::uint8_t v) { own(&v, 1); }
    void put_varint(std::uint64_t v);
    void put_string(std::string_view s);
    result<void> add_block(std::string_view name, std::size_t rows, std::span<const column_view> columns, bool egress,
                           bool with_schema);

    struct segment {
        const std::byte* ptr;  // null: owned_ at off
        std::size_t off;
        std::size_t len;
    };
    symbol_dict* dict_;
    encode_options opt_;
    byte_buffer owned_;
    std::vector<segment> segments_;
    std::size_t body_bytes_ = 0;
    std::size_t tables_ = 0;
    std::array<std::uint8_t, header_size + 2 * max_varint> head_{};
    std::vector<std::byte> prefix_;
    byte_buffer delta_;
    std::vector<const_buffer> pieces_;

    // Symbol columns map dictionary positions to connection ids. The map of
    // the last few dictionaries is kept across chunks, keyed by where the
    // dictionary lives, and checked against the interned strings before it
    // is trusted again: a chunk's dictionary entries then cost a string
    // compare instead of a hash lookup.
    struct symbol_ids {
        const void* key = nullptr;
        std::vector<std::uint32_t> ids;
    };
    std::array<symbol_ids, 4> symbol_ids_{};
    std::size_t next_symbol_ids_ = 0;
    std::vector<std::uint32_t>& ids_for(std::span<const std::string_view> dict, std::size_t rows);
};

// A table-less deferred message re-registering symbol ids [from, to) (after
// a reconnect, before replaying frames that use them).
std::vector<std::byte> catchup_message(const symbol_dict& dict, std::size_t from, std::size_t to);
// The largest `to` such that catchup_message(dict, from, to) fits max_bytes
// (at least from + 1).
std::size_t catchup_end(const symbol_dict& dict, std::size_t from, std::size_t max_bytes);

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
    std::error_code error() const noexcept { return error_; }

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
    std::error_code error_;
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
    row_buffer* b_;
    table_store* t_;
};

}  // namespace qwire::qwp
