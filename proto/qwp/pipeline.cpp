#include <qwire/proto/qwp/pipeline.hpp>

#include <qwire/core/notifier.hpp>
#include <qwire/proto/qwp/response.hpp>

#include <algorithm>
#include <array>
#include <map>

namespace qwire::qwp {

namespace {

// A FIFO on one growing array: a frame entering and leaving the window in
// the steady state allocates nothing (std::deque gets and frees a block
// every few frames).
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

}  // namespace

struct pipeline::state {
    explicit state(ws::stream<any_stream> w, options o) : ws(std::move(w)), opt(o) {}

    struct entry {
        std::int64_t seq = 0;
        bool deferred = false;
        byte_buffer frame;      // the masked WebSocket frame
        bool replayable = true; // false: a control frame a new connection sends afresh
    };

    ws::stream<any_stream> ws;
    options opt;
    ring<entry> fifo;
    response last;  // the latest response, decoded into the same storage each time
    std::vector<byte_buffer> spare;
    std::size_t bytes = 0;
    std::int64_t next_seq = 0;
    std::int64_t acked = -1;
    std::error_code failure;
    std::string failure_text;
    bool reader_done = false;
    bool closing = false;
    notifier changed;
    std::map<std::string, std::int64_t, std::less<>> ok_txn, durable_txn;

    void fail(std::error_code ec, std::string text = {}) {
        if (!failure) {
            failure = ec;
            failure_text = std::move(text);
        }
        changed.notify_all();
    }

