// The mutation driver the fuzz targets use when not built with libFuzzer:
// it feeds mutated copies of seed inputs (bit flips, random bytes, deletes,
// inserts, truncation) to the target for QWIRE_FUZZ_SECONDS (default 10).
//
// It prints its seed first (QWIRE_FUZZ_SEED=N repeats a run), and when the
// target crashes it writes the input to NAME-crash-SEED.bin in the working
// directory (or QWIRE_FUZZ_CRASH_DIR) before dying: on a signal, and on a
// sanitizer report when the sanitizer aborts (ASAN_OPTIONS and UBSAN_OPTIONS
// with abort_on_error=1, as tools/test.sh sets). `TARGET --replay FILE` runs
// one input.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace qwire::test {

namespace fuzz_detail {
// What the crash handler writes: set before every run of the target.
inline const std::uint8_t* current = nullptr;
inline std::size_t current_size = 0;
inline char crash_path[4096] = {};

inline void save_input() {
    // Only async-signal-safe calls here.
    if (crash_path[0]) {
        const int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            std::size_t done = 0;
            while (done < current_size) {
                const auto n = ::write(fd, current + done, current_size - done);
                if (n <= 0) break;
                done += static_cast<std::size_t>(n);
            }
            ::close(fd);
            static const char msg[] = "fuzz: the failing input is in ";
            (void)!::write(2, msg, sizeof msg - 1);
            (void)!::write(2, crash_path, std::strlen(crash_path));
            (void)!::write(2, "\n", 1);
        }
    }
    crash_path[0] = 0;  // once
}

inline void on_crash(int sig) {
    save_input();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}
}  // namespace fuzz_detail

template <class Target>
int run_mutations(const char* name, const std::vector<std::vector<std::uint8_t>>& corpus, Target target, int argc = 0,
                  char** argv = nullptr) {
    if (argc >= 3 && std::string(argv[1]) == "--replay") {
        std::ifstream f(argv[2], std::ios::binary);
        if (!f) {
            std::fprintf(stderr, "%s: cannot read %s\n", name, argv[2]);
            return 2;
        }
        const std::vector<std::uint8_t> x((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        target(x.data(), x.size());
        std::printf("%s: replayed %s (%zu bytes), no crash\n", name, argv[2], x.size());
        return 0;
    }
    const char* env = std::getenv("QWIRE_FUZZ_SECONDS");
    const double seconds = env ? std::atof(env) : 10.0;
    const char* seed_env = std::getenv("QWIRE_FUZZ_SEED");
    const std::uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
    const char* dir = std::getenv("QWIRE_FUZZ_CRASH_DIR");
    std::string file = name;
    for (auto& ch : file)
        if (ch == ' ' || ch == '/') ch = '_';
    std::snprintf(fuzz_detail::crash_path, sizeof fuzz_detail::crash_path, "%s/%s-crash-%llu.bin", dir ? dir : ".",
                  file.c_str(), static_cast<unsigned long long>(seed));
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, fuzz_detail::on_crash);

    std::printf("%s: seed %llu (QWIRE_FUZZ_SEED=%llu repeats this run)\n", name, static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seed));
    std::fflush(stdout);
    std::mt19937_64 rng(seed);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    std::uint64_t runs = 0;
    while (std::chrono::steady_clock::now() < until) {
        for (int batch = 0; batch < 256; ++batch, ++runs) {
            auto x = corpus[rng() % corpus.size()];
            const int edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits && !x.empty(); ++e) {
                const std::size_t at = rng() % x.size();
                switch (rng() % 5) {
                    case 0: x[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
                    case 1: x[at] = static_cast<std::uint8_t>(rng()); break;
                    case 2: x.erase(x.begin() + static_cast<long>(at)); break;
                    case 3: x.insert(x.begin() + static_cast<long>(at), static_cast<std::uint8_t>(rng())); break;
                    default: x.resize(at); break;  // truncate
                }
            }
            fuzz_detail::current = x.data();
            fuzz_detail::current_size = x.size();
            target(x.data(), x.size());
        }
    }
    std::printf("%s: %llu inputs in %.0f s, no crash\n", name, static_cast<unsigned long long>(runs), seconds);
    return 0;
}

}  // namespace qwire::test
