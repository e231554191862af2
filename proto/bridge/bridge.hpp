// The tickerplant-to-QuestDB bridge: every update of a kdb+ tickerplant,
// from a position on, into QuestDB over QWP, once.
//
//     bridge::options o;
//     o.state_file = "/var/lib/bridge/state";
//     auto r = co_await bridge::run("127.0.0.1:5010", "ws::addr=db:9000;", o);
//
// It follows the tickerplant through the RT interface (rt::subscription:
// the logs from the position, then live), maps each table's rows to QWP
// columns (mapping.hpp), batches them per table (rows, bytes, time), and
// sends them as deferred frames, committing at a cadence. Reading waits
// while the QWP window is full, so a slow QuestDB slows the reading of the
// tickerplant; nothing is buffered without bound.
//
// Exactly once across restarts: each commit carries, in the same
// transaction as the rows, a row of the progress table (bridge id, last
// position) and is followed by the state file's update; on start the bridge
// resumes after the newer of the two (the target's is read through QWP
// egress when the server has it). A bridge killed at any moment resumes at
// the first message whose rows were not committed. (A lost OK on a server
// failure makes the sender replay frames; with DEDUP UPSERT KEYS on the
// target those replays are absorbed too.)
#pragma once

#include <qwire/proto/bridge/mapping.hpp>
#include <qwire/proto/kdb/rt.hpp>
#include <qwire/proto/qwp/config.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace qwire::bridge {

struct options {
    options() {}
    std::vector<std::string> tables;  // empty: every table but internal ones ('_'...)
    std::vector<std::string> syms;    // empty: every sym
    // Per table; others: `time` (when they have it), else the server's time.
    std::map<std::string, timestamp_source, std::less<>> timestamps;
    std::size_t batch_rows = 100'000;                // a table's batch goes at this many rows
    std::size_t batch_bytes = 4 << 20;               // or this many bytes
    std::chrono::milliseconds batch_time{50};        // or when its first row has waited this long
    std::chrono::milliseconds commit_time{250};      // commits at least this often while rows flow
    std::string state_file;                          // empty: none
    std::string progress_table = "qwire_bridge_progress";  // empty: none
    std::string bridge_id = "bridge";
    // Where to start when neither the state file nor the target says:
    // a position, or null (live: the tickerplant's next message).
    std::int64_t from = kdb::null_long;
    // The tickerplant connection's pushed messages kept in memory.
    std::size_t max_inbox = 64;
};

struct status {
    std::uint64_t messages = 0;  // tickerplant messages read
    std::uint64_t rows = 0;      // rows sent
    std::uint64_t frames = 0;
    std::uint64_t commits = 0;
    std::int64_t read_pos = kdb::null_long;       // the last message read
    std::int64_t committed_pos = kdb::null_long;  // the last message whose rows are committed
    std::int64_t resumed_from = kdb::null_long;   // where this run started
    std::int64_t live_pos = kdb::null_long;       // the tickerplant's next live message at the last look
    std::chrono::nanoseconds last_commit_latency{0};
    // Now minus the designated timestamp of the newest row read (for tick
    // tables, the tickerplant's stamp): how far behind the bridge runs.
    std::chrono::nanoseconds lag{0};
    std::size_t in_flight = 0;   // QWP frames not yet acknowledged
};

// Runs the bridge until the tickerplant connection ends (its error is the
// result, after everything read has been committed) or o.stop. progress,
// when set, is called once it follows (commits == 0) and after every commit.
// tickerplant: a kdb+ address (kdb::parse_address); target: a QWP connect
// string.
task<result<void>> run(std::string tickerplant, std::string target, options opt,
                       std::function<void(const status&)> progress = {}, op_options o = {});

// The first position whose rows a bridge with these options has not
// committed (the state file's, or the target's when newer); null when
// neither has one.
task<result<std::int64_t>> resume_position(std::string target, const options& opt);

}  // namespace qwire::bridge
