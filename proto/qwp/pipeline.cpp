#include <qwire/proto/qwp/pipeline.hpp>

#include <qwire/proto/qwp/wire.hpp>

#include <algorithm>

namespace qwire::qwp {

namespace detail {

void pipeline_core::fail(error e) {
    if (!failure) failure = std::move(e);
    changed.notify_all();
}

void pipeline_core::on_ok(std::int64_t s) {
    s = std::min(s, next_seq - 1);
    // Pop through the last commit frame the OK covers: deferred frames stay
    // until a commit after them is acknowledged.
    std::size_t through = 0;
    for (std::size_t i = 0; i < fifo.size() && fifo[i].seq <= s; ++i)
        if (!fifo[i].deferred) through = i + 1;
    for (std::size_t i = 0; i < through; ++i) {
        bytes -= fifo.front().frame.size();
        fifo.front().frame.clear();
        spare.push_back(std::move(fifo.front().frame));
        fifo.pop_front();
    }
    acked = std::max(acked, s);
    changed.notify_all();
}

bool pipeline_core::on_response(std::span<const std::byte> payload) {
    auto decoded = decode_response(payload, last);
    if (!decoded) {
        fail(decoded.error());
        return false;
    }
    const response& r = last;
    if (r.status == status::ok) {
        for (auto& [t, txn] : r.tables) ok_txn[t] = std::max(ok_txn[t], txn);
        on_ok(r.sequence);
    } else if (r.status == status::durable_ack || r.status == status::local_durable_ack) {
        for (auto& [t, txn] : r.tables) durable_txn[t] = std::max(durable_txn[t], txn);
        changed.notify_all();
    } else {
        fail(error(status_error(r.status), r.message));
        return false;
    }
    return true;
}

task<result<void>> pipeline_core::wait_for_room(std::size_t size, bool& deferred, op_options o) {
    for (;;) {
        if (failure) co_return failure;
        // One slot stays free for a commit frame: deferred frames are not
        // acknowledged until a commit after them is.
        const std::size_t limit = deferred ? opt.window - 1 : opt.window;
        const bool bytes_ok = fifo.empty() || bytes + size <= opt.max_bytes;
        if (fifo.size() < limit && bytes_ok) co_return result<void>{};
        if (deferred && all_deferred_in_flight()) {
            deferred = false;  // waiting would never end: commit instead
            continue;
        }
        auto w = co_await changed.wait(o);
        if (!w) co_return w.error();
    }
}

byte_buffer pipeline_core::frame_buffer() {
    byte_buffer b;
    if (!spare.empty()) {
        b = std::move(spare.back());
        spare.pop_back();
    }
    return b;
}

std::int64_t pipeline_core::push(byte_buffer frame, bool deferred, bool replayable) {
    const std::int64_t seq = next_seq++;
    bytes += frame.size();
    fifo.push_back({seq, deferred, std::move(frame), replayable});
    return seq;
}

task<result<void>> pipeline_core::wait_ok(std::int64_t seq, op_options o) {
    while (acked < seq) {
        if (failure) co_return failure;
        auto w = co_await changed.wait(o);
        if (!w) co_return w.error();
    }
    co_return result<void>{};
}

bool pipeline_core::durable_covers(const std::map<std::string, std::int64_t, std::less<>>& want) const {
    for (const auto& [t, txn] : want) {
        auto it = durable_txn.find(t);
        if (it == durable_txn.end() || it->second < txn) return false;
    }
    return true;
}

bool pipeline_core::all_deferred_in_flight() const noexcept {
    for (std::size_t i = 0; i < fifo.size(); ++i)
        if (!fifo[i].deferred) return false;
    return true;
}

std::span<const const_buffer> pipeline_core::as_commit(std::span<const const_buffer> message) {
    constexpr std::size_t flags_at = 5;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < message.size(); ++i) {
        const const_buffer& p = message[i];
        if (flags_at >= offset + p.size) {
            offset += p.size;
            continue;
        }
        const auto* bytes = static_cast<const std::byte*>(p.data);
        const std::size_t at = flags_at - offset;
        if ((std::to_integer<unsigned>(bytes[at]) & flags::defer_commit) == 0) return message;
        commit_flags = bytes[at] & ~static_cast<std::byte>(flags::defer_commit);
        commit_pieces.assign(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(i));
        if (at > 0) commit_pieces.push_back({bytes, at});
        commit_pieces.push_back({&commit_flags, 1});
        if (at + 1 < p.size) commit_pieces.push_back({bytes + at + 1, p.size - at - 1});
        commit_pieces.insert(commit_pieces.end(), message.begin() + static_cast<std::ptrdiff_t>(i) + 1, message.end());
        return commit_pieces;
    }
    return message;  // too short to be a QWP message: the server will say so
}

}  // namespace detail

task<result<void>> pipeline_base::replay(replay_queue& frames, op_options o) {
    while (!frames.empty()) {
        auto& [msg, deferred] = frames.front();
        const const_buffer piece = buffer(std::span<const std::byte>(msg));
        auto r = co_await send(std::span(&piece, 1), deferred, o);
        if (!r) co_return r.error();
        frames.pop_front();
    }
    co_return result<void>{};
}

}  // namespace qwire::qwp
