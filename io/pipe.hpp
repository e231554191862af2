// An in-memory, bounded, full-duplex byte stream pair for testing stages
// without sockets: what one end writes, the other reads. Writers wait while
// the other side's buffer is full; closing an end gives the peer eof on
// read and std::errc::broken_pipe on write. Both ends belong to one reactor.
#pragma once

#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>

#include <memory>
#include <utility>

namespace qwire {

namespace detail {
struct pipe_state;
}

class pipe_stream {
public:
    // Two connected ends; each direction buffers up to `capacity` bytes.
    static std::pair<pipe_stream, pipe_stream> make_pair(std::size_t capacity = 1 << 20);

    pipe_stream() noexcept = default;
    pipe_stream(pipe_stream&&) noexcept = default;
    pipe_stream& operator=(pipe_stream&& o) noexcept {
        if (this != &o) {
            close();
            s_ = std::move(o.s_);
            side_ = o.side_;
        }
        return *this;
    }
    ~pipe_stream() { close(); }

    task<result<std::size_t>> read_some(std::span<std::byte> buf, op_options o = {});
    task<result<void>> write_all(std::span<const std::byte> buf, op_options o = {});
    task<result<void>> write_all(std::span<const const_buffer> bufs, op_options o = {});
    // Closes only the write direction: the peer reads eof after the data.
    void shutdown_write() noexcept;
    void close() noexcept;
    bool is_open() const noexcept { return s_ != nullptr; }
    // Both ends are in this process.
    bool peer_is_local() const noexcept { return true; }

private:
    std::shared_ptr<detail::pipe_state> s_;
    int side_ = 0;
};

static_assert(byte_stream<pipe_stream>);

}  // namespace qwire
