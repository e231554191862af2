// Building one QWP message: column views, table blocks and the header and
// delta symbol dictionary that finish() puts in front, as pieces to send.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/io/byte_stream.hpp>
#include <qwire/proto/qwp/symbol_dict.hpp>
#include <qwire/proto/qwp/wire.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace qwire::qwp {

namespace detail {
struct column_writer;
}

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
    friend struct detail::column_writer;
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
    // Beside each id, its varint as the row loop stores it: the bytes in
    // the low 16 bits and their count above (0: not interned yet; a count
    // of 3: an id of three bytes or more, written with put_varint).
    struct symbol_ids {
        const void* key = nullptr;
        std::vector<std::uint32_t> ids;
        std::vector<std::uint32_t> wire;
    };
    std::array<symbol_ids, 4> symbol_ids_{};
    std::size_t next_symbol_ids_ = 0;
    symbol_ids& ids_for(std::span<const std::string_view> dict, std::size_t rows);
};

// A table-less deferred message re-registering symbol ids [from, to) (after
// a reconnect, before replaying frames that use them).
std::vector<std::byte> catchup_message(const symbol_dict& dict, std::size_t from, std::size_t to);
// The largest `to` such that catchup_message(dict, from, to) fits max_bytes
// (at least from + 1).
std::size_t catchup_end(const symbol_dict& dict, std::size_t from, std::size_t max_bytes);

}  // namespace qwire::qwp
