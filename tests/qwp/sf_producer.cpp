// A producer for the store-and-forward crash test: sends rows 0..N-1 of
// table sf (id LONG, designated timestamp id ns) in batches through a
// sender with the given connect string, committing every 4 batches, and
// records in the progress file how many rows the sender has taken (a flush
// that returned). Started again after a kill -9, it reads the progress
// file and goes on from there; the sender replays from sf_dir what the
// killed run had stored and no OK covered. Prints "took N" after each
// flush and "done" at the end.
//
//     sf_producer CONF ROWS BATCH PROGRESS_FILE
#include <qwire/proto/qwp/sender.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace qwire;

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: sf_producer CONF ROWS BATCH PROGRESS_FILE\n");
        return 2;
    }
    const std::string conf = argv[1], progress = argv[4];
    const std::size_t rows = std::strtoull(argv[2], nullptr, 10), batch = std::strtoull(argv[3], nullptr, 10);
    const int fd = ::open(progress.c_str(), O_CREAT | O_RDWR, 0644);
    if (fd < 0 || rows == 0 || batch == 0) return 2;
    char text[32] = {};
    std::size_t from = 0;
    if (::pread(fd, text, sizeof text - 1, 0) > 0) from = std::strtoull(text, nullptr, 10);

    reactor r;
    auto run = [&]() -> task<int> {
        auto s = co_await qwp::sender::connect(conf);
        if (!s) {
            std::fprintf(stderr, "connect: %s\n", s.error().message().c_str());
            co_return 1;
        }
        std::printf("recovered %llu\n", static_cast<unsigned long long>(s->counters().recovered_frames));
        std::fflush(stdout);
        std::vector<std::int64_t> id(batch), ts(batch);
        std::size_t batches = 0;
        for (std::size_t at = from; at < rows; at += batch) {
            const std::size_t n = std::min(batch, rows - at);
            for (std::size_t i = 0; i < n; ++i) id[i] = ts[i] = static_cast<std::int64_t>(at + i);
            qwp::chunk c("sf", n);
            c.column("id", std::span<const std::int64_t>(id.data(), n)).designated(std::span<const std::int64_t>(ts.data(), n));
            auto f = co_await s->flush(c);
            if (!f) {
                std::fprintf(stderr, "flush: %s\n", f.error().message().c_str());
                co_return 1;
            }
            // Taken: from here the sender (and its store) answers for these rows.
            const int len = std::snprintf(text, sizeof text, "%020zu", at + n);
            if (::pwrite(fd, text, static_cast<std::size_t>(len), 0) != len) co_return 1;
            std::printf("took %zu\n", at + n);
            std::fflush(stdout);
            if (++batches % 4 == 0) {
                auto y = co_await s->sync();
                if (!y) {
                    std::fprintf(stderr, "sync: %s\n", y.error().message().c_str());
                    co_return 1;
                }
            }
        }
        auto y = co_await s->sync();
        if (!y) {
            std::fprintf(stderr, "sync: %s\n", y.error().message().c_str());
            co_return 1;
        }
        std::printf("done %zu\n", s->stored_frames());
        co_return 0;
    };
    return r.block_on(run());
}
