#include <qwire/proto/kdb/error.hpp>

#include <string>

namespace qwire::kdb {
namespace {

class kdb_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "kdb"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::truncated: return "kdb: input ends inside an object";
            case errc::trailing_bytes: return "kdb: bytes left after the message's object";
            case errc::bad_type: return "kdb: unknown type byte";
            case errc::enumeration: return "kdb: enumerations (types 20-76) are not sent over IPC; resolve them with value first";
            case errc::negative_count: return "kdb: negative vector count";
            case errc::too_deep: return "kdb: object nested deeper than the decoder's limit";
            case errc::too_large: return "kdb: message larger than the configured limit";
            case errc::unterminated_symbol: return "kdb: symbol without a terminating NUL";
            case errc::bad_header: return "kdb: malformed message header";
            case errc::bad_compression: return "kdb: corrupt compressed message";
            case errc::capability: return "kdb: type not allowed by the negotiated capability";
            case errc::type_mismatch: return "kdb: value has another type";
            case errc::index_out_of_range: return "kdb: index out of range";
            case errc::no_such_column: return "kdb: no such column";
            case errc::length_mismatch: return "kdb: lengths differ";
            case errc::access_denied: return "kdb: access denied";
            case errc::handshake_too_long: return "kdb: handshake credentials too long";
            case errc::unexpected_message: return "kdb: unexpected message";
            case errc::connection_closed: return "kdb: connection closed with requests pending";
            case errc::not_a_tickerplant: return "kdb: reply does not look like a kdb+tick tickerplant's";
            case errc::slow_consumer: return "kdb: the peer reads too slowly (its send queue is over the server's bound)";
            case errc::remote: return "kdb: the remote process signalled an error";
            case errc::bad_address: return "kdb: not a kdb+ address";
        }
        return "kdb error " + std::to_string(ev);
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const kdb_category c;
    return c;
}

std::string signal_text(const error& e) {
    if (e == errc::remote) return std::string(e.detail());
    return e.message();
}

}  // namespace qwire::kdb
