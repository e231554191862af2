#include <qwire/proto/qwp/sender.hpp>

#include <qwire/core/timer.hpp>
#include <qwire/proto/qwp/decoder.hpp>

#include <algorithm>
#include <deque>
#include <optional>

namespace qwire::qwp {

struct sender::impl {
    config cfg;
    ingress_connector connector;
    server_info info;
    symbol_dict dict;
    message_builder mb;
    std::unique_ptr<pipeline_base> pipe;
    std::size_t addr = 0;
    bool first_frame = true;
    bool uncommitted = false;       // deferred frames since the last commit frame
    std::int64_t last_commit = -1;  // its sequence
    error terminal;
    error last;
    stats st;
    std::unique_ptr<frame_store> store;  // sf_dir
    bool ever_connected = false;
    // initial_connect_retry=async: no connection yet; frames queue in
    // `unsent` (and the store) and a flush tries to connect again from
    // next_try on.
    bool offline = false;
    clock::time_point next_try{};
    std::chrono::milliseconds offline_backoff{0};
    std::size_t offline_bytes = 0;  // of the frames queued while offline

    explicit impl(config c)
        : cfg(std::move(c)), dict(cfg.max_symbols), mb(dict, encode_options{cfg.gorilla}) {}

    std::size_t cap() const noexcept {
        const std::size_t server = info.max_batch_size * 9 / 10;
        return cfg.max_batch_bytes ? std::min(cfg.max_batch_bytes, info.max_batch_size) : server;
    }

    // Frames written on earlier connections and not yet covered by an OK,
    // oldest first, waiting to be replayed. Kept here, not in a local, so a
    // reconnect that fails halfway through its replay loses none of them.
    replay_queue unsent;

    // Moves the dead pipeline's unacknowledged frames in front of those
    // still waiting from an earlier attempt (they were written before them).
    void take_unacked() {
        if (!pipe) return;
        auto frames = pipe->take_unacked();
        for (auto& f : unsent) frames.push_back(std::move(f));
        unsent = std::move(frames);
        pipe.reset();
    }

    const config::address& current_address() const { return cfg.addrs[addr % cfg.addrs.size()]; }

    void emit(sender_event::kind k, const config::address* a = nullptr, error cause = {}, std::size_t frames = 0) {
        if (!cfg.on_event) return;
        sender_event e{k, a ? a->host : std::string(), a ? a->port : std::uint16_t{0}, frames, std::move(cause)};
        cfg.on_event(e);
    }

    // Store-and-forward: the store holds, in order, exactly the frames kept
    // for replay (in the pipeline or waiting in `unsent`); what it holds
    // beyond them has been acknowledged and is released.
    result<void> release_acked() {
        if (!store) return {};
        const std::size_t kept = (pipe ? pipe->kept_frames() : 0) + unsent.size();
        if (store->pending() > kept) return store->release(store->pending() - kept);
        return {};
    }

    // Before a frame goes into the store: its new dictionary entries go to
    // the store's log, and room is made (acknowledged frames released,
    // waiting for the last commit's OK when that frees some) within
    // sf_append_deadline_millis.
    task<result<void>> store_room(std::size_t size, op_options o) {
        if (dict.size() > store->dict_logged()) {
            std::vector<std::string_view> names;
            for (std::size_t i = store->dict_logged(); i < dict.size(); ++i) names.push_back(dict.at(i));
            auto d = store->append_dict(names);
            if (!d) co_return d;
        }
        auto r = release_acked();
        if (!r) co_return r;
        const auto deadline = after(cfg.sf_append_deadline);
        while (!store->fits(size) && pipe && last_commit >= 0 && pipe->acked() < last_commit && clock::now() < deadline) {
            auto w = co_await pipe->wait_acked(last_commit, ack_level::ok, o.cut_to(deadline));
            if (!w) break;
            r = release_acked();
            if (!r) co_return r;
        }
        if (store->fits(size)) co_return result<void>{};
        co_return error(errc::over_budget, "sf_max_total_bytes (" + std::to_string(store->options().max_total_bytes) + "): " +
                                               std::to_string(store->bytes()) + " bytes wait for acknowledgement; sync() frees them");
    }

