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
//
// One concept per header: symbol_dict.hpp, message_builder.hpp (column
// views, the builder, arrays), chunk.hpp, row_buffer.hpp. This header
// brings them all.
#pragma once

#include <qwire/proto/qwp/chunk.hpp>
#include <qwire/proto/qwp/message_builder.hpp>
#include <qwire/proto/qwp/row_buffer.hpp>
#include <qwire/proto/qwp/symbol_dict.hpp>
