#include <qwire/core/buffer_ring.hpp>

#include <sys/mman.h>

namespace qwire {

buffer_ring::buffer_ring(reactor& r, unsigned entries, std::size_t size)
    : r_(r), data_(new std::byte[entries * size]), size_(size), entries_(entries), bgid_(r.allocate_buffer_group()) {}

result<std::unique_ptr<buffer_ring>> buffer_ring::create(reactor& r, unsigned entries, std::size_t buffer_size) {
    if (entries == 0 || entries > 32768 || (entries & (entries - 1)) != 0 || buffer_size == 0)
        return errc::invalid_argument;
    std::unique_ptr<buffer_ring> br(new buffer_ring(r, entries, buffer_size));
    const std::size_t bytes = entries * sizeof(io_uring_buf);
    void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return errno_code(errno);
    br->ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br->ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = entries;
    reg.bgid = br->bgid_;
    if (int rc = io_uring_register_buf_ring(r.ring(), &reg, 0); rc < 0) return errno_code(rc);
    br->registered_ = true;
    const int mask = io_uring_buf_ring_mask(entries);
    for (unsigned i = 0; i < entries; ++i)
        io_uring_buf_ring_add(br->ring_, br->buffer(static_cast<std::uint16_t>(i)).data(),
                              static_cast<unsigned>(buffer_size), static_cast<unsigned short>(i), mask,
                              static_cast<int>(i));
    io_uring_buf_ring_advance(br->ring_, static_cast<int>(entries));
    return br;
}

buffer_ring::~buffer_ring() {
    if (registered_) io_uring_unregister_buf_ring(r_.ring(), bgid_);
    if (ring_) ::munmap(ring_, entries_ * sizeof(io_uring_buf));
}

void buffer_ring::recycle(std::uint16_t bid) noexcept {
    io_uring_buf_ring_add(ring_, buffer(bid).data(), static_cast<unsigned>(size_), bid,
                          io_uring_buf_ring_mask(entries_), 0);
    io_uring_buf_ring_advance(ring_, 1);
}

}  // namespace qwire