    // Unauthorized, bad request, version mismatch, no durable acks: none of
    // them is retriable. A cancel ends the attempt too.
    static bool terminal_error(const error& err) { return err == std::errc::operation_canceled || !retriable(err); }

    // Starts the reconnect budget at the first failure; whether it is spent.
    bool out_of_time(std::optional<clock::time_point>& first_failure) const {
        if (!first_failure) first_failure = clock::now();
        return clock::now() >= *first_failure + cfg.reconnect_max_duration;
    }

    // On a new connection: registers the symbol dictionary again, then
    // replays the frames no OK covered.
    task<result<void>> catch_up(op_options o) {
        dict.forget_sent();
        first_frame = true;
        // Ids the replayed frames (and later ones) use, registered again.
        std::size_t from = 0;
        while (from < dict.size()) {
            const std::size_t to = catchup_end(dict, from, cap());
            const auto msg = catchup_message(dict, from, to);
            const const_buffer piece = buffer(std::span<const std::byte>(msg));
            auto s = co_await pipe->send_control(std::span(&piece, 1), o);
            if (!s) co_return s.error();
            from = to;
        }
        dict.mark_sent();
        const std::size_t replaying = unsent.size();
        if (!unsent.empty()) {
            first_frame = false;
            emit(sender_event::kind::replaying, &current_address(), {}, replaying);
        }
        auto rp = co_await pipe->replay(unsent, o);
        st.replayed_frames += replaying - unsent.size();
        if (!rp) co_return rp.error();
        // Sequences restarted: the next sync sends a fresh commit frame.
        uncommitted = true;
        last_commit = -1;
        co_return result<void>{};
    }

    // Connects to the next address that answers and catches up, retrying
    // (with backoff, across the addresses) until reconnect_max_duration has
    // passed since `since`; a failure during the catch-up is retried the
    // same way as a failed connect.
    // `initial`: the sender's first connection (one pass over the addresses
    // unless initial_connect_retry asks for retries; `one_pass` forces one).
    task<result<void>> reconnect(op_options o, bool initial, clock::time_point since = clock::now(), bool one_pass = false) {
        take_unacked();
        const bool first = !ever_connected;
        const auto give_up = since + cfg.reconnect_max_duration;
        auto backoff = cfg.reconnect_initial_backoff;
        error err;
        for (std::size_t attempt = 0;; ++attempt) {
            const config::address& a = current_address();
            auto r = co_await connector(cfg, a, o);
            if (r) {
                info = std::move(r->info);
                pipe = std::move(r->pipe);
                auto c = co_await catch_up(o);
                if (c) {
                    emit(first ? sender_event::kind::connected : sender_event::kind::reconnected, &a);
                    ever_connected = true;
                    break;
                }
                err = c.error();
                take_unacked();
            } else {
                err = r.error();
            }
            emit(sender_event::kind::endpoint_failed, &a, err);
            if (terminal_error(err)) co_return err;
            ++addr;
            if ((one_pass || (initial && cfg.initial_connect_retry != config::connect_retry::sync)) &&
                attempt + 1 >= cfg.addrs.size())
                co_return err;
            if ((attempt + 1) % cfg.addrs.size() == 0) {
                if (clock::now() + backoff > give_up) co_return err;
                auto slept = co_await sleep_for(backoff, o.stop);
                if (!slept) co_return slept.error();
                backoff = std::min(backoff * 2, cfg.reconnect_max_backoff);
            }
        }
        if (!first) ++st.reconnects;
        offline = false;
        offline_bytes = 0;
        co_return result<void>{};
    }

