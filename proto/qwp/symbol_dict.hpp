// The connection-global QWP symbol dictionary.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/proto/qwp/wire.hpp>

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

}  // namespace qwire::qwp
