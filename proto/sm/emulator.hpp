// A Storage Manager emulator: what a DA is tested against without kdb
// Insights. One port answers q IPC (.sm.api.register, .sm.api.getStatus)
// and REST (POST /register, GET /status), told apart by the first bytes as
// a q process tells HTTP from its handshake. It keeps a stream mount and
// disk mounts (IDB, HDB) and, on an end of interval or of day:
//
//   1. publishes _prtnEnd (signal eoi/eod, endTS) on the stream and learns
//      its position by following the stream, as SM does;
//   2. sends each disk mount's new reload signal to its DAs (q IPC: an
//      async (`callback; signal); REST: a POST of the signal's JSON) and
//      waits for their completion, each up to its registration's timeout;
//   3. then the stream mount's signal (minTS = endTS: the rows before it
//      are on disk now), not waited for;
//   4. publishes a _reload row per mount reloaded.
//
// The commands: q `.sm.eoi[]` / `.sm.eod[]` (or with an endTS timestamp),
// REST POST /eoi and /eod (optionally {"endTS": "..."}); the answer is the
// status. Timeouts asked for are capped by reload_timeout.
#pragma once

#include <qwire/core/notifier.hpp>
#include <qwire/io/prefixed_stream.hpp>
#include <qwire/proto/http/server.hpp>
#include <qwire/proto/kdb/rt.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/sm/rest.hpp>

#include <map>
#include <set>

namespace qwire::sm {

enum class mount_kind { stream, idb, hdb };

struct mount_config {
    std::string name;
    mount_kind kind = mount_kind::stream;
};

struct emulator_options {
    emulator_options() {}
    std::vector<mount_config> mounts{{"rdb", mount_kind::stream}, {"idb", mount_kind::idb}, {"hdb", mount_kind::hdb}};
    // The longest SM waits for a DA's completion, whatever the DA asked for.
    std::chrono::nanoseconds reload_timeout = std::chrono::seconds(30);
    client_options names;  // the q functions it serves
    rest_options rest;     // the REST paths it serves, and its callbacks' timeout
    kdb::server_options kdb;
    http::server_limits http;
    // The time the mounts' first signals start from (default: now).
    std::optional<timestamp_t> start;
};

class emulator {
public:
    explicit emulator(emulator_options o = {});
    ~emulator();
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    // The stream (a tickerplant with the internal tables) to publish on.
    void set_publisher(kdb::rt::publisher p);
    // Follows the stream on c (live) to learn each _prtnEnd's position;
    // runs until c ends. Without it, signals carry pos = the next position
    // the tickerplant reports after the push.
    task<result<void>> follow_stream(kdb::connection c);

    // q IPC and HTTP on one acceptor until st is stopped.
    task<void> serve(acceptor& a, std::stop_token st = {});
    // One connection, either protocol, over any byte stream.
    template <byte_stream S>
    task<void> serve_connection(S s, std::string peer_address = {});

    task<result<std::vector<mount_status>>> end_of_interval(std::optional<timestamp_t> end = {});
    task<result<std::vector<mount_status>>> end_of_day(std::optional<timestamp_t> end = {});

    std::vector<mount_status> status() const;
    // An SM that is not ready answers 'state / 503 to registrations.
    void set_ready(bool ready) noexcept { ready_ = ready; }
    kdb::server& q_server() noexcept { return q_; }
    // DAs registered now (q IPC and REST).
    std::size_t registrations() const noexcept { return regs_->size(); }

private:
    struct registration {
        std::string mount;
        std::optional<kdb::peer> peer;  // q IPC
        std::string callback;           // q: the function; REST: the URL
        std::chrono::nanoseconds timeout{};
    };
    struct mount_state {
        mount_kind kind;
        reload_signal last;
    };
    using registration_list = std::vector<registration>;

    task<result<kdb::k>> on_sync(kdb::peer& p, kdb::k x);
    task<void> on_async(kdb::peer& p, kdb::k x);
    task<http::response> on_http(http::request& r);
    result<reload_signal> add_registration(registration reg);
    task<result<std::vector<mount_status>>> migrate(bool end_of_day, std::optional<timestamp_t> end);
    task<void> signal_one(registration reg, reload_signal s);

    emulator_options o_;
    kdb::server q_;
    std::map<std::string, mount_state> mounts_;
    // Replaced, never changed in place: a reload round iterates its copy
    // across co_await while DAs come and go.
    std::shared_ptr<const registration_list> regs_ = std::make_shared<registration_list>();
    std::optional<kdb::rt::publisher> pub_;
    // _prtnEnd positions seen on the stream, by endTS.
    std::map<timestamp_t, std::int64_t> partition_positions_;
    notifier changed_;                                  // a completion or a _prtnEnd arrived
    std::set<std::pair<std::uint64_t, std::string>> awaiting_;  // (peer, mount) completions outstanding
    bool ready_ = true;
    bool migrating_ = false;
    bool following_ = false;
    scope background_;  // migrations a q client asked for, answered when done
    timestamp_t interval_start_{};
    std::stop_source stop_;
};

namespace detail {
// Whether the first bytes of a connection are an HTTP request line's
// method (nullopt: not enough bytes yet to tell).
std::optional<bool> looks_like_http(std::span<const std::byte> first);
}  // namespace detail

template <byte_stream S>
task<void> emulator::serve_connection(S s, std::string peer_address) {
    byte_buffer in;
    const op_options first(stop_.get_token(), clock::now() + o_.http.read_timeout);
    std::optional<bool> http;
    while (!(http = detail::looks_like_http(in.data()))) {
        auto space = in.prepare(64);
        auto n = co_await s.read_some(space.first(8), first);
        if (!n) co_return;
        in.commit(*n);
    }
    if (*http) {
        co_await http::serve_requests(s, in, [this](http::request& r) { return on_http(r); }, o_.http, stop_.get_token());
        close_stream(s);
        co_return;
    }
    co_await q_.serve_connection(prefixed_stream<S>(std::move(s), std::move(in)), std::move(peer_address));
}

}  // namespace qwire::sm
