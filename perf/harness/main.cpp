// qwire-perf SCENARIO [--knob v1,v2,...] [--reps N] [--warmup N]
//                     [--json F] [--csv F] [--plot F.png] [--conf "ws::addr=..."]
//
// Runs a scenario over the cross product of the knobs' values, repetitions
// after warm-up for each, and prints the median, the spread and the ceiling
// measured in the same run; the best setting per metric last.
#include "harness.hpp"
#include "delay_relay.hpp"
#include "scenarios.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string_view>

using namespace qwire::perf;

namespace {

// The usage text: on stdout with status 0 for --help, on stderr with the
// reason and status 2 for a bad command line.
int usage(const std::string& why, bool asked = false) {
    FILE* out = asked ? stdout : stderr;
    if (!why.empty()) std::fprintf(stderr, "qwire-perf: %s\n", why.c_str());
    std::fprintf(out, "usage: qwire-perf SCENARIO [--knob v1,v2,...] [--reps N] [--warmup N] [--json F] [--csv F] "
                         "[--plot F.png] [--plot-metric M] [--conf STR] [--netem \"delay 1ms\"] [--pin CPU] [--peer javakdb] [--quiet]\n"
                         "--peer javakdb (kdb-codec, kdb-query): KX's Java client in the same run, its classpath in "
                         "QWIRE_JAVAKDB_CLASSPATH (tools/perf.sh sets it)\nscenarios:\n");
    for (const auto& s : scenarios()) {
        std::string knobs;
        for (auto k : s.knobs) knobs += (knobs.empty() ? "" : ", ") + std::string(k);
        std::fprintf(out, "  %-11s %.*s\n              knobs: %s\n", std::string(s.name).c_str(),
                     static_cast<int>(s.about.size()), s.about.data(), knobs.c_str());
    }
    return asked ? 0 : 2;
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") return usage({}, true);
    std::string why;
    auto args = parse_args(argc, argv, &why);
    if (!args) return usage(why);
    const scenario* sc = find_scenario(args->scenario);
    if (!sc) return usage("unknown scenario '" + args->scenario + "'");
    if (auto bad = check_knobs(*sc, *args); !bad.empty()) return usage(bad);
    if (!args->peer.empty() && args->scenario != "kdb-codec" && args->scenario != "kdb-query")
        return usage("--peer javakdb goes with kdb-codec and kdb-query, not " + args->scenario);
    std::optional<netem_link> net;
    std::optional<std::chrono::nanoseconds> relay_delay;
    if (!args->netem.empty()) {
        if (!args->conf.empty()) return usage("--netem runs the built-in server; it does not go with --conf");
        auto n = netem_link::create(args->netem, &why);
        if (n) {
            net.emplace(std::move(*n));
        } else if (n.error() == std::errc::function_not_supported) {
            // No netem in this kernel: a userspace relay adds the delay.
            bool loss = false;
            auto d = parse_netem_delay(args->netem, &loss);
            if (!d || loss) {
                std::fprintf(stderr, "qwire-perf: %s; without it only \"delay N(ms|us)\" can be emulated\n", why.c_str());
                return 1;
            }
            relay_delay = *d;
        } else {
            std::fprintf(stderr, "qwire-perf: %s\n", why.c_str());
            return 1;
        }
    }
    context ctx{*args, net ? &*net : nullptr, relay_delay};
    report rep;
    rep.scenario = args->scenario;
    rep.command_line = args->command_line;
    rep.host = probe_machine();
    if (args->pin >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(args->pin, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) return usage("--pin: no such CPU");
        rep.host.pinning = "measuring thread on CPU " + std::to_string(args->pin) + ", peer threads float";
    }
    if (net) rep.host.pinning += "; netem: " + args->netem + " (client to server)";
    if (relay_delay) rep.host.pinning += "; " + args->netem + " added per round trip by a userspace relay (no sch_netem)";
    const auto points = expand(args->knobs);
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (!args->quiet) {
            std::string text;
            for (const auto& [k, v] : points[i]) text += " " + k + "=" + v;
            std::fprintf(stderr, "\r[%zu/%zu]%s ...", i + 1, points.size(), text.c_str());
            std::fflush(stderr);
        }
        auto r = sc->run(points[i], ctx);
        if (!r) {
            std::fprintf(stderr, "\nqwire-perf: %s failed: %s\n  %s: %.*s\n", args->scenario.c_str(),
                         r.error().message().c_str(), args->scenario.c_str(), static_cast<int>(sc->about.size()),
                         sc->about.data());
            return 1;
        }
        rep.rows.insert(rep.rows.end(), r->begin(), r->end());
    }
    if (!args->quiet) std::fprintf(stderr, "\r%*s\r", 60, "");
    std::fputs(to_table(rep).c_str(), stdout);
    if (!args->json.empty() && !write_file(args->json, to_json(rep))) return 1;
    if (!args->csv.empty() && !write_file(args->csv, to_csv(rep))) return 1;
    if (!args->plot.empty() && !rep.rows.empty()) {
        const std::string metric = args->plot_metric.empty() ? rep.rows.front().metric : args->plot_metric;
        if (std::none_of(rep.rows.begin(), rep.rows.end(), [&](const measurement& m) { return m.metric == metric; })) {
            std::fprintf(stderr, "qwire-perf: --plot-metric: %s measured no '%s'\n", args->scenario.c_str(), metric.c_str());
            return 2;
        }
        auto p = plot(rep, metric, args->plot);
        if (!p) {
            std::fprintf(stderr, "qwire-perf: gnuplot failed (%s); is gnuplot-nox installed?\n", p.error().message().c_str());
            return 1;
        }
    }
    return 0;
}
