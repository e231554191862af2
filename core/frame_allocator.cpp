#include <qwire/core/frame_allocator.hpp>

#include <array>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define QWIRE_FRAME_POOL 0
#else
#define QWIRE_FRAME_POOL 1
#endif

namespace qwire::detail {
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 64;           // up to 4 KiB
constexpr std::size_t max_cached = 256;       // frames kept per class

struct free_node {
    free_node* next;
};

struct frame_pool {
    std::array<free_node*, classes> heads{};
    std::array<std::size_t, classes> counts{};
    ~frame_pool();
};

// Set once this thread's pool is gone: a block freed later (by the
// destructor of a static, after the thread's thread_locals) goes straight
// back to the heap, and one asked for later comes from it.
thread_local bool tl_pool_gone = false;
thread_local frame_pool tl_pool;

frame_pool::~frame_pool() {
    for (free_node*& h : heads) {
        while (h) {
            free_node* n = h->next;
            ::operator delete(h);
            h = n;
        }
    }
    tl_pool_gone = true;
}

}  // namespace

void* allocate_frame(std::size_t n) {
#if QWIRE_FRAME_POOL
    const std::size_t c = (n + granule - 1) / granule;
    if (c < classes && !tl_pool_gone) {
        if (free_node* h = tl_pool.heads[c]) {
            tl_pool.heads[c] = h->next;
            --tl_pool.counts[c];
            return h;
        }
        return ::operator new(c * granule);
    }
#endif
    return ::operator new(n);
}

void deallocate_frame(void* p, std::size_t n) noexcept {
#if QWIRE_FRAME_POOL
    const std::size_t c = (n + granule - 1) / granule;
    if (c < classes && !tl_pool_gone && tl_pool.counts[c] < max_cached) {
        auto* node = static_cast<free_node*>(p);
        node->next = tl_pool.heads[c];
        tl_pool.heads[c] = node;
        ++tl_pool.counts[c];
        return;
    }
#endif
    (void)n;
    ::operator delete(p);
}

}  // namespace qwire::detail
