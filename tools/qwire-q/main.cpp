// qwire-q [-c ROWS COLS] [--tls | --ca PEM] ADDRESS
//
// A q-style console over any kdb+ endpoint (q, kdb_server, kdb_echo_server,
// the gateway): a q) prompt with line editing and history (libedit) on a
// terminal, lines from standard input otherwise (so it scripts). Every
// line goes to the server as a sync query; the answer prints as the q
// console prints it, truncated to the console size as q's \c does, and an
// error prints as 'text. Console commands, as q's:
//
//     \c            the console size (rows columns)
//     \c 50 120     set it (each kept in 10..2000, as q does)
//     \t expr       run expr and print the milliseconds it took
//     \\            quit
//
// Any other line starting with \ goes to the server, as q sends system
// commands in a string. Exit status: 0 after \\ or the end of input, 1 when
// the connection fails or ends, 2 for a bad command line.
#include "../../examples/kdb/kdb_cli.hpp"

#include <qwire/proto/kdb/display.hpp>

#include <editline/readline.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

using namespace qwire;

namespace {

// q's default: LINES and COLUMNS, else the terminal's size, else 25 80.
kdb::console_size default_size() {
    kdb::console_size c;
    winsize ws{};
    if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        c.rows = ws.ws_row;
        c.columns = ws.ws_col;
    }
    if (const char* l = std::getenv("LINES"); l && std::atoi(l) > 0) c.rows = static_cast<std::size_t>(std::atoi(l));
    if (const char* w = std::getenv("COLUMNS"); w && std::atoi(w) > 0) c.columns = static_cast<std::size_t>(std::atoi(w));
    return c;
}

std::size_t clamp_size(std::size_t v) { return std::clamp<std::size_t>(v, 10, 2000); }

// The next line: through libedit on a terminal (prompt, editing, history),
// plainly otherwise. Empty optional at the end of input.
std::optional<std::string> next_line(bool interactive) {
    if (interactive) {
        char* l = ::readline("q)");
        if (!l) return std::nullopt;
        std::string line(l);
        std::free(l);
        if (!line.empty()) ::add_history(line.c_str());
        return line;
    }
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// What the console prints for an answer: nothing for ::, as q.
void print_answer(const kdb::k& v, kdb::console_size size) {
    if (v.is_generic_null()) return;
    std::string text = kdb::to_string(v, size);
    if (text.empty() || text.back() != '\n') text += '\n';
    std::fwrite(text.data(), 1, text.size(), stdout);
}

task<int> console(kdb::connection c, kdb::console_size size, bool interactive) {
    for (;;) {
        std::fflush(stdout);
        auto got = next_line(interactive);
        if (!got) co_return 0;
        std::string line = trim(*got);
        if (line.empty()) continue;
        if (line == "\\\\") co_return 0;
        if (line == "\\c" || line.rfind("\\c ", 0) == 0) {
            unsigned long rows = 0, cols = 0;
            if (line == "\\c") {
                std::printf("%zu %zu\n", size.rows, size.columns);
            } else if (std::sscanf(line.c_str() + 3, "%lu %lu", &rows, &cols) == 2) {
                size.rows = clamp_size(rows);
                size.columns = clamp_size(cols);
            } else {
                std::printf("'\\c takes two numbers: rows columns\n");
            }
            continue;
        }
        bool timed = false;
        if (line.rfind("\\t ", 0) == 0) {
            timed = true;
            line = trim(line.substr(3));
        }
        const auto t0 = std::chrono::steady_clock::now();
        auto v = co_await c.query(std::string_view(line));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        if (!v) {
            if (v.error() == kdb::errc::remote) {
                std::printf("'%s\n", kdb::signal_text(v.error()).c_str());
                continue;
            }
            std::fflush(stdout);
            std::fprintf(stderr, "qwire-q: %s\n", v.error().message().c_str());
            co_return 1;
        }
        if (timed) std::printf("%lld\n", static_cast<long long>(ms));
        else print_answer(*v, size);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("A q-style console: each line is a sync query, each answer printed as the q console prints it.", "qwire-q");
    kdb::address target;
    examples::kdb_client_tls tls;
    std::vector<std::size_t> size_arg;
    examples::add_address(app, "address", target, examples::address_help)->required();
    app.add_option("-c,--console", size_arg, "console size: rows and columns (default: LINES and COLUMNS, the terminal, 25 80)")
        ->expected(2)
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
    tls.add(app);
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    kdb::console_size size = default_size();
    if (size_arg.size() == 2) {
        size.rows = size_arg[0];
        size.columns = size_arg[1];
    }
    size.rows = clamp_size(size.rows);
    size.columns = clamp_size(size.columns);
    const bool interactive = ::isatty(STDIN_FILENO);
    reactor r;
    return r.block_on([&]() -> task<int> {
        auto c = co_await examples::connect(target, tls);
        if (!c) {
            std::fprintf(stderr, "qwire-q: %s: %s\n", target.to_string().c_str(), c.error().message().c_str());
            co_return 1;
        }
        co_return co_await console(std::move(*c), size, interactive);
    }());
}
