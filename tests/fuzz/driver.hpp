// The mutation driver the fuzz targets use when not built with libFuzzer:
// it feeds mutated copies of seed inputs (bit flips, random bytes, deletes,
// inserts, truncation) to the target for QWIRE_FUZZ_SECONDS (default 10).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace qwire::test {

template <class Target>
int run_mutations(const char* name, const std::vector<std::vector<std::uint8_t>>& corpus, Target target) {
    const char* env = std::getenv("QWIRE_FUZZ_SECONDS");
    const double seconds = env ? std::atof(env) : 10.0;
    std::mt19937_64 rng(std::random_device{}());
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
            target(x.data(), x.size());
        }
    }
    std::printf("%s: %llu inputs in %.0f s, no crash\n", name, static_cast<unsigned long long>(runs), seconds);
    return 0;
}

}  // namespace qwire::test
