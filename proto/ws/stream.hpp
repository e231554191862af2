// ws::stream<S>: the WebSocket stage over any byte_stream S (TCP, TLS, a
// Unix socket, the in-memory pipe).
//
//     byte_buffer in;
//     auto up = co_await ws::client_handshake(tcp, in, "db:9000", "/write/v4", extra, o);
//     ws::stream<socket_stream> ws(std::move(tcp), ws::role::client, std::move(in));
//     co_await ws.send(ws::opcode::binary, pieces);
//     auto m = co_await ws.receive();   // m->payload valid until the next receive
//
// Every message is one frame with FIN set; this stage refuses fragmented
// messages (close 1002), and, unless told otherwise, TEXT frames (1003) and
// frames over the maximum size (1009): the QWP server's rules, which both
// ends of QWP follow. PINGs are answered, PONGs skipped, a CLOSE is answered
// and ends the stream. Client frames are masked with a fresh key each.
//
// Writes are serialised: the receive side's PONG and CLOSE replies never cut
// into a message another coroutine is writing.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/byte_stream.hpp>
#include <qwire/io/message_stream.hpp>
#include <qwire/proto/http/http.hpp>
#include <qwire/proto/ws/frame.hpp>
#include <qwire/proto/ws/handshake.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace qwire::ws {

enum class role { client, server };

struct stream_options {
    std::size_t max_message_size = 16 << 20;
    bool accept_text = false;
};

struct message {
    opcode op = opcode::binary;
    std::span<std::byte> payload;  // valid until the next receive()
};

struct close_info {
    std::uint16_t code = close_code::no_status;
    std::string reason;
};

template <byte_stream S>
class stream {
public:
    stream(S next, role r, byte_buffer already_read = {}, stream_options opt = {})
        : next_(std::move(next)), role_(r), opt_(opt), in_(std::move(already_read)) {}

    S& next_layer() noexcept { return next_; }
    role side() const noexcept { return role_; }

    // Sends one message made of the pieces, in order.
    task<result<void>> send(opcode op, std::span<const const_buffer> pieces, op_options o = {}) {
        if (role_ == role::client) {
            // The frame is built in the shared buffer only once this sender
            // holds the write lock: a PONG or CLOSE from receive() must not
            // refill it while another frame is still being written from it.
            auto locked = co_await lock_writes(o);
            if (!locked) co_return locked;
            out_.clear();
            const auto key = random_mask();
            append_frame(out_, op, pieces, &key);
            const const_buffer frame = buffer(std::span<const std::byte>(out_.data()));
            auto r = co_await next_.write_all(std::span(&frame, 1), o);
            unlock_writes();
            co_return r;
        }
        // Server frames are not masked: header plus the caller's pieces,
        // with no copy.
        std::uint64_t total = 0;
        for (const auto& p : pieces) total += p.size;
        frame_header h;
        h.op = op;
        h.payload_length = total;
        std::array<std::byte, max_header_size> hb;
        const std::size_t hn = encode_header(h, hb);
        std::vector<const_buffer> all;
        all.reserve(pieces.size() + 1);
        all.push_back({hb.data(), hn});
        all.insert(all.end(), pieces.begin(), pieces.end());
        co_return co_await write_locked(all, o);
    }
    task<result<void>> send(opcode op, std::span<const std::byte> payload, op_options o = {}) {
        const const_buffer piece = buffer(payload);
        co_return co_await send(op, std::span(&piece, 1), std::move(o));
    }

    // Writes frames built elsewhere (append_frame), as one write.
    task<result<void>> write_raw(std::span<const std::byte> frames, op_options o = {}) {
        const const_buffer piece = buffer(frames);
        co_return co_await write_locked(std::span(&piece, 1), std::move(o));
    }

    // ---- message_stream (io/message_stream.hpp) ----

