#include <qwire/proto/kdb/error.hpp>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

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
        }
        return "kdb error " + std::to_string(ev);
    }
};

// Remote error texts are interned: the error_code's value indexes the table.
// The table is bounded; beyond it texts share one generic entry.
class remote_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "kdb.remote"; }
    std::string message(int ev) const override {
        std::lock_guard lock(m_);
        if (ev > 0 && static_cast<std::size_t>(ev) <= texts_.size()) return texts_[static_cast<std::size_t>(ev) - 1];
        return "remote error";
    }
    int intern(std::string_view text) {
        std::lock_guard lock(m_);
        auto it = ids_.find(std::string(text));
        if (it != ids_.end()) return it->second;
        if (texts_.size() >= max_texts) return overflow();
        texts_.emplace_back(text);
        const int id = static_cast<int>(texts_.size());
        ids_.emplace(texts_.back(), id);
        return id;
    }

private:
    static constexpr std::size_t max_texts = 4096;
    int overflow() {
        auto it = ids_.find(overflow_text);
        if (it != ids_.end()) return it->second;
        texts_.emplace_back(overflow_text);
        const int id = static_cast<int>(texts_.size());
        ids_.emplace(overflow_text, id);
        return id;
    }
    static constexpr const char* overflow_text = "remote error (too many distinct error texts to keep)";
    mutable std::mutex m_;
    std::vector<std::string> texts_;
    std::unordered_map<std::string, int> ids_;
};

remote_category_impl& remote_impl() {
    static remote_category_impl c;
    return c;
}

}  // namespace

const std::error_category& category() noexcept {
    static const kdb_category c;
    return c;
}

const std::error_category& remote_category() noexcept { return remote_impl(); }

std::error_code remote_error(std::string_view text) { return {remote_impl().intern(text), remote_impl()}; }

}  // namespace qwire::kdb
