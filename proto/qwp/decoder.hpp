// Decoding QWP ingress messages: what a server does (the test server and
// the tests use it). The server's response frames are response.hpp's, rows
// as JSON json.hpp's; this header brings both.
// Every length, count and id is checked before it is used: random bytes give
// an error, never a crash.
#pragma once

#include <qwire/proto/qwp/response.hpp>
#include <qwire/proto/qwp/wire.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <string>
#include <vector>

namespace qwire::qwp {

// A decoded column, in flat buffers (no object per row): a NULL bitmap,
// fixed-width values, or offsets into bytes for the variable-length types.
struct decoded_column {
    std::string name;
    qwp::type type = qwp::type::long_;
    std::size_t rows = 0;
    std::vector<std::uint8_t> null_bits;  // bit i set: row i is NULL (QWP's bitmap); empty: none
    std::vector<std::byte> fixed;         // per row: fixed_width bytes (boolean 1 byte, geohash 8); zero when null
    // varchar/binary bytes, symbol text, encoded arrays: row i is
    // bytes[offsets[i], offsets[i + 1]) (empty when null); rows + 1 offsets.
    std::vector<std::uint32_t> offsets;
    std::vector<std::byte> bytes;
    std::uint8_t scale = 0;
    std::uint8_t geohash_bits = 0;

    // Whether the bitmap marks the row NULL (is_null also reads sentinels).
    bool null_bit(std::size_t row) const noexcept {
        return (row >> 3) < null_bits.size() && ((null_bits[row >> 3] >> (row & 7)) & 1);
    }
    std::span<const std::uint8_t> null_bitmap() const noexcept { return null_bits; }
    std::span<const std::uint32_t> text_offsets() const noexcept { return offsets; }
    std::span<const std::byte> text_bytes() const noexcept { return bytes; }

    template <class T>
    T get(std::size_t row) const noexcept {
        T v{};
        std::memcpy(&v, fixed.data() + row * sizeof(T), sizeof(T));
        return v;
    }
    // Typed views: the values of a fixed-width column, one per row (NULL
    // rows hold zero); the bytes of a varchar/binary/symbol row.
    template <class T>
    std::span<const T> values() const noexcept {
        if (fixed.size() != rows * sizeof(T)) return {};
        return {reinterpret_cast<const T*>(fixed.data()), rows};
    }
    std::string_view text(std::size_t row) const noexcept {
        if (row + 1 >= offsets.size()) return {};
        return {reinterpret_cast<const char*>(bytes.data()) + offsets[row], offsets[row + 1] - offsets[row]};
    }
    // Whether the row is NULL: from the bitmap, or the type's sentinel value
    // (INT/LONG minimum, NaN, zero IPv4, ...).
    bool is_null(std::size_t row) const noexcept;
};

struct decoded_table {
    std::string name;
    std::size_t rows = 0;
    std::vector<decoded_column> columns;
};

struct decoded_message {
    std::uint8_t flags = 0;
    std::size_t dict_start = 0, dict_count = 0;
    std::vector<decoded_table> tables;
};

// How a table block is read: ingress blocks name their table and columns;
// egress result batches have an empty name, carry the schema only in their
// first batch, and give DATE columns the Gorilla encoding byte too.
struct block_mode {
    bool egress = false;
    std::size_t max_rows = max_rows_per_table;
    const std::vector<std::pair<std::string, type>>* schema = nullptr;  // when the block has none
    // false: check every byte as usual but keep only the table's name, row
    // count and columns' names and types (no values): what a server that
    // does not record rows needs, several times faster.
    bool values = true;
    // When set: memory the decoded values may still take; each column's
    // storage is charged before it is allocated, and a block that would go
    // past it is errc::over_budget (a small frame of many all-NULL VARCHAR
    // rows costs 32 bytes a row in memory).
    std::uint64_t* budget = nullptr;
};
// Decodes one table block from the front of in (advancing it), with the
// message's flags and the connection's symbol dictionary.
result<decoded_table> decode_block(std::span<const std::byte>& in, std::uint8_t flags,
                                   const std::vector<std::string>& dict, const block_mode& m);

// Decodes messages of one connection: the symbol dictionary carries over
// from message to message.
class message_decoder {
public:
    explicit message_decoder(std::size_t symbol_cap = 2'000'000, bool values = true)
        : cap_(symbol_cap), values_(values) {}
    // msg: a whole message (header + payload). With a budget, the decoded
    // values may take at most *budget bytes, and *budget is reduced by what
    // they took (see block_mode::budget).
    result<decoded_message> decode(std::span<const std::byte> msg, std::uint64_t* budget = nullptr);
    const std::vector<std::string>& dictionary() const noexcept { return dict_; }

private:
    std::size_t cap_;
    bool values_;
    std::vector<std::string> dict_;
};


}  // namespace qwire::qwp

#include <qwire/proto/qwp/json.hpp>
