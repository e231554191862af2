// qwire-perf's scenarios: each measures one setting of its knobs
// (repetitions after warm-up runs) and returns figures with their ceilings.
#pragma once

#include "harness.hpp"

#include <functional>
#include <string_view>

namespace qwire::perf {

struct scenario {
    std::string_view name;
    std::string_view about;
    std::string_view plot_knob;  // the natural x axis
    std::function<result<std::vector<measurement>>(const setting&, const cli&)> run;
};

const std::vector<scenario>& scenarios();
const scenario* find_scenario(std::string_view name);

}  // namespace qwire::perf
