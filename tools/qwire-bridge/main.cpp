// qwire-bridge: a kdb+ tickerplant into QuestDB over QWP, every row once.
//
//     qwire-bridge --tp 127.0.0.1:5010 --conf "ws::addr=127.0.0.1:9000;" --tables trade,quote --state bridge.state
//
// Follows the tickerplant (from the state file's position through its
// logs, then live), writes each table's rows as QWP column chunks and
// commits at a cadence; a restart resumes after the last committed
// position. Progress: one status line on a terminal, a log line every
// --status-ms otherwise.
#include "../../examples/kdb/kdb_cli.hpp"

#include <qwire/core/reactor.hpp>
#include <qwire/proto/bridge/bridge.hpp>
#include <qwire/proto/kdb/rt.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace qwire;

namespace {

std::string position_text(std::int64_t pos) {
    if (pos == kdb::null_long || pos < 0) return "none";
    char b[40];
    std::snprintf(b, sizeof b, "%lld.%011lld", static_cast<long long>(pos / 100'000'000'000LL), static_cast<long long>(pos % 100'000'000'000LL));
    return b;
}

std::string si(double v) {
    char b[32];
    if (v >= 1e6) std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
    else if (v >= 1e3) std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
    else std::snprintf(b, sizeof b, "%.0f", v);
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"qwire-bridge: a kdb+ tickerplant into QuestDB over QWP (rows committed once, resumable)"};
    std::string tp, conf, state, progress_table = "qwire_bridge_progress", id = "bridge";
    std::vector<std::string> tables, syms, timestamps;
    std::int64_t from = kdb::null_long;
    bridge::options opt;
    std::size_t batch_rows = opt.batch_rows, batch_bytes = opt.batch_bytes;
    long batch_ms = opt.batch_time.count(), commit_ms = opt.commit_time.count(), status_ms = 1000;
    bool quiet = false;
    app.add_option("--tp", tp, std::string("the tickerplant: ") + examples::address_help)
        ->required()
        ->check(examples::parsed_by([](const std::string& v) { return kdb::parse_address(v); }, "ADDRESS"));
    app.add_option("--conf", conf, "QuestDB's connect string, e.g. \"ws::addr=127.0.0.1:9000;\"")
        ->required()
        ->check(examples::parsed_by([](const std::string& v) { return qwp::config::parse(v); }, "CONNECT"));
    app.add_option("--tables", tables, "tables to follow (default: all but internal ones)")->delimiter(',');
    app.add_option("--syms", syms, "syms to follow (default: all)")->delimiter(',');
    app.add_option("--timestamp", timestamps,
                   "TABLE=COLUMN: the designated timestamp of TABLE (a timestamp, or a timespan on the update's date); "
                   "TABLE=server: QuestDB's clock (default: time, when the table has it)")
        ->check(CLI::Validator([](std::string& v) { return v.find('=') == std::string::npos ? std::string("expected TABLE=COLUMN") : std::string(); }, "TABLE=COLUMN"));
    app.add_option("--state", state, "file recording the first position not yet committed (default: none, no resume)");
    app.add_option("--from", from, "position to start at when neither the state file nor the target has one (default: live)");
    app.add_option("--batch-rows", batch_rows, "a table's rows go when this many wait")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))->capture_default_str();
    app.add_option("--batch-bytes", batch_bytes, "or when they take this many bytes")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 34))->capture_default_str();
    app.add_option("--batch-ms", batch_ms, "or when the oldest has waited this long")->check(CLI::Range(0L, 3'600'000L))->capture_default_str();
    app.add_option("--commit-ms", commit_ms, "commit at least this often while rows flow")->check(CLI::Range(0L, 3'600'000L))->capture_default_str();
    app.add_option("--progress-table", progress_table, "table in QuestDB recording each commit's position (\"\": none)")->capture_default_str();
    app.add_option("--id", id, "this bridge's name in the progress table")->capture_default_str();
    app.add_option("--status-ms", status_ms, "status at most every this many ms (a line on a terminal, a log line otherwise; 0: after every commit)")->check(CLI::Range(0L, 3'600'000L))->capture_default_str();
    app.add_flag("-q,--quiet", quiet, "no status output");
    if (auto rc = examples::parse(app, argc, argv)) return *rc;

    opt.tables = tables;
    opt.syms = syms;
    for (const auto& t : timestamps) {
        const auto eq = t.find('=');
        const std::string col = t.substr(eq + 1);
        opt.timestamps[t.substr(0, eq)] = col == "server" ? bridge::timestamp_source{"", true} : bridge::timestamp_source{col, false};
    }
    opt.state_file = state;
    opt.from = from;
    opt.batch_rows = batch_rows;
    opt.batch_bytes = batch_bytes;
    opt.batch_time = std::chrono::milliseconds(batch_ms);
    opt.commit_time = std::chrono::milliseconds(commit_ms);
    opt.progress_table = progress_table;
    opt.bridge_id = id;

    const bool tty = ::isatty(STDERR_FILENO) == 1;
    auto last_print = std::chrono::steady_clock::now() - std::chrono::hours(1);
    auto window_start = std::chrono::steady_clock::now();
    std::uint64_t window_rows = 0;
    auto report = [&](const bridge::status& s) {
        if (quiet) return;
        const auto now = std::chrono::steady_clock::now();
        if (s.commits == 0) {
            std::fprintf(stderr, "qwire-bridge: %s -> QuestDB, from position %s\n", tp.c_str(), position_text(s.resumed_from).c_str());
            return;
        }
        if (now - last_print < std::chrono::milliseconds(status_ms)) return;
        const double secs = std::chrono::duration<double>(now - window_start).count();
        const double rate = secs > 0 ? static_cast<double>(s.rows - window_rows) / secs : 0;
        window_start = now;
        window_rows = s.rows;
        last_print = now;
        std::fprintf(stderr, "%s%s rows, %s rows/s, %llu commits, commit %.2f ms, in flight %zu, lag %.1f ms, committed through %s%s",
                     tty ? "\r" : "", si(static_cast<double>(s.rows)).c_str(), si(rate).c_str(),
                     static_cast<unsigned long long>(s.commits), std::chrono::duration<double, std::milli>(s.last_commit_latency).count(),
                     s.in_flight, std::chrono::duration<double, std::milli>(s.lag).count(), position_text(s.committed_pos).c_str(),
                     tty ? "   " : "\n");
    };
    reactor r;
    bridge::status last;
    auto result = r.block_on([&]() -> task<qwire::result<void>> {
        co_return co_await bridge::run(tp, conf, opt, [&](const bridge::status& s) {
            last = s;
            report(s);
        });
    }());
    if (tty && !quiet) std::fputc('\n', stderr);
    const std::string why = result.error().message() + (result.error().detail().empty() ? "" : ": " + std::string(result.error().detail()));
    std::fprintf(stderr, "qwire-bridge: stopped (%s); %llu rows sent, committed through position %s\n", why.c_str(),
                 static_cast<unsigned long long>(last.rows), position_text(last.committed_pos).c_str());
    return 1;
}
