// pipeline<M>: the ack-pipelining stage over any message_stream M (the
// WebSocket stage over TCP, TLS, a Unix socket or the in-memory pipe). It
// numbers frames as the server does (0, 1, 2, ... per connection), keeps
// every frame until an OK covers a commit after it, bounds what is in
// flight (128 frames by default, and a byte budget), and reads the server's
// responses concurrently.
//
//     qwp::pipeline<ws::stream<socket_stream>> p(std::move(ws), {});
//     auto s = co_await p.send(pieces, /*deferred=*/false);
//     co_await p.wait_acked(s->seq, qwp::ack_level::ok);
//
// Frames are kept in the stream's wire form (M::frame), written as they are
// and, for a replay on a new connection, turned back into messages
// (M::unframe): the pipeline never looks inside a frame. It does know QWP's
// header: a message sent as a commit has its FLAG_DEFER_COMMIT cleared in
// the pieces before they are framed.
//
// pipeline<M> is final; the sender holds one through pipeline_base, one
// indirect call per frame and never per read or write.
#pragma once

#include <qwire/core/byte_buffer.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/core/reactor.hpp>
#include <qwire/core/ring.hpp>
#include <qwire/core/task.hpp>
#include <qwire/io/message_stream.hpp>
#include <qwire/proto/qwp/response.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace qwire::qwp {

enum class ack_level { ok, durable };

// Messages kept for a replay: each unmasked, with its defer flag.
using replay_queue = std::deque<std::pair<std::vector<std::byte>, bool>>;

namespace detail {

// Everything the pipeline tracks that does not touch the stream: the window
// of kept frames, sequences, acknowledgements, the failure.
struct pipeline_core {
    struct options {
        std::size_t window = 128;
        std::size_t max_bytes = 256 << 20;
        bool durable = false;
    };
    explicit pipeline_core(options o) : opt(o) {}

    struct entry {
        std::int64_t seq = 0;
        bool deferred = false;
        byte_buffer frame;       // the message in the stream's wire form
        bool replayable = true;  // false: a control frame a new connection sends afresh
    };

    options opt;
    qwire::ring<entry> fifo;
    response last;  // the latest response, decoded into the same storage each time
    std::vector<byte_buffer> spare;
    std::size_t bytes = 0;
    std::int64_t next_seq = 0;
    std::int64_t acked = -1;
    error failure;  // with the server's text for an error status
    bool reader_done = false;
    bool closing = false;
    notifier changed;
    std::map<std::string, std::int64_t, std::less<>> ok_txn, durable_txn;

    void fail(error e);
    void on_ok(std::int64_t s);
    // Handles one response from the server; false ends the read loop.
    bool on_response(std::span<const std::byte> payload);
    // Waits until a frame of `size` bytes fits the window. `deferred` may
    // turn false: when everything in flight is deferred, waiting for room
    // would never end, so the frame goes as a commit.
    task<result<void>> wait_for_room(std::size_t size, bool& deferred, op_options o);
    // A buffer for the next frame (a spare one when there is one).
    byte_buffer frame_buffer();
    // Enters a framed message into the window; returns its sequence.
    std::int64_t push(byte_buffer frame, bool deferred, bool replayable);
    task<result<void>> wait_ok(std::int64_t seq, op_options o);
    // Whether every table committed so far is durable at its committed txn.
    bool durable_covers(const std::map<std::string, std::int64_t, std::less<>>& want) const;
    bool all_deferred_in_flight() const noexcept;

    // The message as a commit: when its QWP flags byte (the sixth) has
    // FLAG_DEFER_COMMIT, the pieces with that byte replaced by a copy
    // without it (valid until the next call), else the message itself.
    std::span<const const_buffer> as_commit(std::span<const const_buffer> message);
    std::vector<const_buffer> commit_pieces;
    std::byte commit_flags{};
};

}  // namespace detail

// What the sender holds: any pipeline<M>, behind one pointer.
class pipeline_base {
public:
    using options = detail::pipeline_core::options;
    struct sent {
        std::int64_t seq;
        bool deferred;
    };

    pipeline_base(const pipeline_base&) = delete;
    pipeline_base& operator=(const pipeline_base&) = delete;
    virtual ~pipeline_base() = default;

    // Sends one finished message (the builder's pieces) as the next frame;
    // returns its wire sequence once it is written. Waits while the window
    // is full. `deferred`: the message carries FLAG_DEFER_COMMIT. One slot
    // of the window is kept for a commit frame; when the rest is full of
    // deferred frames, the message goes as a commit (flag cleared) instead
    // of waiting for acknowledgements that would never come.
    task<result<sent>> send(std::span<const const_buffer> message, bool deferred, op_options o = {}) {
        return send_frame(message, deferred, true, std::move(o));
    }
    // Sends a deferred frame that a new connection would not replay (the
    // symbol dictionary's catch-up, which every connection sends afresh).
    task<result<sent>> send_control(std::span<const const_buffer> message, op_options o = {}) {
        return send_frame(message, true, false, std::move(o));
    }
    // Sends frames kept from an earlier connection, renumbered, taking each
    // from the front of `frames` once it is written: on failure, `frames`
    // holds exactly those still to send.
    task<result<void>> replay(replay_queue& frames, op_options o = {});
    // Waits until an OK covers sequence seq (and, for durable, a durable ack
    // covers the tables it committed).
    virtual task<result<void>> wait_acked(std::int64_t seq, ack_level level, op_options o = {}) = 0;
    // The frames not yet covered by an OK after a commit, oldest first, as
    // messages with their defer flag: what a new connection must replay
    // (control frames left out). Leaves the pipeline empty.
    virtual replay_queue take_unacked() = 0;
    // Sends CLOSE after everything is acknowledged.
    virtual task<result<void>> close(op_options o = {}) = 0;