    // Handles a failure: terminal errors stick, retriable ones reconnect
    // (within reconnect_max_duration of `since`, the first failure).
    task<result<void>> recover(error ec, op_options o, clock::time_point since = clock::now()) {
        // The pipeline's failure says more (the server's text) when it is
        // what ended the attempt.
        if (pipe && pipe->failure() == ec) ec = pipe->failure();
        last = ec;
        const bool refused = ec.code().category() == category() && ec.code().value() >= static_cast<int>(errc::schema_mismatch) &&
                             ec.code().value() <= static_cast<int>(errc::unknown_status) && !retriable(ec);
        if (ec != std::errc::operation_canceled && ec != std::errc::timed_out)
            emit(refused ? sender_event::kind::rejected : sender_event::kind::disconnected, &current_address(), ec);
        if (!retriable(ec) || ec == std::errc::operation_canceled || ec == std::errc::timed_out) {
            if (ec != std::errc::operation_canceled && ec != std::errc::timed_out) terminal = ec;
            co_return ec;
        }
        auto r = co_await reconnect(o, false, since);
        if (!r) {
            last = r.error();
            if (!retriable(r.error())) terminal = r.error();
            co_return r.error();
        }
        co_return result<void>{};
    }

    // Sends the builder's message. A frame that failed after it entered the
    // pipeline is kept there and replayed by the reconnect; one that never
    // entered it is sent again on the new connection. Either way the rows
    // are delivered or an error is returned: the loop ends only with
    // success, a terminal error, or reconnect_max_duration spent.
    task<result<void>> send_built(bool want_defer, op_options o) {
        std::optional<clock::time_point> first_failure;
        bool stored = false;  // this message is the store's newest frame
        // A frame that never reached the pipeline leaves the store again.
        auto unstore = [&] {
            if (stored) (void)store->drop_newest();
            stored = false;
        };
        if (store) {
            auto room = co_await store_room(mb.message_size(), o);
            if (!room) co_return room;
        }
        if (!pipe) {
            // Offline (initial_connect_retry=async): the frame waits in the
            // queue the first connection replays.
            const auto pieces = mb.finish(want_defer ? flags::defer_commit : 0);
            std::vector<std::byte> bytes;
            for (const auto& p : pieces) {
                const auto* b = static_cast<const std::byte*>(p.data);
                bytes.insert(bytes.end(), b, b + p.size);
            }
            if (!store && offline_bytes + bytes.size() > cfg.max_in_flight_bytes)
                co_return error(errc::over_budget, "no connection yet and max_in_flight_bytes (" +
                                                       std::to_string(cfg.max_in_flight_bytes) +
                                                       ") of frames wait for it; give sf_dir to queue more");
            if (store) {
                auto a = store->append(pieces, want_defer);
                if (!a) co_return a;
            }
            offline_bytes += bytes.size();
            unsent.emplace_back(std::move(bytes), want_defer);
            ++st.frames;
            uncommitted = true;
            mb.clear();
            co_return result<void>{};
        }
        for (;;) {
            if (terminal) {
                unstore();
                co_return terminal;
            }
            const bool deferred = want_defer && !(first_frame && cfg.first_frame_commits);
            const auto pieces = mb.finish(deferred ? flags::defer_commit : 0);
            const std::int64_t seq_before = pipe->next_sequence();
            std::size_t size = 0;
            for (const auto& p : pieces) size += p.size;
            if (store) {
                unstore();  // an earlier attempt's copy (its dictionary delta differs)
                auto a = store->append(pieces, deferred);
                if (!a) co_return a;
                stored = true;
            }
            auto seq = co_await pipe->send(pieces, deferred, o);
            if (seq) {
                ++st.frames;
                st.bytes += size;
                first_frame = false;
                if (seq->deferred) {
                    uncommitted = true;
                } else {
                    uncommitted = false;
                    last_commit = seq->seq;
                }
                mb.clear();
                co_return result<void>{};
            }
            const bool kept = pipe->next_sequence() > seq_before;
            if (out_of_time(first_failure)) {
                if (!kept) unstore();
                co_return seq.error();
            }
            auto r = co_await recover(seq.error(), o, *first_failure);
            if (!r) {
                if (!kept) unstore();
                co_return r;
            }
            if (kept) {
                // Replayed on the new connection: it counts as sent.
                ++st.frames;
                st.bytes += size;
                first_frame = false;
                uncommitted = true;
                mb.clear();
                co_return result<void>{};
            }
        }
    }

