// ring<T>: a FIFO queue on one growing array of a power-of-two size.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace qwire {

// An item entering and leaving the queue in the steady state allocates
// nothing (std::deque gets and frees a block every few items): the QWP
// pipeline's window, a kdb+ connection's waiting queries.
template <class T>
class ring {
public:
    std::size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    T& operator[](std::size_t i) noexcept { return v_[(head_ + i) & (v_.size() - 1)]; }
    const T& operator[](std::size_t i) const noexcept { return v_[(head_ + i) & (v_.size() - 1)]; }
    T& front() noexcept { return (*this)[0]; }
    T& back() noexcept { return (*this)[n_ - 1]; }
    void push_back(T x) {
        if (n_ == v_.size()) grow();
        (*this)[n_] = std::move(x);
        ++n_;
    }
    void pop_front() noexcept {
        front() = T{};
        head_ = (head_ + 1) & (v_.size() - 1);
        --n_;
    }
    void clear() noexcept {
        for (std::size_t i = 0; i < n_; ++i) (*this)[i] = T{};
        head_ = n_ = 0;
    }

private:
    void grow() {
        std::vector<T> bigger(v_.empty() ? 16 : v_.size() * 2);  // a power of two, for the mask
        for (std::size_t i = 0; i < n_; ++i) bigger[i] = std::move((*this)[i]);
        v_ = std::move(bigger);
        head_ = 0;
    }
    std::vector<T> v_;
    std::size_t head_ = 0, n_ = 0;
};

}  // namespace qwire
