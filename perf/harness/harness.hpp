// The logic of qwire-perf that is not a measurement: the command line,
// sweep expansion, statistics, the machine record and the output formats
// (terminal table, JSON, CSV, a gnuplot plot). Unit-tested in
// tests/perf/harness_test.cpp.
#pragma once

#include <qwire/core/error.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qwire::perf {

// One knob's values: --window 1,8,32,128 gives {"window", {"1","8","32","128"}}.
struct knob {
    std::string name;
    std::vector<std::string> values;
};

struct cli {
    std::string scenario;
    std::vector<knob> knobs;   // in the order given (the sweep's order)
    int repetitions = 5;
    int warmup = 1;
    std::string json, csv, plot;
    std::string plot_metric;   // --plot-metric: what --plot draws (default: the scenario's first figure)
    std::string netem;         // "delay 1ms loss 0.1%": run across a veth pair
    std::string conf;          // a real peer instead of the built-in one
    std::string peer;          // --peer javakdb: KX's Java client timed beside qwire
    int pin = -1;              // --pin CPU: the measuring thread's CPU (-1: not pinned)
    std::string command_line;
    bool quiet = false;        // no progress line
};

// Parses `qwire-perf SCENARIO [--knob v1,v2,...] ... [--reps N] [--warmup N]
// [--json F] [--csv F] [--plot F.png] [--plot-metric M] [--netem "..."] [--conf "..."]
// [--pin CPU] [--peer javakdb]`.
// Any other --name takes a comma-separated list and becomes a knob. *why
// says what was wrong.
result<cli> parse_args(int argc, const char* const* argv, std::string* why = nullptr);

// "64k" -> 65536, "1m" -> 1048576, "1g", plain numbers.
std::optional<std::uint64_t> parse_size(std::string_view text);

// One point of a sweep: a value for every knob.
using setting = std::vector<std::pair<std::string, std::string>>;
// The cross product of the knobs, the first knob varying slowest.
std::vector<setting> expand(const std::vector<knob>& knobs);
// A knob's value in a setting, or the default.
std::string value_of(const setting& s, const std::string& name, const std::string& fallback);

struct stats {
    double median = 0, min = 0, max = 0;
    double spread = 0;  // (max - min) / median
    std::size_t n = 0;
};
stats summarize(std::vector<double> samples);
// The p-th percentile (0..1) of samples, nearest rank.
double percentile(std::vector<double> samples, double p);

// One figure of one setting: a metric measured `repetitions` times, with
// the ceiling it is compared with (measured in the same run) if any.
struct measurement {
    setting where;
    std::string metric;  // "rows/s", "GB/s", "us p50", ...
    stats value;
    bool higher_is_better = true;
    std::optional<double> ceiling;
    std::string ceiling_name;
};

struct machine {
    std::string cpu_model;
    unsigned cores = 0;
    std::string kernel;
    std::string io_uring;  // ring setup the reactor got, features
    std::string build_type;
    std::string pinning;
};
machine probe_machine();

struct report {
    std::string scenario;
    std::string command_line;
    machine host;
    std::vector<measurement> rows;
};

// The setting with the best median for a metric (highest, or lowest when
// lower is better); null if the metric was not measured.
const measurement* best(const report& r, const std::string& metric);

std::string to_table(const report& r);
std::string to_json(const report& r);
std::string to_csv(const report& r);
// A gnuplot script drawing `metric` against the first knob, one line per
// combination of the other knobs, the ceiling dashed; writes `png`.
std::string gnuplot_script(const report& r, const std::string& metric, const std::string& png);
// Runs gnuplot on the script (gnuplot from Debian's gnuplot-nox).
result<void> plot(const report& r, const std::string& metric, const std::string& png);

}  // namespace qwire::perf