    void on_ok(std::int64_t s) {
        s = std::min(s, next_seq - 1);
        // Pop through the last commit frame the OK covers: deferred frames
        // stay until a commit after them is acknowledged.
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
};

namespace {

task<void> read_loop(std::shared_ptr<pipeline::state> s) {
    for (;;) {
        auto m = co_await s->ws.receive();
        if (!m) {
            if (!(s->closing && m.error() == ws::errc::closed)) s->fail(m.error());
            break;
        }
        auto decoded = decode_response(m->payload, s->last);
        if (!decoded) {
            s->fail(decoded.error());
            break;
        }
        const response* r = &s->last;
        if (r->status == status::ok) {
            for (auto& [t, txn] : r->tables) s->ok_txn[t] = std::max(s->ok_txn[t], txn);
            s->on_ok(r->sequence);
        } else if (r->status == status::durable_ack || r->status == status::local_durable_ack) {
            for (auto& [t, txn] : r->tables) s->durable_txn[t] = std::max(s->durable_txn[t], txn);
            s->changed.notify_all();
        } else {
            s->fail(status_error(r->status), r->message);
            break;
        }
    }
    s->reader_done = true;
    s->changed.notify_all();
}

}  // namespace

pipeline::pipeline(ws::stream<any_stream> w, options o) : s_(std::make_shared<state>(std::move(w), o)) {
    reactor::current()->spawn(read_loop(s_));
}

pipeline::~pipeline() {
    if (s_) {
        s_->fail(make_error_code(errc::must_close));
        s_->ws.next_layer().shutdown();
    }
}

task<result<pipeline::sent>> pipeline::send(std::span<const const_buffer> message, bool deferred, op_options o) {
    return send_frame(message, deferred, true, std::move(o));
}

task<result<pipeline::sent>> pipeline::send_control(std::span<const const_buffer> message, op_options o) {
    return send_frame(message, true, false, std::move(o));
}

task<result<pipeline::sent>> pipeline::send_frame(std::span<const const_buffer> message, bool deferred, bool replayable,
                                                  op_options o) {
    auto& s = *s_;
    std::size_t size = 0;
    for (const auto& p : message) size += p.size;
    for (;;) {
        if (s.failure) co_return s.failure;
        // One slot stays free for a commit frame: deferred frames are not
        // acknowledged until a commit after them is.
        const std::size_t limit = deferred ? s.opt.window - 1 : s.opt.window;
        const bool bytes_ok = s.fifo.empty() || s.bytes + size <= s.opt.max_bytes;
        if (s.fifo.size() < limit && bytes_ok) break;
        if (deferred && all_deferred_in_flight()) {
            deferred = false;  // waiting would never end: commit instead
            continue;
        }
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w.error();
    }
    byte_buffer frame;
    if (!s.spare.empty()) {
        frame = std::move(s.spare.back());
        s.spare.pop_back();
    }
    const auto key = ws::random_mask();
    ws::append_frame(frame, ws::opcode::binary, message, &key);
    if (!deferred) {
        // Clear FLAG_DEFER_COMMIT if the message had it (the flags byte is
        // the payload's sixth; masking is a XOR, so the bit flips in place).
        auto h = ws::parse_header(frame.data());
        auto& flags_byte = frame.data()[h->h.header_length + 5];
        if (std::to_integer<unsigned>(flags_byte ^ static_cast<std::byte>(key[1])) & flags::defer_commit)
            flags_byte ^= static_cast<std::byte>(flags::defer_commit);
    }
    const std::int64_t seq = s.next_seq++;
    s.bytes += frame.size();
    s.fifo.push_back({seq, deferred, std::move(frame), replayable});
    const std::span<const std::byte> bytes = s.fifo.back().frame.data();
    auto w = co_await s.ws.write_raw(bytes, o);
    if (!w) {
        s.fail(w.error());
        co_return w.error();
    }
    co_return sent{seq, deferred};
}

task<result<void>> pipeline::replay(std::deque<std::pair<std::vector<std::byte>, bool>>& frames, op_options o) {
    while (!frames.empty()) {
        auto& [msg, deferred] = frames.front();
        const const_buffer piece = buffer(std::span<const std::byte>(msg));
        auto r = co_await send(std::span(&piece, 1), deferred, o);
        if (!r) co_return r.error();
        frames.pop_front();
    }
    co_return result<void>{};
}

task<result<void>> pipeline::wait_acked(std::int64_t seq, ack_level level, op_options o) {
    auto& s = *s_;
    while (s.acked < seq) {
        if (s.failure) co_return s.failure;
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w.error();
    }
    if (level == ack_level::ok) co_return result<void>{};
    if (!s.opt.durable) co_return make_error_code(errc::durable_ack_unavailable);
    // Every table committed so far must be durable at its committed txn.
    const auto want = s.ok_txn;
    auto durable = [&] {
        for (const auto& [t, txn] : want) {
            auto it = s.durable_txn.find(t);
            if (it == s.durable_txn.end() || it->second < txn) return false;
        }
        return true;
    };
    while (!durable()) {
        if (s.failure) co_return s.failure;
        // The server sends durable acks only on inbound activity: ping every
        // 200 ms while waiting.
        op_options tick = o;
        const auto next = clock::now() + std::chrono::milliseconds(200);
        tick.deadline = o.deadline ? std::min(*o.deadline, next) : next;
        auto w = co_await s.changed.wait(tick);
        if (!w && w.error() == std::errc::timed_out && (!o.deadline || clock::now() < *o.deadline)) {
            const std::array<std::byte, 0> empty{};
            auto p = co_await s.ws.send(ws::opcode::ping, std::span<const std::byte>(empty), o);
            if (!p) co_return p.error();
            continue;
        }
        if (!w) co_return w.error();
    }
    co_return result<void>{};
}

std::deque<std::pair<std::vector<std::byte>, bool>> pipeline::take_unacked() {
    std::deque<std::pair<std::vector<std::byte>, bool>> out;
    for (std::size_t i = 0; i < s_->fifo.size(); ++i) {
        auto& e = s_->fifo[i];
        if (!e.replayable) continue;
        // Unmask the stored frame back into the message.
        auto h = ws::parse_header(e.frame.data());
        if (!h || !h->complete) continue;
        const auto payload = e.frame.data().subspan(h->h.header_length);
        std::vector<std::byte> msg(payload.size());
        ws::mask_copy(msg.data(), payload.data(), payload.size(), h->h.mask);
        out.emplace_back(std::move(msg), e.deferred);
    }
    s_->fifo.clear();
    s_->bytes = 0;
    return out;
}

std::size_t pipeline::in_flight() const noexcept { return s_->fifo.size(); }
std::int64_t pipeline::next_sequence() const noexcept { return s_->next_seq; }
std::int64_t pipeline::acked() const noexcept { return s_->acked; }
std::error_code pipeline::failure() const noexcept { return s_->failure; }
const std::string& pipeline::failure_text() const noexcept { return s_->failure_text; }
bool pipeline::all_deferred_in_flight() const noexcept {
    for (std::size_t i = 0; i < s_->fifo.size(); ++i)
        if (!s_->fifo[i].deferred) return false;
    return true;
}

task<result<void>> pipeline::close(op_options o) {
    auto& s = *s_;
    if (s.next_seq > 0) {
        auto w = co_await wait_acked(s.next_seq - 1, ack_level::ok, o);
        if (!w) co_return w;
    }
    s.closing = true;
    auto c = co_await s.ws.close(ws::close_code::normal, {}, o);
    if (!c) co_return c;
    while (!s.reader_done) {
        auto w = co_await s.changed.wait(o);
        if (!w) co_return w;
    }
    s.ws.next_layer().shutdown();
    if (s.failure) co_return s.failure;
    co_return result<void>{};
}

}  // namespace qwire::qwp
