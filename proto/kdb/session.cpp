#include <qwire/proto/kdb/session.hpp>

#include <cstring>

namespace qwire::kdb::detail {

task<result<message>> session::read_message(op_options o) {
    constexpr std::size_t chunk = 64 * 1024;
    // Header first; then the rest of the message, which may already be here.
    while (rbuf_.size() < header_size) {
        auto n = co_await io_.read_some(rbuf_.prepare(chunk), o);
        if (!n) co_return n.error();
        rbuf_.commit(*n);
    }
    auto h = parse_header(rbuf_.data());
    if (!h) co_return h.error();
    if (h->length > lim_.max_message_bytes) co_return errc::too_large;
    const auto len = static_cast<std::size_t>(h->length);
    while (rbuf_.size() < len) {
        auto n = co_await io_.read_some(rbuf_.prepare(std::max(chunk, len - rbuf_.size())), o);
        if (!n) co_return n.error();
        rbuf_.commit(*n);
    }
    auto m = decode_message(rbuf_.data().first(len), lim_);
    rbuf_.consume(len);
    co_return m;
}

task<result<void>> session::write_locked(const k& x, msg_type t, op_options o) {
    wbuf_.clear();
    if (auto r = encode_message(x, t, wbuf_, compresses(), capability_); !r) co_return r;
    const const_buffer piece = buffer(std::span<const std::byte>(wbuf_.data()));
    co_return co_await io_.write_all(std::span(&piece, 1), std::move(o));
}

task<result<void>> session::write_message(const k& x, msg_type t, op_options o) {
    co_await wlock_.lock();
    auto r = co_await write_locked(x, t, std::move(o));
    wlock_.unlock();
    co_return r;
}

task<result<void>> session::write_error(std::string_view text, op_options o) {
    co_return co_await write_message(new_error(text), msg_type::response, std::move(o));
}

}  // namespace qwire::kdb::detail