    // Rows [from, from + count) of c, halved until each piece fits.
    task<result<void>> send_split(const chunk& c, std::size_t from, std::size_t count, op_options o) {
        mb.clear();
        auto e = encode(mb, c, from, count);
        if (!e) co_return e;
        if (mb.message_size() <= cap()) co_return co_await send_built(true, o);
        mb.clear();
        if (count <= 1) co_return make_error_code(errc::frame_too_large);
        const std::size_t half = count / 2;
        auto a = co_await send_split(c, from, half, o);
        if (!a) co_return a;
        co_return co_await send_split(c, from + half, count - half, o);
    }

    task<result<void>> ensure(op_options o) {
        if (terminal) co_return terminal;
        if (pipe && !pipe->must_close()) co_return result<void>{};
        if (offline) {
            // Not connected yet: one pass over the addresses when the
            // backoff allows; the flush queues its frames either way.
            if (clock::now() < next_try) co_return result<void>{};
            auto r = co_await reconnect(o, true, clock::now(), true);
            if (r) co_return r;
            if (terminal_error(r.error()) && r.error() != std::errc::operation_canceled) co_return r;
            offline_backoff = std::min(std::max(offline_backoff * 2, cfg.reconnect_initial_backoff), cfg.reconnect_max_backoff);
            next_try = clock::now() + offline_backoff;
            co_return result<void>{};
        }
        const error ec = pipe ? pipe->failure() : error(errc::must_close);
        co_return co_await recover(ec, o);
    }

    task<result<void>> flush(std::span<const chunk> chunks, op_options o) {
        auto ok = co_await ensure(o);
        if (!ok) co_return ok;
        mb.clear();
        for (const chunk& c : chunks) {
            if (c.rows() == 0) continue;
            const auto before = mb.mark();
            auto e = encode(mb, c);
            if (!e) {
                mb.reset_to(before);
                co_return e;
            }
            if (mb.message_size() <= cap()) continue;
            mb.reset_to(before);
            if (mb.table_count() > 0) {
                auto s = co_await send_built(true, o);
                if (!s) co_return s;
            }
            auto s = co_await send_split(c, 0, c.rows(), o);
            if (!s) co_return s;
        }
        if (mb.table_count() > 0) {
            auto s = co_await send_built(true, o);
            if (!s) co_return s;
        }
        co_return stored_after_call();
    }

    // After a flush or sync: acknowledged frames leave the store, and the
    // durability mode may force what is there to the disk.
    result<void> stored_after_call() {
        if (!store) return {};
        auto r = release_acked();
        if (!r) return r;
        return store->after_flush();
    }

