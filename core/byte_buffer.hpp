// byte_buffer: a growable buffer with a read and a write position, reused
// across messages so steady-state traffic allocates nothing.
//
//     auto space = b.prepare(4096);   // writable bytes
//     b.commit(n);                    // n of them now hold data
//     b.data();                       // readable bytes
//     b.consume(k);                   // k of them were used
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace qwire {

class byte_buffer {
public:
    byte_buffer() noexcept = default;
    explicit byte_buffer(std::size_t capacity) { reserve(capacity); }
    byte_buffer(byte_buffer&&) noexcept = default;
    byte_buffer& operator=(byte_buffer&&) noexcept = default;

    std::span<std::byte> data() noexcept { return {buf_.get() + rd_, wr_ - rd_}; }
    std::span<const std::byte> data() const noexcept { return {buf_.get() + rd_, wr_ - rd_}; }
    std::size_t size() const noexcept { return wr_ - rd_; }
    bool empty() const noexcept { return wr_ == rd_; }
    std::size_t capacity() const noexcept { return cap_; }

    // At least n writable bytes after the data (moving or growing it).
    std::span<std::byte> prepare(std::size_t n) {
        if (cap_ - wr_ < n) make_room(n);
        return {buf_.get() + wr_, cap_ - wr_};
    }
    void commit(std::size_t n) noexcept { wr_ += n; }
    // Takes back the last n committed bytes.
    void unwrite(std::size_t n) noexcept { wr_ -= n; }
    void consume(std::size_t n) noexcept {
        rd_ += n;
        if (rd_ == wr_) rd_ = wr_ = 0;
    }
    void clear() noexcept { rd_ = wr_ = 0; }
    void append(const void* p, std::size_t n) {
        if (n == 0) return;  // memcpy with a null pointer is undefined even for no bytes
        std::memcpy(prepare(n).data(), p, n);
        commit(n);
    }
    void reserve(std::size_t n) {
        if (n > cap_ - wr_) make_room(n);
    }
    void swap(byte_buffer& o) noexcept {
        std::swap(buf_, o.buf_);
        std::swap(cap_, o.cap_);
        std::swap(rd_, o.rd_);
        std::swap(wr_, o.wr_);
    }

private:
    void make_room(std::size_t n) {
        const std::size_t used = wr_ - rd_;
        if (cap_ - used >= n && rd_ >= used) {
            // Enough room once the data moves to the front (and cheap to move).
            std::memmove(buf_.get(), buf_.get() + rd_, used);
        } else {
            std::size_t cap = cap_ ? cap_ : 256;
            while (cap - used < n) cap *= 2;
            std::unique_ptr<std::byte[]> nb(new std::byte[cap]);
            if (used) std::memcpy(nb.get(), buf_.get() + rd_, used);
            buf_ = std::move(nb);
            cap_ = cap;
        }
        rd_ = 0;
        wr_ = used;
    }

    std::unique_ptr<std::byte[]> buf_;
    std::size_t cap_ = 0;
    std::size_t rd_ = 0;
    std::size_t wr_ = 0;
};

}  // namespace qwire
