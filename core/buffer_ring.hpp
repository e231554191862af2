// A provided-buffer ring (IORING_REGISTER_PBUF_RING): a pool of equal-sized
// buffers the kernel picks from when a multishot receive completes, so a
// stream that reads continuously needs no SQE per read.
#pragma once

#include <qwire/core/reactor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace qwire {

class buffer_ring {
public:
    // entries must be a power of two (io_uring's rule).
    static result<std::unique_ptr<buffer_ring>> create(reactor& r, unsigned entries, std::size_t buffer_size);
    ~buffer_ring();
    buffer_ring(const buffer_ring&) = delete;
    buffer_ring& operator=(const buffer_ring&) = delete;

    std::uint16_t group() const noexcept { return bgid_; }
    std::size_t buffer_size() const noexcept { return size_; }
    unsigned entries() const noexcept { return entries_; }

    std::span<std::byte> buffer(std::uint16_t bid) noexcept {
        return {data_.get() + std::size_t{bid} * size_, size_};
    }
    // Hands buffer bid back to the kernel.
    void recycle(std::uint16_t bid) noexcept;

private:
    buffer_ring(reactor& r, unsigned entries, std::size_t size);

    reactor& r_;
    io_uring_buf_ring* ring_ = nullptr;
    std::unique_ptr<std::byte[]> data_;
    std::size_t size_;
    unsigned entries_;
    std::uint16_t bgid_;
    bool registered_ = false;
};

}  // namespace qwire
