// any_stream: any byte_stream behind three function pointers, for a caller
// that picks its transport at run time and accepts an indirect call (and a
// coroutine frame) per read and write. qwire's own stages never use it on a
// data path: they are templates over the stream below, and the connection
// objects hide a whole stack behind one pointer instead.
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>

#include <memory>

namespace qwire {

class any_stream {
public:
    any_stream() = default;

    template <byte_stream S>
    explicit any_stream(S s, bool local)
        : self_(new S(std::move(s)), [](void* p) { delete static_cast<S*>(p); }),
          shutdown_(&shutdown_impl<S>),
          read_(&read_impl<S>),
          write_(&write_impl<S>),
          local_(local) {}

    task<result<std::size_t>> read_some(std::span<std::byte> buf, op_options o = {}) {
        return read_(self_.get(), buf, std::move(o));
    }
    task<result<void>> write_all(std::span<const const_buffer> bufs, op_options o = {}) {
        return write_(self_.get(), bufs, std::move(o));
    }
    task<result<void>> write_all(std::span<const std::byte> bytes, op_options o = {}) {
        const const_buffer piece = buffer(bytes);
        co_return co_await write_(self_.get(), std::span(&piece, 1), std::move(o));
    }
    // Whether the peer is on this machine (loopback or a Unix socket).
    bool local() const noexcept { return local_; }
    bool valid() const noexcept { return self_ != nullptr; }
    void close() { shutdown(); }
    // Closes the stream underneath: pending reads and writes complete with
    // an error. The stream object itself lives until this object does.
    void shutdown() {
        if (self_) shutdown_(self_.get());
    }

private:
    template <class S>
    static task<result<std::size_t>> read_impl(void* p, std::span<std::byte> buf, op_options o) {
        co_return co_await static_cast<S*>(p)->read_some(buf, std::move(o));
    }
    template <class S>
    static task<result<void>> write_impl(void* p, std::span<const const_buffer> bufs, op_options o) {
        co_return co_await static_cast<S*>(p)->write_all(bufs, std::move(o));
    }

    template <class S>
    static void shutdown_impl(void* p) {
        close_stream(*static_cast<S*>(p));
    }

    std::unique_ptr<void, void (*)(void*)> self_{nullptr, [](void*) {}};
    void (*shutdown_)(void*) = nullptr;
    task<result<std::size_t>> (*read_)(void*, std::span<std::byte>, op_options) = nullptr;
    task<result<void>> (*write_)(void*, std::span<const const_buffer>, op_options) = nullptr;
    bool local_ = false;
};

static_assert(byte_stream<any_stream>);

}  // namespace qwire
