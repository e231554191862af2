// Running a peer program from a test: its stdout line by line, and its end.
// The process is killed if the test ends first, so no peer outlives a test.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace qwire::test {

class child_process {
public:
    // Runs command through /bin/sh (exec'd, so the pid is the program's).
    explicit child_process(const std::string& command) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork");
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            ::close(fds[0]);
            ::close(fds[1]);
            const std::string exec = "exec " + command;
            ::execl("/bin/sh", "sh", "-c", exec.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = ::fdopen(fds[0], "r");
    }
    ~child_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_) std::fclose(out_);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // The next line of output without its newline; false at end of output.
    bool read_line(std::string& line) {
        line.clear();
        for (int c; (c = std::fgetc(out_)) != EOF;) {
            if (c == '\n') return true;
            line.push_back(static_cast<char>(c));
        }
        return !line.empty();
    }
    std::string read_all() {
        std::string out, line;
        while (read_line(line)) out += line + "\n";
        return out;
    }
    // Waits for the process to end; its exit status (-signal if killed).
    int wait() {
        int st = 0;
        ::waitpid(std::exchange(pid_, -1), &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    }
    pid_t pid() const noexcept { return pid_; }
    // Stops it (SIGTERM) and waits; its exit status.
    int stop() {
        ::kill(pid_, SIGTERM);
        return wait();
    }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
};

// The port a server's banner names after `marker` ("... on 127.0.0.1:PORT");
// 0 when the banner has none. Servers started by tests listen on port 0 and
// say which port they got, so parallel tests never race for one.
inline int port_after(std::string_view banner, std::string_view marker = "on 127.0.0.1:") {
    const auto at = banner.find(marker);
    if (at == std::string_view::npos) return 0;
    int port = 0;
    for (auto i = at + marker.size(); i < banner.size() && banner[i] >= '0' && banner[i] <= '9' && port <= 65535; ++i)
        port = port * 10 + (banner[i] - '0');
    return port > 65535 ? 0 : port;
}

}  // namespace qwire::test
