#include <qwire/proto/qwp/wire.hpp>

#include <qwire/core/error.hpp>

#include <string>

namespace qwire::qwp {

namespace {

struct category_impl : std::error_category {
    const char* name() const noexcept override { return "qwire.qwp"; }
    std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
        case errc::truncated: return "QWP: message truncated";
        case errc::trailing_bytes: return "QWP: bytes left over after the message";
        case errc::bad_magic: return "QWP: not a QWP1 message";
        case errc::bad_version: return "QWP: unsupported version";
        case errc::bad_length: return "QWP: length out of range";
        case errc::bad_varint: return "QWP: malformed varint";
        case errc::bad_type: return "QWP: unknown or unsupported column type";
        case errc::bad_name: return "QWP: empty or too long table or column name";
        case errc::too_many_columns: return "QWP: more than 2048 columns";
        case errc::too_many_rows: return "QWP: more than 1,000,000 rows in one table block";
        case errc::bad_column: return "QWP: malformed or inconsistent column data";
        case errc::symbol_cap: return "QWP: the connection's symbol dictionary is full";
        case errc::dictionary_gap: return "QWP: symbol dictionary gap (DICTIONARY_GAP)";
        case errc::frame_too_large: return "QWP: a single row does not fit the server's batch size";
        case errc::bad_arrow: return "QWP: malformed Arrow C data";
        case errc::over_budget: return "QWP: the decoded rows would exceed the connection's memory budget";
        case errc::schema_mismatch: return "QWP: SCHEMA_MISMATCH";
        case errc::parse_error: return "QWP: PARSE_ERROR";
        case errc::internal_error: return "QWP: INTERNAL_ERROR";
        case errc::security_error: return "QWP: SECURITY_ERROR";
        case errc::write_error: return "QWP: WRITE_ERROR";
        case errc::not_writable: return "QWP: NOT_WRITABLE";
        case errc::unknown_status: return "QWP: unknown response status";
        case errc::bad_config: return "QWP: bad connect string";
        case errc::handshake_rejected: return "QWP: the server refused the WebSocket upgrade";
        case errc::no_qwp_endpoint:
            return "QWP: the server has no QWP endpoint (HTTP 404; QuestDB speaks QWP from version 10.0)";
        case errc::unauthorized: return "QWP: authentication failed (401/403)";
        case errc::bad_request: return "QWP: the server refused the upgrade request as malformed (400/426)";
        case errc::version_mismatch: return "QWP: no common protocol version";
        case errc::must_close: return "QWP: the connection failed earlier and must be replaced";
        case errc::durable_ack_unavailable: return "QWP: the server did not confirm durable acks";
        case errc::role_mismatch: return "QWP: the node's role does not take this connection (421 or target)";
        case errc::bad_compression: return "QWP: a compressed batch was not asked for or does not decompress";
        case errc::cancelled: return "QWP: CANCELLED";
        case errc::limit_exceeded: return "QWP: LIMIT_EXCEEDED";
        }
        return "QWP: unknown error";
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const category_impl c;
    return c;
}

bool known_type(std::uint8_t code) noexcept { return (code >= 0x01 && code <= 0x18) && code != 0x08; }

std::string_view type_name(type t) noexcept {
    switch (t) {
    case type::boolean: return "BOOLEAN";
    case type::byte: return "BYTE";
    case type::short_: return "SHORT";
    case type::int_: return "INT";
    case type::long_: return "LONG";
    case type::float_: return "FLOAT";
    case type::double_: return "DOUBLE";
    case type::symbol: return "SYMBOL";
    case type::timestamp: return "TIMESTAMP";
    case type::date: return "DATE";
    case type::uuid: return "UUID";
    case type::long256: return "LONG256";
    case type::geohash: return "GEOHASH";
    case type::varchar: return "VARCHAR";
    case type::timestamp_nanos: return "TIMESTAMP_NS";
    case type::double_array: return "DOUBLE[]";
    case type::long_array: return "LONG[]";
    case type::decimal64: return "DECIMAL64";
    case type::decimal128: return "DECIMAL128";
    case type::decimal256: return "DECIMAL256";
    case type::char_: return "CHAR";
    case type::binary: return "BINARY";
    case type::ipv4: return "IPv4";
    }
    return "?";
}

std::error_code status_error(status s) noexcept {
    switch (s) {
    case status::ok: case status::durable_ack: case status::local_durable_ack: return {};
    case status::schema_mismatch: return make_error_code(errc::schema_mismatch);
    case status::parse_error: return make_error_code(errc::parse_error);
    case status::internal_error: return make_error_code(errc::internal_error);
    case status::security_error: return make_error_code(errc::security_error);
    case status::write_error: return make_error_code(errc::write_error);
    case status::not_writable: return make_error_code(errc::not_writable);
    case status::cancelled: return make_error_code(errc::cancelled);
    case status::limit_exceeded: return make_error_code(errc::limit_exceeded);
    case status::dictionary_gap: return make_error_code(errc::dictionary_gap);
    }
    return make_error_code(errc::unknown_status);
}

bool retriable(std::error_code ec) noexcept {
    if (ec.category() == category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::internal_error: case errc::write_error: case errc::not_writable: case errc::dictionary_gap:
        case errc::unknown_status: case errc::handshake_rejected: case errc::no_qwp_endpoint:
        case errc::must_close: case errc::role_mismatch:
            return true;
        default:
            return false;
        }
    }
    // Transport failures (refused, reset, end of stream, timeouts, TLS
    // errors after the handshake, a peer CLOSE) are worth a reconnect.
    return true;
}

}  // namespace qwire::qwp
