// The ack-pipelining stage on its own, over two message streams on the
// in-memory pipe: a length-prefixed one written here (so the pipeline is
// seen to need nothing of WebSocket) and ws::stream<pipe_stream>. A
// hand-written server end reads the frames and answers OKs.
#include <qwire/core/scope.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/pipe.hpp>
#include <qwire/proto/qwp/pipeline.hpp>
#include <qwire/proto/ws/stream.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace qwire;
using namespace qwire::qwp;

namespace {

// Messages as a 4-byte little-endian length and the bytes, over a pipe. A
// zero-length message is the closing handshake.
class framed_pipe {
public:
    explicit framed_pipe(pipe_stream p) : p_(std::move(p)) {}

    struct message {
        std::span<std::byte> payload;
    };

    task<result<void>> send(std::span<const const_buffer> pieces, op_options o = {}) {
        byte_buffer b;
        frame(pieces, b);
        co_return co_await p_.write_all(std::span<const std::byte>(b.data()), o);
    }
    task<result<message>> receive(op_options o = {}) {
        in_.consume(std::exchange(used_, 0));
        for (;;) {
            if (in_.size() >= 4) {
                std::uint32_t n;
                std::memcpy(&n, in_.data().data(), 4);
                if (n == 0) {
                    peer_closed_ = true;
                    co_return make_error_code(qwire::errc::eof);
                }
                if (in_.size() >= 4 + n) {
                    used_ = 4 + n;
                    co_return message{in_.data().subspan(4, n)};
                }
            }
            auto got = co_await p_.read_some(in_.prepare(4096), o);
            if (!got) co_return got.error();
            in_.commit(*got);
        }
    }
    void frame(std::span<const const_buffer> pieces, byte_buffer& out) const {
        const auto n = static_cast<std::uint32_t>(total_size(pieces));
        out.append(reinterpret_cast<const std::byte*>(&n), 4);
        for (const auto& p : pieces) out.append(static_cast<const std::byte*>(p.data), p.size);
    }
    task<result<void>> write_framed(std::span<const std::byte> framed, op_options o = {}) {
        return p_.write_all(framed, std::move(o));
    }
    bool unframe(std::span<const std::byte> framed, std::vector<std::byte>& payload) const {
        if (framed.size() < 4) return false;
        payload.assign(framed.begin() + 4, framed.end());
        return true;
    }
    task<result<void>> keepalive(op_options = {}) { co_return result<void>{}; }
    task<result<void>> finish(op_options o = {}) {
        const std::uint32_t zero = 0;
        co_return co_await p_.write_all(std::span(reinterpret_cast<const std::byte*>(&zero), 4), o);
    }
    bool peer_closed() const noexcept { return peer_closed_; }
    void shutdown() { p_.close(); }

private:
    pipe_stream p_;
    byte_buffer in_;
    std::size_t used_ = 0;
    bool peer_closed_ = false;
};

static_assert(message_stream<framed_pipe>);
static_assert(message_stream<ws::stream<pipe_stream>>);

// A QWP-shaped message: a 12-byte header whose sixth byte is the flags,
// then `body` bytes of `fill`.
std::vector<std::byte> message_of(std::uint8_t flag_bits, std::size_t body, std::uint8_t fill) {
    std::vector<std::byte> m(12 + body, std::byte{fill});
    std::memcpy(m.data(), "QWP1", 4);
    m[4] = std::byte{1};
    m[5] = std::byte{flag_bits};
    return m;
}

// The message in three pieces, the flags byte in the middle one.
std::vector<const_buffer> pieces_of(const std::vector<std::byte>& m) {
    return {{m.data(), 3}, {m.data() + 3, 5}, {m.data() + 8, m.size() - 8}};
}

struct seen {
    std::vector<std::vector<std::byte>> messages;
};

// The server end: records every message; answers each commit (a message
// without FLAG_DEFER_COMMIT) with an OK for its sequence, unless `silent`.
template <class M>
task<void> serve(M& m, seen& out, bool silent) {
    std::int64_t seq = 0;
    for (;;) {
        auto got = co_await m.receive();
        if (!got) {
            if (m.peer_closed()) (void)co_await m.finish();
            co_return;
        }
        out.messages.emplace_back(got->payload.begin(), got->payload.end());
        const bool commit = (std::to_integer<unsigned>(got->payload[5]) & flags::defer_commit) == 0;
        if (commit && !silent) {
            response ok;
            ok.sequence = seq;
            const auto bytes = encode_response(ok);
            const const_buffer piece = buffer(std::span<const std::byte>(bytes));
            auto w = co_await m.send(std::span(&piece, 1));
            if (!w) co_return;
        }
        ++seq;
    }
}

struct framed_stack {
    static std::pair<framed_pipe, framed_pipe> make() {
        auto [a, b] = pipe_stream::make_pair();
        return {framed_pipe(std::move(a)), framed_pipe(std::move(b))};
    }
};
struct ws_stack {
    static std::pair<ws::stream<pipe_stream>, ws::stream<pipe_stream>> make() {
        auto [a, b] = pipe_stream::make_pair();
        return {ws::stream<pipe_stream>(std::move(a), ws::role::client),
                ws::stream<pipe_stream>(std::move(b), ws::role::server)};
    }
};

// A reactor, the two ends of a stack, and what the server end saw.
template <class Stack>
struct stack_fixture {
    using ends_type = decltype(Stack::make());
    using M = typename ends_type::first_type;
    reactor r;                          // first: the pipe belongs to it
    ends_type ends = Stack::make();
    M& client = ends.first;
    M& server = ends.second;
    seen got;
};

}  // namespace

