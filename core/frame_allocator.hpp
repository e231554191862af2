// Recycles small blocks per thread (coroutine frames, K objects and their
// small vectors, per-request records), so that a hot path does not go to
// malloc. Sizes are rounded up to 64-byte classes up to 4 KiB; larger blocks
// and builds under AddressSanitizer use plain operator new (so ASan still
// sees every use after free). A block may be freed on another thread than
// the one that made it: it joins that thread's free list.
#pragma once

#include <cstddef>
#include <new>

namespace qwire::detail {

void* allocate_frame(std::size_t n);
void deallocate_frame(void* p, std::size_t n) noexcept;

// A standard allocator over the same pool, for containers and
// std::allocate_shared.
template <class T>
struct pool_allocator {
    using value_type = T;
    pool_allocator() noexcept = default;
    template <class U>
    pool_allocator(const pool_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(allocate_frame(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { deallocate_frame(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const pool_allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace qwire::detail
