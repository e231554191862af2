// UTF-8 validation, as QuestDB checks VARCHAR values.
#pragma once

#include <cstddef>
#include <span>

namespace qwire::qwp {

// Whether s is well-formed UTF-8 (no overlong forms, surrogates or code
// points past U+10FFFF).
bool valid_utf8(std::span<const std::byte> s) noexcept;

}  // namespace qwire::qwp