TEMPLATE_TEST_CASE("pipeline<M>: frames numbered, a commit goes out without FLAG_DEFER_COMMIT, the rest byte for byte",
                   "[pipeline]", framed_stack, ws_stack) {
    stack_fixture<TestType> f;
    using M = typename stack_fixture<TestType>::M;
    auto& [r, ends, client, server, got] = f;
    result<void> acked = make_error_code(qwire::errc::invalid_argument);
    std::vector<pipeline_base::sent> sent;
    const auto deferred = message_of(flags::defer_commit | flags::gorilla, 100, 7);
    auto run = [&]() -> task<void> {
        pipeline<M> p(std::move(client), {});
        const auto pieces = pieces_of(deferred);
        for (int i = 0; i < 3; ++i) {
            auto s = co_await p.send(pieces, true);
            sent.push_back(s.value());
        }
        // The same message sent as a commit: the pipeline clears the flag.
        auto s = co_await p.send(pieces, false);
        sent.push_back(s.value());
        acked = co_await p.wait_acked(3, ack_level::ok);
        CHECK(p.in_flight() == 0);
        CHECK(p.acked() == 3);
        auto closed = co_await p.close();
        CHECK(closed);
    };
    r.block_on(when_all(run(), serve(server, got, false)));
    CHECK(acked);
    REQUIRE(sent.size() == 4);
    for (std::size_t i = 0; i < sent.size(); ++i) CHECK(sent[i].seq == static_cast<std::int64_t>(i));
    CHECK(sent[2].deferred);
    CHECK_FALSE(sent[3].deferred);
    REQUIRE(got.messages.size() == 4);
    for (int i = 0; i < 3; ++i) CHECK(got.messages[i] == deferred);
    auto committed = deferred;
    committed[5] = std::byte{flags::gorilla};
    CHECK(got.messages[3] == committed);
}

TEMPLATE_TEST_CASE("pipeline<M>: a window full of deferred frames sends the last one as a commit", "[pipeline]",
                   framed_stack, ws_stack) {
    stack_fixture<TestType> f;
    using M = typename stack_fixture<TestType>::M;
    auto& [r, ends, client, server, got] = f;
    std::vector<pipeline_base::sent> sent;
    auto run = [&]() -> task<void> {
        pipeline_base::options o;
        o.window = 4;
        pipeline<M> p(std::move(client), o);
        const auto m = message_of(flags::defer_commit, 10, 1);
        const auto pieces = pieces_of(m);
        // Three deferred frames fill the window but its last slot; the
        // fourth cannot wait for an OK that needs a commit, so it commits.
        for (int i = 0; i < 4; ++i) {
            auto s = co_await p.send(pieces, true);
            sent.push_back(s.value());
        }
        auto w = co_await p.wait_acked(3, ack_level::ok);
        CHECK(w);
        CHECK(p.in_flight() == 0);
        p.next_layer().shutdown();
    };
    r.block_on(when_all(run(), serve(server, got, false)));
    REQUIRE(sent.size() == 4);
    CHECK(sent[0].deferred);
    CHECK(sent[2].deferred);
    CHECK_FALSE(sent[3].deferred);
    REQUIRE(got.messages.size() == 4);
    CHECK((std::to_integer<unsigned>(got.messages[3][5]) & flags::defer_commit) == 0);
}

