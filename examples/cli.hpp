// Command-line parsing the example programs share: CLI11, exiting 2 with a
// message naming the option on bad input.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace qwire::examples {

// Parses argv; returns the exit code when the program should stop now
// (0 after --help, 2 with the parser's message for bad input).
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    return std::nullopt;
}

// A validator that runs a parser (a function returning result<T>) on the
// option's text and, when it fails, says why (the parser's detail), so the
// error names the option and the reason and the program exits 2.
template <class Parse>
CLI::Validator parsed_by(Parse parse, std::string name) {
    return CLI::Validator(
        [parse](std::string& v) {
            auto r = parse(v);
            return r ? std::string() : r.error().message();
        },
        std::move(name));
}

}  // namespace qwire::examples
