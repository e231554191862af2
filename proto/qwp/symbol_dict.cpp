#include <qwire/proto/qwp/symbol_dict.hpp>

#include <qwire/proto/qwp/detail/encoding.hpp>

#include <bit>
#include <cstring>

namespace qwire::qwp {

using detail::same_text;
using detail::present;
using detail::valid_name;

std::uint64_t symbol_dict::hash_of(std::string_view s) noexcept {
    // 8 bytes at a time, each folded in with a 64x64->128 multiply.
    __extension__ typedef unsigned __int128 u128;
    auto mix = [](std::uint64_t a, std::uint64_t b) {
        const u128 m = static_cast<u128>(a ^ b) * 0x9e3779b97f4a7c15ULL;
        return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
    };
    std::uint64_t h = 0xa0761d6478bd642fULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = mix(h, w);
    }
    if (i < s.size()) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = mix(h, w ^ 0xe7037ed1a0b428dbULL);
    }
    return mix(h, 0x8ebc6af09c88c6e3ULL);
}

void symbol_dict::grow() {
    std::vector<slot> bigger(slots_.empty() ? 64 : slots_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (const slot& e : slots_) {
        if (e.id == empty) continue;
        std::size_t i = e.hash & mask;
        while (bigger[i].id != empty) i = (i + 1) & mask;
        bigger[i] = e;
    }
    slots_.swap(bigger);
}

std::size_t symbol_dict::probe(std::string_view s, std::uint64_t h) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        const slot& e = slots_[i];
        if (e.id == empty || (e.hash == h && same_text(entries_[e.id], s))) return i;
    }
}

std::optional<std::uint32_t> symbol_dict::find(std::string_view s) const noexcept {
    if (slots_.empty()) return std::nullopt;
    const std::uint32_t id = slots_[probe(s, hash_of(s))].id;
    if (id == empty) return std::nullopt;
    return id;
}

result<std::uint32_t> symbol_dict::intern(std::string_view s) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash_of(s);
    const std::size_t i = probe(s, h);
    if (slots_[i].id != empty) return slots_[i].id;
    if (entries_.size() >= cap_) return make_error_code(errc::symbol_cap);
    auto copy = std::make_unique<char[]>(s.size() ? s.size() : 1);
    std::memcpy(copy.get(), s.data(), s.size());
    const std::string_view stored(copy.get(), s.size());
    storage_.push_back(std::move(copy));
    const auto id = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(stored);
    slots_[i] = slot{h, id};
    return id;
}

}  // namespace qwire::qwp
