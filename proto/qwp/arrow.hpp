// Arrow C Data Interface ingest: columns and record batches from
// ArrowArray/ArrowSchema into a qwp::chunk, by reference (no copy of the
// values; the Arrow buffers must outlive the chunk's flush).
//
// The two structs are Arrow's stable C ABI, declared here (guarded the way
// Arrow asks, so Arrow's own header can come first). Everything read from
// them is checked first: released structs, null pointers, negative lengths
// and offsets, buffer and child counts, offsets going backwards, dictionary
// codes out of range. A malformed struct is an error, never a crash.
//
// Formats taken (Arrow format string -> QWP type):
//   b boolean, c int8 -> BYTE, s int16 -> SHORT, i int32 -> INT,
//   l int64 -> LONG, f float32 -> FLOAT, g float64 -> DOUBLE,
//   S uint16 -> CHAR, I uint32 -> IPv4 (host-order address),
//   u / U utf8 and large utf8 -> VARCHAR, z / Z binary -> BINARY,
//   tsu:* -> TIMESTAMP, tsn:* -> TIMESTAMP_NANOS, tdm -> DATE,
//   w:16 -> UUID (RFC byte order, as Arrow's uuid type), w:32 -> LONG256
//   (four little-endian 64-bit limbs, least significant first),
//   d:P,S[,64|128|256] -> DECIMAL64/128/256 with scale S,
//   dictionary-encoded utf8 with int8/16/32 indices -> SYMBOL,
//   +l list of float64 or int64 -> one-dimensional DOUBLE or LONG arrays.
#pragma once

#include <qwire/proto/qwp/decoder.hpp>
#include <qwire/proto/qwp/encoder.hpp>

#include <cstdint>

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

extern "C" {
struct ArrowSchema {
    const char* format;
    const char* name;
    const char* metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema** children;
    struct ArrowSchema* dictionary;
    void (*release)(struct ArrowSchema*);
    void* private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void** buffers;
    struct ArrowArray** children;
    struct ArrowArray* dictionary;
    void (*release)(struct ArrowArray*);
    void* private_data;
};
}

#endif  // ARROW_C_DATA_INTERFACE

namespace qwire::qwp {

// Appends the Arrow array as column `name` (empty name: the designated
// timestamp; its type must be a timestamp). The array's length must equal
// the chunk's row count.
result<void> append_arrow(chunk& c, std::string_view name, const ArrowSchema& schema, const ArrowArray& array);

// A record batch (an Arrow struct array) as a chunk of table `table`: one
// column per child, named as in the schema; the child named `designated`,
// if any, becomes the designated timestamp.
result<chunk> chunk_from_arrow(std::string table, const ArrowSchema& schema, const ArrowArray& array,
                               std::string_view designated = {});

// Export: a decoded table (an egress batch) as an Arrow record batch, a
// struct array with one child per column, into the caller's two structs
// (which must not hold live data). The table's buffers move into the
// export and Arrow's arrays point at them where the layouts agree: fixed-
// width values, and varchar, symbol and binary bytes and offsets (32-bit
// offsets as Arrow's int32, or int64 for a column past 2 GiB). Copied:
// validity (QWP marks NULLs, Arrow valid rows; a row is NULL when
// decoded_column::is_null says so, sentinels included), BOOLEAN, which
// Arrow packs into bits, and UUID, whose bytes Arrow keeps in RFC order.
// Types: BOOLEAN b, BYTE c, SHORT s, INT i, LONG l, FLOAT f, DOUBLE g,
// CHAR S, IPv4 I, DATE tdm, TIMESTAMP tsu:, TIMESTAMP_NANOS tsn:, UUID w:16
// (RFC byte order) and LONG256 w:32 (little-endian limbs), each as
// append_arrow takes them, VARCHAR and SYMBOL u (U), BINARY z (Z). Any
// other type is an error naming the column, and nothing is exported. The
// consumer calls each struct's release once; the children go with their
// parent.
result<void> export_arrow(decoded_table&& table, ArrowSchema* schema, ArrowArray* array);

}  // namespace qwire::qwp