    // One BINARY message.
    task<result<void>> send(std::span<const const_buffer> pieces, op_options o = {}) {
        return send(opcode::binary, pieces, std::move(o));
    }
    // Appends one BINARY frame with the pieces to `out` (masked with a fresh
    // key on a client), to be written later with write_framed.
    void frame(std::span<const const_buffer> pieces, byte_buffer& out) const {
        if (role_ == role::client) {
            const auto key = random_mask();
            append_frame(out, opcode::binary, pieces, &key);
        } else {
            append_frame(out, opcode::binary, pieces, nullptr);
        }
    }
    task<result<void>> write_framed(std::span<const std::byte> frames, op_options o = {}) {
        return write_raw(frames, std::move(o));
    }
    // The payload of one frame made by frame(), unmasked.
    bool unframe(std::span<const std::byte> framed, std::vector<std::byte>& payload) const {
        auto p = parse_header(framed);
        if (!p || !p->complete || framed.size() != p->h.header_length + p->h.payload_length) return false;
        const auto body = framed.subspan(p->h.header_length);
        payload.resize(body.size());
        if (p->h.masked)
            mask_copy(payload.data(), body.data(), body.size(), p->h.mask);
        else if (!body.empty())
            std::memcpy(payload.data(), body.data(), body.size());
        return true;
    }
    // A PING (the peer answers with a PONG, which receive() skips).
    task<result<void>> keepalive(op_options o = {}) {
        return send(opcode::ping, std::span<const std::byte>(), std::move(o));
    }
    // Sends CLOSE 1000; receive() then ends with errc::closed on the answer.
    task<result<void>> finish(op_options o = {}) { return close(close_code::normal, {}, std::move(o)); }
    bool peer_closed() const noexcept { return peer_close_.has_value(); }
    void shutdown() { close_stream(next_); }

    // The next BINARY (or accepted TEXT) message. A CLOSE from the peer
    // ends with errc::closed after this end answered it.
    task<result<message>> receive(op_options o = {}) {
        for (;;) {
            in_.consume(std::exchange(consumed_, 0));
            auto p = parse_header(in_.data());
            if (!p) co_return co_await fail(close_code::protocol_error, p.error(), o);
            if (!p->complete) {
                auto more = co_await read_more(p->need, o);
                if (!more) co_return more.error();
                continue;
            }
            const frame_header h = p->h;
            if (h.masked != (role_ == role::server)) co_return co_await fail(close_code::protocol_error, errc::bad_masking, o);
            if (h.payload_length > opt_.max_message_size)
                co_return co_await fail(close_code::message_too_big, errc::message_too_big, o);
            const std::size_t total = h.header_length + static_cast<std::size_t>(h.payload_length);
            while (in_.size() < total) {
                auto more = co_await read_more(total, o);
                if (!more) co_return more.error();
            }
            std::span<std::byte> payload = in_.data().subspan(h.header_length, static_cast<std::size_t>(h.payload_length));
            if (h.masked) mask_copy(payload.data(), payload.data(), payload.size(), h.mask);
            consumed_ = total;
            switch (h.op) {
            case opcode::ping: {
                auto r = co_await send(opcode::pong, std::span<const std::byte>(payload), o);
                if (!r) co_return r.error();
                continue;
            }
            case opcode::pong:
                continue;
            case opcode::close: {
                close_info info;
                if (payload.size() >= 2) {
                    info.code = static_cast<std::uint16_t>((std::to_integer<unsigned>(payload[0]) << 8) |
                                                           std::to_integer<unsigned>(payload[1]));
                    info.reason.assign(reinterpret_cast<const char*>(payload.data()) + 2, payload.size() - 2);
                }
                peer_close_ = std::move(info);
                if (!close_sent_) {
                    // Echo the code (RFC 6455 section 5.5.1); codes that must not
                    // travel in a frame become 1000.
                    const std::uint16_t c = peer_close_->code;
                    co_await send_close(c == close_code::no_status || c < 1000 || c >= 5000 ? close_code::normal : c, {},
                                        o);
                }
                co_return make_error_code(errc::closed);
            }
            case opcode::text:
                if (!opt_.accept_text) co_return co_await fail(close_code::unsupported_data, errc::text_refused, o);
                [[fallthrough]];
            case opcode::binary:
                if (!h.fin) co_return co_await fail(close_code::protocol_error, errc::fragmented, o);
                co_return message{h.op, payload};
            case opcode::continuation:
                co_return co_await fail(close_code::protocol_error, errc::fragmented, o);
            }
            co_return co_await fail(close_code::protocol_error, errc::bad_opcode, o);
        }
    }

    // Starts the closing handshake: sends CLOSE with the code and reason.
    // Call receive() until it returns errc::closed to see the answer.
    task<result<void>> close(std::uint16_t code = close_code::normal, std::string_view reason = {},
                             op_options o = {}) {
        co_return co_await send_close(code, reason, o);
    }

