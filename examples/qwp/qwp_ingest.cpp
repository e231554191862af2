// qwp_ingest [--conf "ws::addr=127.0.0.1:9000;"] [--rows N] [--batch N] [--table NAME]
//
// Streams N synthetic L1 quotes as column chunks (the columns go out by
// reference), flushes each batch as a deferred frame with up to 128 in
// flight, commits with sync() every 10 batches, and prints rows/s, MB/s and
// the commit (ack) latency percentiles.
#include "../cli.hpp"

#include <qwire/proto/qwp/sender.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("Streams synthetic L1 quotes into a QWP server as column chunks, pipelined.", "qwp_ingest");
    std::string conf = "ws::addr=127.0.0.1:9000;", table = "quotes";
    std::size_t rows = 1'000'000, batch = 10'000;
    app.add_option("--conf", conf, "QuestDB connect string")
        ->check(examples::parsed_by([](const std::string& v) { return qwp::config::parse(v); }, "CONF"))
        ->capture_default_str();
    app.add_option("--rows", rows, "rows to send")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))->capture_default_str();
    app.add_option("--batch", batch, "rows per frame")->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))->capture_default_str();
    app.add_option("--table", table, "the table to write")->check(CLI::Validator(
        [](std::string& v) { return v.empty() ? std::string("a table name cannot be empty") : std::string(); }, "NAME"))
        ->capture_default_str();
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    // One batch of columns, reused with new timestamps.
    const std::vector<std::string> names = {"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "JPM"};
    std::vector<std::string_view> dict(names.begin(), names.end());
    std::vector<std::int32_t> sym(batch);
    std::vector<double> bid(batch), ask(batch);
    std::vector<std::int64_t> bid_size(batch), ask_size(batch), ts(batch);
    for (std::size_t i = 0; i < batch; ++i) {
        sym[i] = static_cast<std::int32_t>(i % names.size());
        // Prices in cents, divided once: each is the double nearest its
        // two-decimal value, so it reads back (and prints) as that value.
        bid[i] = static_cast<double>(10'000 + i % 100) / 100.0;
        ask[i] = static_cast<double>(10'001 + i % 100) / 100.0;
        bid_size[i] = static_cast<std::int64_t>(100 + i % 900);
        ask_size[i] = static_cast<std::int64_t>(200 + i % 800);
    }

    reactor r;
    auto run = [&]() -> task<int> {
        auto s = co_await qwp::sender::connect(conf);
        if (!s) {
            std::fprintf(stderr, "connect %s: %s\n", conf.c_str(), s.error().message().c_str());
            co_return 1;
        }
        std::vector<double> ack_us;
        const auto t0 = std::chrono::steady_clock::now();
        std::int64_t next_ts = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
        std::size_t sent = 0, batches = 0;
        while (sent < rows) {
            const std::size_t n = std::min(batch, rows - sent);
            for (std::size_t i = 0; i < n; ++i) ts[i] = next_ts++;
            qwp::chunk c(table, n);
            c.symbol<std::int32_t>("sym", std::span(sym).first(n), dict);
            c.column("bid", std::span<const double>(bid).first(n)).column("ask", std::span<const double>(ask).first(n));
            c.column("bid_size", std::span<const std::int64_t>(bid_size).first(n));
            c.column("ask_size", std::span<const std::int64_t>(ask_size).first(n));
            c.designated(std::span<const std::int64_t>(ts).first(n));
            auto f = co_await s->flush(c);
            if (!f) {
                std::fprintf(stderr, "flush: %s\n", f.error().message().c_str());
                co_return 1;
            }
            sent += n;
            if (++batches % 10 == 0 || sent == rows) {
                const auto a = std::chrono::steady_clock::now();
                auto y = co_await s->sync();
                if (!y) {
                    std::fprintf(stderr, "sync: %s\n", y.error().message().c_str());
                    co_return 1;
                }
                ack_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
            }
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::sort(ack_us.begin(), ack_us.end());
        auto pct = [&](double p) { return ack_us[std::min(ack_us.size() - 1, static_cast<std::size_t>(p * ack_us.size()))]; };
        std::printf("qwp_ingest: %zu rows in %.3f s: %.2f M rows/s, %.1f MB/s on the wire, %llu frames\n", sent, secs,
                    static_cast<double>(sent) / secs / 1e6, static_cast<double>(s->counters().bytes) / secs / 1e6,
                    static_cast<unsigned long long>(s->counters().frames));
        std::printf("commit ack latency (%zu syncs): p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
                    ack_us.size(), pct(0.5), pct(0.9), pct(0.99), ack_us.back());
        auto c = co_await s->close();
        co_return c ? 0 : 1;
    };
    return r.block_on(run());
}