TEMPLATE_TEST_CASE("pipeline<M>: take_unacked gives back every unacknowledged message byte for byte, control frames left out",
                   "[pipeline]", framed_stack, ws_stack) {
    stack_fixture<TestType> f;
    using M = typename stack_fixture<TestType>::M;
    auto& [r, ends, client, server, got] = f;
    replay_queue kept;
    const auto control = message_of(flags::defer_commit, 5, 9);
    const auto a = message_of(flags::defer_commit, 300, 2);
    const auto b = message_of(0, 70000, 3);  // a commit nobody acknowledges, over 64 KiB
    auto run = [&]() -> task<void> {
        pipeline<M> p(std::move(client), {});
        // Named: a Catch macro may evaluate its expression twice.
        const auto pc = pieces_of(control), pa = pieces_of(a), pb = pieces_of(b);
        auto c = co_await p.send_control(pc);
        auto sa = co_await p.send(pa, true);
        auto sb = co_await p.send(pb, false);
        CHECK(c);
        CHECK(sa);
        CHECK(sb);
        CHECK(p.in_flight() == 3);
        kept = p.take_unacked();
        CHECK(p.in_flight() == 0);
        p.next_layer().shutdown();
    };
    r.block_on(when_all(run(), serve(server, got, true)));
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].first == a);
    CHECK(kept[0].second);
    CHECK(kept[1].first == b);
    CHECK_FALSE(kept[1].second);
}

TEMPLATE_TEST_CASE("pipeline<M>: replay sends kept messages on a new stream, renumbered from 0", "[pipeline]",
                   framed_stack, ws_stack) {
    stack_fixture<TestType> f;
    using M = typename stack_fixture<TestType>::M;
    auto& [r, ends, client, server, got] = f;
    const auto a = message_of(flags::defer_commit, 40, 4);
    const auto b = message_of(0, 40, 5);
    replay_queue frames{{a, true}, {b, false}};
    result<void> acked = make_error_code(qwire::errc::invalid_argument);
    auto run = [&]() -> task<void> {
        pipeline<M> p(std::move(client), {});
        auto rp = co_await p.replay(frames);
        CHECK(rp);
        CHECK(frames.empty());
        acked = co_await p.wait_acked(1, ack_level::ok);
        p.next_layer().shutdown();
    };
    r.block_on(when_all(run(), serve(server, got, false)));
    CHECK(acked);
    REQUIRE(got.messages.size() == 2);
    CHECK(got.messages[0] == a);
    CHECK(got.messages[1] == b);
}

TEST_CASE("pipeline<M>: an error status from the server fails the pipeline with its text") {
    reactor r;
    auto ends = framed_stack::make();
    auto& client = ends.first;
    auto& server = ends.second;
    result<void> acked;
    std::string text;
    auto refuse = [](framed_pipe& m) -> task<void> {
        auto got = co_await m.receive();
        if (!got) co_return;
        response bad;
        bad.status = status::parse_error;
        bad.sequence = 0;
        bad.message = "bad column 'px' at offset 12";
        const auto bytes = encode_response(bad);
        const const_buffer piece = buffer(std::span<const std::byte>(bytes));
        (void)co_await m.send(std::span(&piece, 1));
        (void)co_await m.receive();  // until the client goes
    };
    auto run = [&]() -> task<void> {
        pipeline<framed_pipe> p(std::move(client), {});
        const auto m = message_of(0, 10, 1);
        const auto pieces = pieces_of(m);
        auto sent = co_await p.send(pieces, false);
        CHECK(sent);
        acked = co_await p.wait_acked(0, ack_level::ok);
        text = std::string(p.failure().detail());
        CHECK(p.must_close());
        p.next_layer().shutdown();
    };
    r.block_on(when_all(run(), refuse(server)));
    CHECK_FALSE(acked);
    CHECK(acked.error() == status_error(status::parse_error));
    CHECK(text == "bad column 'px' at offset 12");
}