    const std::optional<close_info>& peer_close() const noexcept { return peer_close_; }
    bool close_sent() const noexcept { return close_sent_; }

private:
    task<result<void>> send_close(std::uint16_t code, std::string_view reason, op_options o) {
        if (close_sent_) co_return result<void>{};
        close_sent_ = true;
        std::array<std::byte, 125> body;
        body[0] = static_cast<std::byte>(code >> 8);
        body[1] = static_cast<std::byte>(code & 0xFF);
        const std::size_t n = std::min<std::size_t>(reason.size(), body.size() - 2);
        if (n) std::memcpy(body.data() + 2, reason.data(), n);
        co_return co_await send(opcode::close, std::span<const std::byte>(body.data(), n + 2), o);
    }

    // Tells the peer why (best effort) and returns the error.
    task<result<message>> fail(std::uint16_t code, std::error_code why, op_options o) {
        co_await send_close(code, why.message(), o);
        co_return why;
    }

    task<result<void>> read_more(std::size_t need_total, op_options o) {
        const std::size_t want = std::max<std::size_t>(need_total > in_.size() ? need_total - in_.size() : 1, 64 * 1024);
        auto space = in_.prepare(want);
        auto n = co_await next_.read_some(space, o);
        if (!n) co_return n.error();
        in_.commit(*n);
        co_return result<void>{};
    }

    // One writer at a time: frames never interleave on the wire.
    task<result<void>> lock_writes(op_options o) {
        while (writing_) {
            auto w = co_await write_free_.wait(o);
            if (!w) co_return w.error();
        }
        writing_ = true;
        co_return result<void>{};
    }
    void unlock_writes() {
        writing_ = false;
        write_free_.notify_all();
    }

    task<result<void>> write_locked(std::span<const const_buffer> bufs, op_options o) {
        auto locked = co_await lock_writes(o);
        if (!locked) co_return locked;
        auto r = co_await next_.write_all(bufs, o);
        unlock_writes();
        co_return r;
    }

    S next_;
    role role_;
    stream_options opt_;
    byte_buffer in_;
    std::size_t consumed_ = 0;
    byte_buffer out_;
    bool writing_ = false;
    notifier write_free_;
    bool close_sent_ = false;
    std::optional<close_info> peer_close_;
};

// Client side of the opening handshake: writes the upgrade request (with
// the caller's extra headers, never an Origin) and reads the answer into
// `in`, where any frame bytes that followed the 101 stay. A 101 is checked
// (Upgrade, Connection, Sec-WebSocket-Accept); any other status is returned
// as it is, for the caller to classify.
template <byte_stream S>
task<result<http::response>> client_handshake(S& s, byte_buffer& in, std::string host, std::string path,
                                              const http::headers& extra, op_options o = {}) {
    http::request req;
    req.target = std::move(path);
    req.headers.add("Host", std::move(host));
    req.headers.add("Connection", "Upgrade");
    req.headers.add("Upgrade", "websocket");
    req.headers.add("Sec-WebSocket-Version", "13");
    const std::string key = make_client_key();
    req.headers.add("Sec-WebSocket-Key", key);
    for (const auto& h : extra.items()) req.headers.add(h.name, h.value);
    const std::string head = http::write_head(req);
    auto w = co_await s.write_all(as_bytes(head), o);
    if (!w) co_return w.error();
    auto resp = co_await http::read_response(s, in, o);
    if (!resp) co_return resp.error();
    if (resp->status != 101) co_return std::move(*resp);
    const auto accept = resp->headers.get("Sec-WebSocket-Accept");
    const auto upgrade = resp->headers.get("Upgrade");
    if (!accept || *accept != accept_key(key) || !upgrade || !resp->headers.has_token("Upgrade", "websocket") ||
        !resp->headers.has_token("Connection", "upgrade"))
        co_return make_error_code(errc::bad_upgrade);
    co_return std::move(*resp);
}

// Server side: whether a request is a valid WebSocket upgrade. The answer
// to send when it is not (400, or 426 for a wrong version), else nothing.
std::optional<http::response> check_upgrade(const http::request& r);
// The 101 answer to a valid upgrade request.
http::response accept_upgrade(const http::request& r);

}  // namespace qwire::ws
