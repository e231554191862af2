// qwire-perf's scenarios: each measures one setting of its knobs
// (repetitions after warm-up runs) and returns figures with their ceilings.
#pragma once

#include "harness.hpp"
#include "netem.hpp"

#include <chrono>
#include <optional>

#include <functional>
#include <string_view>

namespace qwire::perf {

// What a scenario runs with: the options, and for --netem either the netem
// link (the built-in server runs inside its namespace) or, where the kernel
// has no netem, the delay a userspace relay adds per round trip.
struct context {
    const cli& args;
    const netem_link* net = nullptr;
    std::optional<std::chrono::nanoseconds> relay_delay;
};

struct scenario {
    std::string_view name;
    std::string_view about;
    std::vector<std::string_view> knobs;  // the first is the natural x axis
    std::function<result<std::vector<measurement>>(const setting&, const context&)> run;
    std::vector<std::string_view> words = {};  // knobs that take words; every other one takes numbers (sizes)
};

const std::vector<scenario>& scenarios();
const scenario* find_scenario(std::string_view name);
// Empty when every knob of args is one the scenario has and every value of
// a numeric knob is a number; else what is wrong (a misspelt knob or a
// malformed value would otherwise run the default and label it wrongly).
std::string check_knobs(const scenario& sc, const cli& args);

}  // namespace qwire::perf