    std::size_t in_flight() const noexcept { return core_.fifo.size(); }
    // The frames kept for replay (in flight or not yet covered by an OK
    // after a commit), control frames left out.
    std::size_t kept_frames() const noexcept {
        std::size_t n = 0;
        for (std::size_t i = 0; i < core_.fifo.size(); ++i) n += core_.fifo[i].replayable;
        return n;
    }
    std::int64_t next_sequence() const noexcept { return core_.next_seq; }
    std::int64_t acked() const noexcept { return core_.acked; }
    // The error that broke the connection, if any (then must_close()); for
    // an error status, its detail is the server's text.
    const error& failure() const noexcept { return core_.failure; }
    bool must_close() const noexcept { return static_cast<bool>(failure()); }
    bool all_deferred_in_flight() const noexcept { return core_.all_deferred_in_flight(); }

protected:
    explicit pipeline_base(detail::pipeline_core& c) : core_(c) {}
    virtual task<result<sent>> send_frame(std::span<const const_buffer> message, bool deferred, bool replayable,
                                          op_options o) = 0;

private:
    detail::pipeline_core& core_;
};

template <message_stream M>
class pipeline final : public pipeline_base {
    // Shared with the read loop, which may outlive the pipeline by the time
    // it takes to see the stream closed.
    struct state : detail::pipeline_core {
        state(M m, options o) : pipeline_core(o), ms(std::move(m)) {}
        M ms;
    };

public:
    pipeline(M m, options o) : pipeline(std::make_shared<state>(std::move(m), o)) {}
    ~pipeline() override {
        s_->fail(make_error_code(errc::must_close));
        s_->ms.shutdown();
    }

    task<result<void>> wait_acked(std::int64_t seq, ack_level level, op_options o = {}) override {
        auto& s = *s_;
        if (auto w = co_await s.wait_ok(seq, o); !w) co_return w;
        if (level == ack_level::ok) co_return result<void>{};
        if (!s.opt.durable) co_return make_error_code(errc::durable_ack_unavailable);
        const auto want = s.ok_txn;
        while (!s.durable_covers(want)) {
            if (s.failure) co_return s.failure;
            // The server sends durable acks only on inbound activity: a
            // keepalive every 200 ms while waiting.
            const op_options tick = o.cut_to(clock::now() + std::chrono::milliseconds(200));
            auto w = co_await s.changed.wait(tick);
            if (!w && w.error() == std::errc::timed_out && (!o.deadline || clock::now() < *o.deadline)) {
                auto p = co_await s.ms.keepalive(o);
                if (!p) co_return p.error();
                continue;
            }
            if (!w) co_return w.error();
        }
        co_return result<void>{};
    }

    replay_queue take_unacked() override {
        replay_queue out;
        auto& s = *s_;
        for (std::size_t i = 0; i < s.fifo.size(); ++i) {
            auto& e = s.fifo[i];
            if (!e.replayable) continue;
            std::vector<std::byte> msg;
            if (s.ms.unframe(e.frame.data(), msg)) out.emplace_back(std::move(msg), e.deferred);
        }
        s.fifo.clear();
        s.bytes = 0;
        return out;
    }

    task<result<void>> close(op_options o = {}) override {
        auto& s = *s_;
        if (s.next_seq > 0)
            if (auto w = co_await s.wait_ok(s.next_seq - 1, o); !w) co_return w;
        s.closing = true;
        if (auto c = co_await s.ms.finish(o); !c) co_return c;
        while (!s.reader_done)
            if (auto w = co_await s.changed.wait(o); !w) co_return w;
        s.ms.shutdown();
        if (s.failure) co_return s.failure;
        co_return result<void>{};
    }

    M& next_layer() noexcept { return s_->ms; }

private:
    explicit pipeline(std::shared_ptr<state> s) : pipeline_base(*s), s_(std::move(s)) {
        reactor::current()->spawn(read_loop(s_));
    }

    static task<void> read_loop(std::shared_ptr<state> s) {
        for (;;) {
            auto m = co_await s->ms.receive();
            if (!m) {
                // After our CLOSE, the peer's answer ends the stream cleanly.
                if (!(s->closing && s->ms.peer_closed())) s->fail(m.error());
                break;
            }
            if (!s->on_response(m->payload)) break;
        }
        s->reader_done = true;
        s->changed.notify_all();
    }

    task<result<sent>> send_frame(std::span<const const_buffer> message, bool deferred, bool replayable,
                                  op_options o) override {
        auto& s = *s_;
        if (auto room = co_await s.wait_for_room(total_size(message), deferred, o); !room) co_return room.error();
        byte_buffer frame = s.frame_buffer();
        s.ms.frame(deferred ? message : s.as_commit(message), frame);
        const std::int64_t seq = s.push(std::move(frame), deferred, replayable);
        auto w = co_await s.ms.write_framed(s.fifo.back().frame.data(), o);
        if (!w) {
            s.fail(w.error());
            co_return w.error();
        }
        co_return sent{seq, deferred};
    }

    std::shared_ptr<state> s_;
};

}  // namespace qwire::qwp
