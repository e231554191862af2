// QWP egress (/read/v1): queries and their results as columnar batches.
//
//     auto r = co_await qwp::reader::connect("ws::addr=127.0.0.1:9000;");
//     auto q = co_await r->execute("SELECT * FROM trades");
//     for (;;) {
//         auto b = co_await r->next();           // result<const result_batch*>
//         if (!b) break;                         // error (b.error(), r->error_text())
//         if (!*b) break;                        // RESULT_END
//         auto px = (*b)->column("price").values<double>();
//     }
//
// Server frames carry the 12-byte QWP header and a message kind; client
// frames are bare payloads starting with the kind (the spec's section 6).
// Results arrive as RESULT_BATCH frames (schema in the first, rows in
// each, symbols through a connection-wide delta dictionary) and end with
// RESULT_END, EXEC_DONE or QUERY_ERROR. With initial_credit set, the server
// sends that many bytes and the reader grants more as it consumes batches.
#pragma once

#include <qwire/proto/qwp/decoder.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/ws/stream.hpp>

#include <memory>
#include <optional>
#include <string>

namespace qwire::qwp {

namespace egress {
enum class kind : std::uint8_t {
    query_request = 0x10,
    result_batch = 0x11,
    result_end = 0x12,
    query_error = 0x13,
    cancel = 0x14,
    credit = 0x15,
    exec_done = 0x16,
    cache_reset = 0x17,
    server_info = 0x18,
};
inline constexpr std::size_t max_batch_rows = 1 << 20;

struct server_info {
    std::uint8_t role = 0;  // 0 STANDALONE, 1 PRIMARY, 2 REPLICA, 3 PRIMARY_CATCHUP
    std::uint64_t epoch = 0;
    std::uint32_t capabilities = 0;
    std::int64_t server_wall_ns = 0;
    std::string cluster_id, node_id, zone_id;
};

// Client -> server payloads (no QWP header).
// SERVER_INFO's node roles, and their names (as X-QuestDB-Role spells them).
inline constexpr std::uint8_t role_standalone = 0, role_primary = 1, role_replica = 2, role_primary_catchup = 3;
std::string_view role_name(std::uint8_t role) noexcept;

// Capabilities in SERVER_INFO, and the query_flags trailer of QUERY_REQUEST.
inline constexpr std::uint32_t cap_zone = 0x1, cap_query_flags = 0x2, cap_compression = 0x4, cap_query_timeout = 0x8;
inline constexpr std::uint64_t query_flag_reset_dict = 0x1, query_flag_timeout = 0x2;

// timeout_ms > 0 adds the query_flags trailer with QUERY_FLAG_TIMEOUT.
std::vector<std::byte> encode_query(std::int64_t request_id, std::string_view sql, std::uint64_t initial_credit,
                                    std::span<const std::byte> binds = {}, std::size_t bind_count = 0,
                                    std::uint64_t timeout_ms = 0);
std::vector<std::byte> encode_credit(std::int64_t request_id, std::uint64_t bytes);
std::vector<std::byte> encode_cancel(std::int64_t request_id);
// Server -> client frames (with the QWP header).
std::vector<std::byte> server_info_frame(const server_info& s);
std::vector<std::byte> result_end_frame(std::int64_t request_id, std::uint64_t final_seq, std::uint64_t total_rows);
std::vector<std::byte> query_error_frame(std::int64_t request_id, status st, std::string_view message);
std::vector<std::byte> exec_done_frame(std::int64_t request_id, std::uint8_t op, std::uint64_t rows);
result<server_info> decode_server_info(std::span<const std::byte> payload);
}  // namespace egress

// One batch of a result: typed column views over decoded rows.
struct result_batch {
    std::int64_t request_id = 0;
    std::uint64_t seq = 0;
    decoded_table table;  // name empty; columns as the schema says
    std::size_t rows() const noexcept { return table.rows; }
    // The column of that name, or at that place; null if there is none.
    const decoded_column* column(std::string_view name) const noexcept;
    const decoded_column* column(std::size_t i) const noexcept {
        return i < table.columns.size() ? &table.columns[i] : nullptr;
    }
};

// The values of a query's $1, $2, ... in order, encoded as QuestDB's reader
// sends them: each a one-row column (type code, null section, value):
//
//     co_await rd.execute("SELECT * FROM trades WHERE sym = $1 AND px > $2",
//                         qwp::binds().varchar("AAPL").double_(100.5));
//
// A NULL is typed; the types with column arguments (DECIMAL, GEOHASH) and
// arrays, SYMBOL, BINARY and IPv4 (which QuestDB's server does not bind)
// are not offered.
}  // namespace qwire::qwp
struct ArrowSchema;
struct ArrowArray;
namespace qwire::qwp {

class binds {
public:
    binds& boolean(bool v);
    binds& byte(std::int8_t v);
    binds& short_(std::int16_t v);
    binds& char_(char16_t v);
    binds& int_(std::int32_t v);
    binds& long_(std::int64_t v);
    binds& float_(float v);
    binds& double_(double v);
    binds& date_millis(std::int64_t v);
    binds& timestamp_micros(std::int64_t v);
    binds& timestamp_nanos(std::int64_t v);
    binds& uuid(std::uint64_t lo, std::uint64_t hi);
    binds& varchar(std::string_view v);
    // A NULL of one of the types above.
    binds& null(type t);

    std::size_t size() const noexcept { return n_; }
    std::span<const std::byte> bytes() const noexcept { return out_; }
    // The first misuse (a NULL of a type not offered), if any; execute()
    // returns it.
    const std::optional<error>& problem() const noexcept { return problem_; }

private:
    binds& put(type t, const void* v, std::size_t n);
    std::vector<std::byte> out_;
    std::size_t n_ = 0;
    std::optional<error> problem_;
};

class reader {
public:
    reader(reader&&) noexcept;
    reader& operator=(reader&&) noexcept;
    ~reader();

    // Connect string keys as for the sender (addr, auth, TLS, timeouts)
    // plus initial_credit=BYTES (0: unbounded), max_batch_rows=N,
    // compression=raw|zstd|auto and compression_level=N, target=any|primary|
    // replica (the addresses are walked to a node of that role) and the
    // failover keys (a connection that drops before a query's first answer
    // is replaced and the query sent again; see config).
    static task<result<reader>> connect(std::string_view conf, op_options o = {});

    // Sends a query; its batches come from next(). One query at a time.
    task<result<void>> execute(std::string_view sql, op_options o = {});
    // The same with bind values for $1, $2, ... (at most 1024).
    task<result<void>> execute(std::string_view sql, const binds& b, op_options o = {});
    // The next batch of the running query (valid until the next call), or
    // null at its end. A QUERY_ERROR is an error (see error_text()).
    task<result<const result_batch*>> next(op_options o = {});
    // The next batch as an Arrow record batch (arrow.hpp's export_arrow:
    // the batch's buffers move into the export, which outlives the
    // reader); true when one was exported, false at the query's end.
    task<result<bool>> next_arrow(ArrowSchema* schema, ArrowArray* array, op_options o = {});
    // Stops the running query (CANCEL) and drains it.
    task<result<void>> cancel(op_options o = {});

    const egress::server_info& server() const noexcept;
    const std::string& error_text() const noexcept;
    std::uint64_t total_rows() const noexcept;     // from RESULT_END
    std::uint64_t rows_affected() const noexcept;  // from EXEC_DONE
    std::uint64_t failovers() const noexcept;      // connections replaced by failover so far

    struct impl;

private:
    explicit reader(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

}  // namespace qwire::qwp