    task<result<void>> sync(ack_level level, op_options o) {
        if (cfg.request_timeout.count() > 0) o = o.cut_to(after(cfg.request_timeout));
        std::optional<clock::time_point> first_failure;
        for (;;) {
            if (offline) {
                // A sync needs the connection: wait for it within the budget.
                auto c = co_await reconnect(o, false);
                if (!c) co_return c;
            }
            auto ok = co_await ensure(o);
            if (!ok) co_return ok;
            if (uncommitted || last_commit < 0 || pipe->next_sequence() == 0) {
                mb.clear();
                auto s = co_await send_built(false, o);
                if (!s) co_return s;
                if (!pipe || pipe->must_close()) continue;
            }
            auto w = co_await pipe->wait_acked(last_commit, level, o);
            if (w) co_return stored_after_call();
            // The OK did not come: reconnect, replay, commit again, within
            // the reconnect budget counted from the first failure.
            if (out_of_time(first_failure)) co_return w;
            auto r = co_await recover(w.error(), o, *first_failure);
            if (!r) co_return r;
        }
    }
};

sender::sender(std::unique_ptr<impl> p) : p_(std::move(p)) {}
sender::sender(sender&&) noexcept = default;
sender& sender::operator=(sender&&) noexcept = default;
sender::~sender() = default;

task<result<sender>> sender::connect(std::string_view conf, op_options o) {
    auto c = config::parse(conf);
    if (!c) co_return c.error();
    co_return co_await connect(std::move(*c), o);
}

task<result<sender>> sender::connect(config c, op_options o) {
    co_return co_await connect_with(std::move(c), ingress_connector{}, o);
}

task<result<sender>> sender::connect_with(config c, ingress_connector connector, op_options o) {
    auto p = std::make_unique<impl>(std::move(c));
    if (!p->cfg.sf.dir.empty()) {
        // What an earlier run of this sender_id left: its dictionary, then
        // the frames no OK covered, replayed by the first connection.
        frame_store::recovered old;
        auto st = frame_store::open(p->cfg.sf, old);
        if (!st) co_return st.error();
        for (std::size_t i = 0; i < old.dict.size(); ++i) {
            auto id = p->dict.intern(old.dict[i]);
            if (!id) co_return id.error();
            if (*id != i)
                co_return error(errc::bad_config, "sf_dir: the dictionary log repeats '" + old.dict[i] + "' (slot " +
                                                      p->cfg.sf.dir + "/" + p->cfg.sf.sender_id + ")");
        }
        p->st.recovered_frames = old.frames.size();
        p->st.recovered_cut_bytes = old.cut_bytes;
        p->unsent = std::move(old.frames);
        p->store = std::move(*st);
    }
    p->connector = std::move(connector);
    if (!p->connector)
        p->connector = [](const config& cfg, const config::address& a, op_options oo) {
            return open_ingress(cfg, a, std::move(oo));
        };
    auto r = co_await p->reconnect(o, true);
    if (!r) {
        if (p->cfg.initial_connect_retry != config::connect_retry::async || impl::terminal_error(r.error()))
            co_return r.error();
        // Start without a connection; flushes queue until one answers.
        p->offline = true;
        p->last = r.error();
        p->offline_backoff = p->cfg.reconnect_initial_backoff;
        p->next_try = clock::now() + p->offline_backoff;
    }
    co_return sender(std::move(p));
}

task<result<void>> sender::flush(const chunk& c, op_options o) {
    co_return co_await p_->flush(std::span(&c, 1), o);
}

task<result<void>> sender::flush(std::span<const chunk> chunks, op_options o) { co_return co_await p_->flush(chunks, o); }

task<result<void>> sender::flush(row_buffer& rows, op_options o) {
    if (rows.error()) co_return rows.error();
    const auto chunks = rows.chunks();
    auto r = co_await p_->flush(chunks, o);
    if (r) rows.clear();
    co_return r;
}

task<result<void>> sender::sync(ack_level level, op_options o) { co_return co_await p_->sync(level, o); }

task<result<void>> sender::close(op_options o) {
    auto s = co_await p_->sync(ack_level::ok, o);
    if (!s) co_return s;
    if (!p_->pipe) co_return make_error_code(errc::must_close);
    co_return co_await p_->pipe->close(o);
}

const server_info& sender::server() const noexcept { return p_->info; }
const config& sender::conf() const noexcept { return p_->cfg; }
bool sender::must_close() const noexcept { return static_cast<bool>(p_->terminal); }
const error& sender::last_error() const noexcept { return p_->last; }
const sender::stats& sender::counters() const noexcept { return p_->st; }
std::size_t sender::in_flight() const noexcept { return p_->pipe ? p_->pipe->in_flight() : 0; }
std::size_t sender::stored_frames() const noexcept { return p_->store ? p_->store->pending() : 0; }

}  // namespace qwire::qwp
