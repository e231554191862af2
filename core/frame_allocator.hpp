// Recycles coroutine frames per thread, so that a task call on a hot path
// does not go to malloc. Sizes are rounded up to 64-byte classes up to 4 KiB;
// larger frames and builds under AddressSanitizer use plain operator new (so
// ASan still sees every use after free).
#pragma once

#include <cstddef>

namespace qwire::detail {

void* allocate_frame(std::size_t n);
void deallocate_frame(void* p, std::size_t n) noexcept;

}  // namespace qwire::detail
