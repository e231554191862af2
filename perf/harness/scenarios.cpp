#include "scenarios.hpp"

#include "../workloads.hpp"
#include "delay_relay.hpp"

#include <qwire/core/timer.hpp>
#include <qwire/core/unique_function.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/socket_stream.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/core/notifier.hpp>
#include <qwire/proto/bridge/bridge.hpp>
#include <qwire/proto/kdb/address.hpp>
#include <qwire/proto/kdb/codec.hpp>
#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/kdb/tick.hpp>
#include <qwire/proto/qwp/sender.hpp>
#include <qwire/proto/qwp/test_server.hpp>
#include <qwire/proto/ws/frame.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <thread>

namespace qwire::perf {

namespace {
// The test certificates, at ../share/qwire/certs from this program both in
// the build tree and installed (never a source-tree path).
std::string certs_dir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (exe.parent_path().parent_path() / "share/qwire/certs").string();
}

using clk = std::chrono::steady_clock;

double seconds_of(const std::function<void()>& f) {
    const auto t0 = clk::now();
    f();
    return std::chrono::duration<double>(clk::now() - t0).count();
}

// Runs f warmup + reps times; the samples of the measured runs.
std::vector<double> repeat(const cli& args, const std::function<double()>& f) {
    for (int i = 0; i < args.warmup; ++i) (void)f();
    std::vector<double> out;
    for (int i = 0; i < args.repetitions; ++i) out.push_back(f());
    return out;
}

std::size_t size_knob(const setting& s, const std::string& name, std::size_t fallback) {
    auto v = parse_size(value_of(s, name, std::to_string(fallback)));
    return v ? static_cast<std::size_t>(*v) : fallback;
}

measurement figure(const setting& s, std::string metric, std::vector<double> samples, std::optional<double> ceiling = {},
                   std::string ceiling_name = {}, bool higher = true) {
    measurement m;
    m.where = s;
    m.metric = std::move(metric);
    m.value = summarize(std::move(samples));
    m.ceiling = ceiling;
    m.ceiling_name = std::move(ceiling_name);
    m.higher_is_better = higher;
    return m;
}

// User plus system CPU time of every thread of this process so far.
double process_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

// Keeps the compiler from dropping work whose result nobody reads.
inline void benchmark_barrier(const void* p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }

// Seconds per call of f, which moves `bytes`: one timing over enough calls
// to move about 64 MiB, so a small message is not timed on its own (a
// single 1 MB copy takes 25 us and its timing is mostly noise).
template <class F>
double seconds_per_call(std::size_t bytes, F&& f) {
    const std::size_t calls = std::clamp<std::size_t>((std::size_t{64} << 20) / std::max<std::size_t>(bytes, 1), 1, 1000);
    return seconds_of([&] {
               for (std::size_t i = 0; i < calls; ++i) f();
           }) /
           static_cast<double>(calls);
}

double memcpy_gbs(const cli& args, std::span<const std::byte> src) {
    std::vector<std::byte> dst(src.size());
    const auto samples = repeat(args, [&] {
        return static_cast<double>(src.size()) /
               seconds_per_call(src.size(), [&] {
                   std::memcpy(dst.data(), src.data(), src.size());
                   benchmark_barrier(dst.data());
               }) /
               1e9;
    });
    return summarize(samples).median;
}

// ------------------------------------------------------------ qwp-encode

result<std::vector<measurement>> qwp_encode(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rows = std::min<std::size_t>(size_knob(s, "rows", 1'000'000), qwp::max_rows_per_table);
    const workloads::quote_table t(rows, size_knob(s, "symbols", 1000));
    const qwp::chunk c = t.make(0, rows);
    qwp::symbol_dict dict;
    qwp::message_builder b(dict);
    // A connection's steady state: every symbol already sent by an earlier
    // frame (the first frame of a connection also carries the dictionary).
    if (auto r = qwp::encode(b, c); !r) return r.error();
    (void)b.finish();
    b.clear();
    if (auto r = qwp::encode(b, c); !r) return r.error();
    const auto msg = b.finish_copy();
    const std::size_t bytes = msg.size();
    byte_buffer frame;
    auto encode_only = [&] {
        return seconds_per_call(bytes, [&] {
            b.clear();
            (void)qwp::encode(b, c);
            benchmark_barrier(b.finish().data());
        });
    };
    auto encode_frame = [&] {
        return seconds_per_call(bytes, [&] {
            b.clear();
            frame.clear();
            (void)qwp::encode(b, c);
            const auto key = ws::random_mask();
            ws::append_frame(frame, ws::opcode::binary, b.finish(), &key);
            benchmark_barrier(frame.data().data());
        });
    };
    const double ceiling = memcpy_gbs(args, msg);
    std::vector<double> e, f;
    for (double secs : repeat(args, encode_only)) e.push_back(static_cast<double>(bytes) / secs / 1e9);
    for (double secs : repeat(args, encode_frame)) f.push_back(static_cast<double>(bytes) / secs / 1e9);
    return std::vector<measurement>{figure(s, "encode GB/s", e, ceiling, "memcpy"),
                                    figure(s, "encode+frame GB/s", f, ceiling, "memcpy")};
}

// ------------------------------------------------------------ javakdb, the peer

// KX's Java client, through tools/javakdb/KdbDriver.java (tools/javakdb.sh
// compiles it; tools/perf.sh puts the classpath in QWIRE_JAVAKDB_CLASSPATH).
result<std::string> javakdb_command(const std::string& args) {
    const char* cp = std::getenv("QWIRE_JAVAKDB_CLASSPATH");
    if (!cp || !*cp)
        return error(std::make_error_code(std::errc::invalid_argument),
                     "--peer javakdb: QWIRE_JAVAKDB_CLASSPATH is not set (tools/perf.sh sets it from tools/javakdb.sh)");
    return "java -cp '" + std::string(cp) + "' KdbDriver " + args;
}

// A javakdb process whose standard output is read line by line.
class java_process {
public:
    static result<std::unique_ptr<java_process>> start(const std::string& args) {
        auto cmd = javakdb_command(args);
        if (!cmd) return cmd.error();
        FILE* f = ::popen(cmd->c_str(), "r");
        if (!f) return error(std::error_code(errno, std::system_category()), "--peer javakdb: cannot run java");
        return std::unique_ptr<java_process>(new java_process(f));
    }
    ~java_process() { (void)finish(); }
    // The next line, or nothing at the end of its output.
    std::optional<std::string> line() {
        char buf[512];
        if (!std::fgets(buf, sizeof buf, f_)) return std::nullopt;
        std::string l(buf);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
        return l;
    }
    // Waits for it to exit; an error unless it exited with 0.
    result<void> finish() {
        if (!f_) return {};
        const int st = ::pclose(std::exchange(f_, nullptr));
        if (st != 0) return error(std::make_error_code(std::errc::io_error), "--peer javakdb: the java driver failed (status " + std::to_string(st) + ")");
        return {};
    }

private:
    explicit java_process(FILE* f) : f_(f) {}
    FILE* f_;
};

// "name value" lines (the driver's output) gathered by name.
std::map<std::string, std::vector<double>> named_values(java_process& p) {
    std::map<std::string, std::vector<double>> out;
    while (auto l = p.line()) {
        const auto sp = l->rfind(' ');
        if (sp == std::string::npos) continue;
        out[l->substr(0, sp)].push_back(std::strtod(l->c_str() + sp + 1, nullptr));
    }
    return out;
}

// ------------------------------------------------------------ kdb-codec

result<std::vector<measurement>> kdb_codec(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rows = size_knob(s, "rows", 1'000'000);
    const std::string data = value_of(s, "data", "random");
    if (data != "random" && data != "repetitive")
        return error(std::make_error_code(std::errc::invalid_argument), "knob data: random or repetitive, not '" + data + "'");
    const bool repetitive = data == "repetitive";
    const std::string types = value_of(s, "types", "");
    kdb::k t;
    if (repetitive) {
        t = workloads::repetitive_table(rows);
    } else if (!types.empty()) {
        auto made = workloads::typed_table(rows, types, size_knob(s, "symbols", 100));
        if (!made) return made.error();
        t = std::move(*made);
    } else {
        t = workloads::trade_table(rows, size_knob(s, "symbols", 100));
    }
    byte_buffer msg;
    if (auto r = kdb::encode_message(t, kdb::msg_type::async, msg); !r) return r.error();
    const auto bytes = static_cast<double>(msg.size());
    const double ceiling = memcpy_gbs(args, msg.data());
    byte_buffer out;
    std::vector<double> enc, dec, zip, unzip;
    const std::size_t n = msg.size();
    for (double secs : repeat(args, [&] {
             return seconds_per_call(n, [&] {
                 out.clear();
                 (void)kdb::encode_message(t, kdb::msg_type::async, out);
                 benchmark_barrier(out.data().data());
             });
         }))
        enc.push_back(bytes / secs / 1e9);
    for (double secs : repeat(args, [&] {
             return seconds_per_call(n, [&] {
                 auto d = kdb::decode_message(msg.data());
                 benchmark_barrier(&d);
             });
         }))
        dec.push_back(bytes / secs / 1e9);
    std::vector<measurement> rows_out{figure(s, "encode GB/s", enc, ceiling, "memcpy"),
                                      figure(s, "decode GB/s", dec, ceiling, "memcpy")};
    byte_buffer packed;
    if (kdb::compress(msg.data(), packed)) {
        for (double secs : repeat(args, [&] {
                 return seconds_per_call(n, [&] {
                     out.clear();
                     (void)kdb::compress(msg.data(), out);
                     benchmark_barrier(out.data().data());
                 });
             }))
            zip.push_back(bytes / secs / 1e9);
        for (double secs : repeat(args, [&] {
                 return seconds_per_call(n, [&] {
                     out.clear();
                     (void)kdb::decompress(packed.data(), out);
                     benchmark_barrier(out.data().data());
                 });
             }))
            unzip.push_back(bytes / secs / 1e9);
        rows_out.push_back(figure(s, "compress GB/s", zip, ceiling, "memcpy"));
        rows_out.push_back(figure(s, "decompress GB/s", unzip, ceiling, "memcpy"));
        rows_out.push_back(figure(s, "compression ratio", {bytes / static_cast<double>(packed.size())}));
    }
    if (args.peer == "javakdb") {
        // javakdb times the very message qwire encoded (it reads it from a
        // file): the same table on both sides, in the same run.
        std::string path = (std::filesystem::temp_directory_path() / "qwire-perf-kdb-XXXXXX").string();
        const int fd = ::mkstemp(path.data());
        if (fd < 0) return error(std::error_code(errno, std::system_category()), "--peer javakdb: mkstemp");
        const bool wrote = ::write(fd, msg.data().data(), n) == static_cast<ssize_t>(n);
        ::close(fd);
        struct unlink_at_end {
            std::string p;
            ~unlink_at_end() { ::unlink(p.c_str()); }
        } cleanup{path};
        if (!wrote) return error(std::make_error_code(std::errc::io_error), "--peer javakdb: writing " + path);
        // The JIT needs a few runs of each operation before it is compiled.
        auto java = java_process::start("bench-codec " + path + " " + std::to_string(args.warmup + 5) + " " +
                                        std::to_string(args.repetitions));
        if (!java) return java.error();
        auto secs = named_values(**java);
        if (auto f = (*java)->finish(); !f) return f.error();
        auto gbs = [&](const std::string& op) {
            std::vector<double> v;
            for (double x : secs[op]) v.push_back(bytes / x / 1e9);
            return v;
        };
        // Two of qwire's steps as one: bytes over the sum of their times.
        auto both = [&](const std::vector<double>& a, const std::vector<double>& b) {
            return std::vector<double>{1 / (1 / summarize(a).median + 1 / summarize(b).median)};
        };
        const std::string peer = "javakdb 2.0 in the JVM, same message";
        const auto jenc = gbs("encode"), jdec = gbs("decode"), jzip = gbs("compress"), junzip = gbs("decompress");
        if (jenc.empty() || jdec.empty()) return error(std::make_error_code(std::errc::io_error), "--peer javakdb: the driver printed no timings");
        rows_out.push_back(figure(s, "javakdb encode GB/s", jenc, ceiling, "memcpy"));
        rows_out.push_back(figure(s, "javakdb decode GB/s", jdec, ceiling, "memcpy"));
        rows_out.push_back(figure(s, "encode GB/s vs javakdb", enc, summarize(jenc).median, peer));
        rows_out.push_back(figure(s, "decode GB/s vs javakdb", dec, summarize(jdec).median, peer));
        if (!zip.empty() && !jzip.empty()) {
            // javakdb compresses as it serializes and decompresses as it
            // deserializes: compared with qwire's two steps together.
            rows_out.push_back(figure(s, "javakdb encode+compress GB/s", jzip));
            rows_out.push_back(figure(s, "javakdb decompress+decode GB/s", junzip));
            rows_out.push_back(figure(s, "encode+compress GB/s vs javakdb", both(enc, zip), summarize(jzip).median, peer));
            rows_out.push_back(figure(s, "decompress+decode GB/s vs javakdb", both(unzip, dec), summarize(junzip).median, peer));
        }
    }
    return rows_out;
}

// ------------------------------------------------------------ qwp-ingest

// A raw loopback TCP loop moving `bytes` in 256 KiB writes, timed until the
// reader has them all: the ceiling. With `relay_delay`, through the same
// delaying relay the scenario's traffic takes.
double raw_tcp_mbs(std::size_t bytes, std::optional<std::chrono::nanoseconds> relay_delay = {}) {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(l);
        return 0;
    }
    std::unique_ptr<delay_relay> relay;
    if (relay_delay) {
        auto rl = delay_relay::start("127.0.0.1", ntohs(a.sin_port), *relay_delay);
        if (!rl) {
            ::close(l);
            return 0;
        }
        relay = std::move(*rl);
        a.sin_port = htons(relay->port());
    }
    std::thread reader([l, bytes] {
        const int s = ::accept(l, nullptr, nullptr);
        std::vector<char> buf(256 << 10);
        std::size_t got = 0;
        while (got < bytes) {
            const auto n = ::recv(s, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        ::close(s);
    });
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool connected = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const double secs = seconds_of([&] {
        std::vector<char> buf(256 << 10, 'x');
        for (std::size_t sent = 0; connected && sent < bytes;) {
            const auto n = ::send(c, buf.data(), std::min(buf.size(), bytes - sent), MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        ::shutdown(c, SHUT_WR);
        reader.join();
    });
    ::close(c);
    ::close(l);
    return connected && secs > 0 ? static_cast<double>(bytes) / secs / 1e6 : 0;
}

// A memory line of /proc/PID/status (VmRSS:, VmHWM:) in KiB; this process
// when pid is 0.
std::size_t status_kib(const char* key, pid_t pid = 0) {
    std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/status" : std::string("/proc/self/status"));
    for (std::string line; std::getline(f, line);)
        if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10);
    return 0;
}

// A QWP test server in a child process of its own, so that its memory is
// not the sender's: the peak RSS of each side is then read separately.
// Forked before the scenario builds its rows (the child would otherwise map
// them too), and before any thread of this process starts.
class server_process {
public:
    explicit server_process(const qwp::test_server_options& o) {
        int ready[2], stop[2];
        if (::pipe2(ready, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe");
        if (::pipe2(stop, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe");
        pid_ = ::fork();
        if (pid_ < 0) throw std::system_error(errno, std::system_category(), "fork");
        if (pid_ == 0) {
            ::close(ready[0]);
            ::close(stop[1]);
            std::uint32_t reply[2] = {0, 0};  // port, RSS at start in KiB
            try {
                reply[1] = static_cast<std::uint32_t>(status_kib("VmRSS:"));
                qwp::test_server_thread srv(o);
                reply[0] = srv.server().port();
                (void)!::write(ready[1], reply, sizeof reply);
                char c;
                (void)!::read(stop[0], &c, 1);  // until the parent closes its end
            } catch (...) {
                (void)!::write(ready[1], reply, sizeof reply);
            }
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(stop[0]);
        stop_ = stop[1];
        std::uint32_t reply[2] = {0, 0};
        const bool got = ::read(ready[0], reply, sizeof reply) == sizeof reply;
        ::close(ready[0]);
        if (!got || reply[0] == 0) {
            end();
            throw std::system_error(std::make_error_code(std::errc::connection_refused), "qwp test server process");
        }
        port_ = static_cast<std::uint16_t>(reply[0]);
        start_kib_ = reply[1];
    }
    ~server_process() { end(); }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    // Peak resident bytes the server added since it started.
    double peak_growth_bytes() const {
        const std::size_t hwm = status_kib("VmHWM:", pid_);
        return hwm > start_kib_ ? static_cast<double>(hwm - start_kib_) * 1024 : 0;
    }

private:
    void end() {
        if (stop_ >= 0) ::close(stop_);
        stop_ = -1;
        if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    pid_t pid_ = -1;
    int stop_ = -1;
    std::uint16_t port_ = 0;
    std::size_t start_kib_ = 0;
};

// CPU seconds (user + system) of the calling thread so far.
double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// What one client thread of a scenario does: `run(i)` is run i (warm-ups
// first), `close` ends its connections; both on the thread's reactor.
struct client_thread {
    unique_function<std::error_code(int)> run;
    unique_function<void()> close = [] {};
};

// Client threads with a reactor each (options ro): open(w, r) connects
// thread w once; then every run starts on all of them at once. Per run, the
// wall seconds from the start to the last thread done and the CPU seconds
// the threads spent in it (summed); the first error, if any.
struct thread_runs {
    std::vector<double> wall, cpu;
    std::error_code failed;
};
thread_runs run_on_threads(std::size_t threads, int runs, const reactor::options& ro,
                           const std::function<result<client_thread>(std::size_t, reactor&)>& open) {
    std::vector<std::error_code> failed(threads);
    std::vector<double> cpu(threads);
    std::barrier sync_point(static_cast<std::ptrdiff_t>(threads + 1));
    auto work = [&](std::size_t w) {
        reactor r(ro);
        auto c = open(w, r);
        if (!c) failed[w] = c.error().code();
        sync_point.arrive_and_wait();  // connected (or failed)
        for (int run = 0; run < runs; ++run) {
            sync_point.arrive_and_wait();  // go
            if (!failed[w]) {
                const double c0 = thread_cpu_seconds();
                failed[w] = c->run(run);
                cpu[w] = thread_cpu_seconds() - c0;
            }
            sync_point.arrive_and_wait();  // done
        }
        if (c) c->close();
    };
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < threads; ++w) pool.emplace_back(work, w);
    thread_runs out;
    sync_point.arrive_and_wait();
    for (int run = 0; run < runs; ++run) {
        sync_point.arrive_and_wait();
        const auto t0 = clk::now();
        sync_point.arrive_and_wait();
        out.wall.push_back(std::chrono::duration<double>(clk::now() - t0).count());
        double sum = 0;
        for (double x : cpu) sum += x;
        out.cpu.push_back(sum);
    }
    for (auto& th : pool) th.join();
    for (const auto& e : failed)
        if (e && !out.failed) out.failed = e;
    return out;
}

result<std::vector<measurement>> qwp_ingest(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rows = size_knob(s, "rows", 1'000'000);
    const std::size_t window = size_knob(s, "window", 128);
    const std::size_t frame_bytes = size_knob(s, "frame-bytes", 256 << 10);
    const std::size_t connections = std::max<std::size_t>(1, size_knob(s, "connections", 1));
    // Sender threads, each with a reactor of its own and `connections`
    // connections: how ingest scales past one core.
    const std::size_t threads = std::max<std::size_t>(1, size_knob(s, "threads", 1));
    const std::string tls_knob = value_of(s, "tls", "off");
    if (tls_knob != "on" && tls_knob != "off")
        return error(std::make_error_code(std::errc::invalid_argument), "knob tls: on or off, not '" + tls_knob + "'");
    const bool tls = tls_knob == "on";
    // Frames between blocking syncs; 0: one sync at the end of the run (the
    // pipeline still commits whenever the window fills with deferred
    // frames). A sync drains the pipeline, so a period shorter than the
    // window caps what the window can give.
    const std::size_t sync_every = size_knob(s, "sync-every", 0);
    // Store-and-forward: off, or the sf_durability of a queue in a fresh
    // directory under the temp folder (one slot per connection).
    const std::string sf = value_of(s, "sf", "off");
    if (sf != "off" && sf != "memory" && sf != "flush" && sf != "append" && sf != "periodic")
        return error(std::make_error_code(std::errc::invalid_argument), "knob sf: off, memory, flush, append or periodic, not '" + sf + "'");
    struct sf_folder {
        std::string path;
        ~sf_folder() {
            if (!path.empty()) std::filesystem::remove_all(path);
        }
    } sf_dir;
    if (sf != "off") {
        std::string tmpl = (std::filesystem::temp_directory_path() / "qwire-perf-sf-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) return error(std::error_code(errno, std::system_category()), "knob sf: mkdtemp");
        sf_dir.path = tmpl;
    }

    // The built-in server: in a child process (its memory apart from the
    // sender's), or on a thread inside the netem namespace.
    std::unique_ptr<server_process> child;
    std::unique_ptr<qwp::test_server_thread> local;
    std::string conf = args.conf;
    std::uint16_t local_port = 0;
    if (conf.empty()) {
        qwp::test_server_options o;
        o.keep_rows = false;
        o.max_frame = 16 << 20;
        o.max_batch = (16 << 20) - 14;
        if (tls) {
            o.tls_cert = certs_dir() + "/server.pem";
            o.tls_key = certs_dir() + "/server.key";
        }
        std::string host = tls ? "localhost" : "127.0.0.1";
        try {
            if (ctx.net) {
                o.host = ctx.net->server_ip();
                host = ctx.net->server_ip();
                local = std::make_unique<qwp::test_server_thread>(o, nullptr, [net = ctx.net] {
                    auto r = net->enter();
                    return r ? std::error_code{} : r.error().code();
                });
                local_port = local->server().port();
            } else {
                child = std::make_unique<server_process>(o);
                local_port = child->port();
            }
        } catch (const std::system_error& e) {
            return e.code();
        }
        conf = (tls ? "wss::addr=" : "ws::addr=") + host + ":" + std::to_string(local_port) + ";" +
               (tls && ctx.net ? "tls_verify=unsafe_off;" : "") +
               (tls && !ctx.net ? "tls_roots=" + certs_dir() + "/ca.pem;" : "");
    }
    std::unique_ptr<delay_relay> relay;
    if (ctx.relay_delay && local_port) {
        auto rl = delay_relay::start("127.0.0.1", local_port, *ctx.relay_delay);
        if (!rl) return rl.error();
        relay = std::move(*rl);
        conf = (tls ? "wss::addr=localhost:" : "ws::addr=127.0.0.1:") + std::to_string(relay->port()) + ";" +
               (tls ? "tls_roots=" + certs_dir() + "/ca.pem;" : "");
    }
    conf += "in_flight_window=" + std::to_string(window) + ";max_batch_bytes=" + std::to_string(std::max<std::size_t>(frame_bytes * 2, 1 << 20)) + ";";

    const workloads::quote_table t(std::min<std::size_t>(rows, 1'000'000));
    // Rows per frame from the encoded size of a sample.
    qwp::symbol_dict sample_dict;
    qwp::message_builder sample(sample_dict);
    (void)qwp::encode(sample, t.make(0, std::min<std::size_t>(10'000, t.sym.size())));
    const double row_bytes = static_cast<double>(sample.finish_copy().size()) / static_cast<double>(std::min<std::size_t>(10'000, t.sym.size()));
    const std::size_t rows_per_frame = std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(frame_bytes) / row_bytes));
    // The sender's resident memory is measured from here: the rows are
    // built and the server runs apart. Peak RSS counts from now on.
    {
        std::ofstream clear("/proc/self/clear_refs");
        clear << "5";
    }
    const std::size_t rss_before_kib = status_kib("VmRSS:");

    // Sender threads, each with `connections` senders on its reactor.
    const std::size_t senders_total = threads * connections;
    const std::size_t per = rows / senders_total;
    struct worker {
        std::vector<std::uint64_t> bytes;  // on the wire, per run
        std::vector<double> acks_us;
    };
    std::vector<worker> workers(threads);
    auto open = [&](std::size_t w, reactor& r) -> result<client_thread> {
        auto senders = std::make_shared<std::vector<qwp::sender>>();
        for (std::size_t i = 0; i < connections; ++i) {
            const std::size_t k = w * connections + i;
            const std::string one = sf == "off" ? conf
                                                : conf + "sf_dir=" + sf_dir.path + ";sender_id=c" + std::to_string(k) +
                                                      ";sf_durability=" + sf + ";sf_sync_interval_millis=100;";
            auto c = r.block_on(qwp::sender::connect(one));
            if (!c) return c.error();
            senders->push_back(std::move(*c));
        }
        worker& me = workers[w];
        auto drive = [&me, &t, rows_per_frame, sync_every](qwp::sender& snd, std::size_t first,
                                                            std::size_t count) -> task<result<void>> {
            std::size_t frames = 0;
            for (std::size_t from = 0; from < count; from += rows_per_frame) {
                const std::size_t at = (first + from) % t.sym.size();
                const std::size_t n = std::min({rows_per_frame, count - from, t.sym.size() - at});
                const qwp::chunk c = t.make(at, n);
                auto f = co_await snd.flush(c);
                if (!f) co_return f;
                if (sync_every && ++frames % sync_every == 0) {
                    const auto a = clk::now();
                    auto y = co_await snd.sync();
                    if (!y) co_return y;
                    me.acks_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - a).count());
                }
            }
            const auto a = clk::now();
            auto y = co_await snd.sync();
            me.acks_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - a).count());
            co_return y;
        };
        client_thread c;
        c.run = [&r, &me, &args, senders, drive, w, connections, per](int run) -> std::error_code {
            if (run == args.warmup) me.acks_us.clear();
            std::uint64_t before = 0;
            for (auto& x : *senders) before += x.counters().bytes;
            std::vector<task<result<void>>> all;
            for (std::size_t i = 0; i < senders->size(); ++i) all.push_back(drive((*senders)[i], (w * connections + i) * per, per));
            std::error_code failed;
            for (auto& x : r.block_on(when_all(std::move(all))))
                if (!x && !failed) failed = x.error().code();
            std::uint64_t after = 0;
            for (auto& x : *senders) after += x.counters().bytes;
            me.bytes.push_back(after - before);
            return failed;
        };
        c.close = [&r, senders] {
            for (auto& x : *senders) (void)r.block_on(x.close());
        };
        return c;
    };
    const auto done = run_on_threads(threads, args.warmup + args.repetitions, {}, open);
    if (done.failed) return done.failed;
    std::vector<double> rows_s, mb_s, cpu_per_m, acks_us;
    for (const auto& w : workers) acks_us.insert(acks_us.end(), w.acks_us.begin(), w.acks_us.end());
    std::uint64_t wire_bytes = 0;  // of the run in hand (the last one for the ceiling)
    const double rows_sent = static_cast<double>(per * senders_total);
    for (std::size_t run = 0; run < done.wall.size(); ++run) {
        wire_bytes = 0;
        for (const auto& w : workers) wire_bytes += w.bytes[run];
        if (run < static_cast<std::size_t>(args.warmup)) continue;
        rows_s.push_back(rows_sent / done.wall[run]);
        mb_s.push_back(static_cast<double>(wire_bytes) / done.wall[run] / 1e6);
        cpu_per_m.push_back(done.cpu[run] / rows_sent * 1e6);
    }
    const std::size_t rss_peak_kib = status_kib("VmHWM:");
    // The ceiling: a raw TCP loop moving the same bytes on the same path
    // (loopback, or through the same relay), one connection. Not measured
    // for TLS, a --conf server, a netem namespace or several threads.
    const double ceiling = args.conf.empty() && !tls && !ctx.net && threads == 1
                               ? raw_tcp_mbs(wire_bytes, relay ? ctx.relay_delay : std::nullopt)
                               : 0;
    std::vector<measurement> out{figure(s, "rows/s", rows_s), figure(s, "MB/s", mb_s)};
    if (ceiling > 0 && wire_bytes > 0) {
        // The rows a raw loop moving the same bytes would carry per second.
        const std::string path = relay ? "raw TCP through the same relay" : "raw loopback TCP";
        out[0].ceiling = ceiling * 1e6 * rows_sent / static_cast<double>(wire_bytes);
        out[0].ceiling_name = path + ", same bytes";
        out[1].ceiling = ceiling;
        out[1].ceiling_name = path;
    }
    out.push_back(figure(s, "sender CPU s per M rows", cpu_per_m, {}, {}, false));
    out.push_back(figure(s, "ack us p50", {percentile(acks_us, 0.5)}, {}, {}, false));
    out.push_back(figure(s, "ack us p99", {percentile(acks_us, 0.99)}, {}, {}, false));
    // Memory: what the sender process holds at its peak beyond what it held
    // before connecting, per byte the windows allow in flight; and the
    // server's peak per connection. Neither may grow with the rows sent.
    const double in_flight = static_cast<double>(window * frame_bytes * senders_total);
    const double sender_growth = rss_peak_kib > rss_before_kib ? static_cast<double>(rss_peak_kib - rss_before_kib) * 1024 : 0;
    out.push_back(figure(s, "sender RSS bytes per in-flight byte", {sender_growth / in_flight}, {}, {}, false));
    if (child)
        out.push_back(figure(s, "server peak RSS MB per connection",
                             {child->peak_growth_bytes() / 1e6 / static_cast<double>(senders_total)}, {}, {}, false));
    return out;
}

// ------------------------------------------------------------ qwp-latency

// Rows arrive at a paced rate, as ticks reach a trading service; each batch
// goes as the rows arrived so far once it is full (batch-rows) or its
// oldest row has waited batch-us, and is committed (flush + sync) before the
// next: the latency of a row is from its arrival to the server's OK of the
// commit that holds it. The floor is the same path's round trip with
// nothing to wait for: one row flushed and synced, back to back.
result<std::vector<measurement>> qwp_latency(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rate = std::max<std::size_t>(1, size_knob(s, "rate", 100'000));  // rows/s
    const auto bound = std::chrono::microseconds(size_knob(s, "batch-us", 1000));
    const std::size_t batch_rows = std::max<std::size_t>(1, size_knob(s, "batch-rows", 10'000));
    const auto run_for = std::chrono::milliseconds(std::max<std::size_t>(10, size_knob(s, "duration-ms", 1000)));
    const std::size_t total = std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(rate) *
                                                                                 std::chrono::duration<double>(run_for).count()));
    const workloads::quote_table t(std::min<std::size_t>(total, 1'000'000));
    std::unique_ptr<qwp::test_server_thread> local;
    std::string conf = args.conf;
    if (conf.empty()) {
        qwp::test_server_options o;
        o.keep_rows = false;
        try {
            local = std::make_unique<qwp::test_server_thread>(o);
        } catch (const std::system_error& e) {
            return e.code();
        }
        conf = local->server().conf();
    }
    reactor r;
    auto snd = r.block_on(qwp::sender::connect(conf));
    if (!snd) return snd.error();
    auto rows_at = [&](std::size_t from, std::size_t n) { return t.make(from % t.sym.size(), std::min(n, t.sym.size() - from % t.sym.size())); };
    std::vector<double> latency_us, floor_us, rows_s;
    int runs = 0;
    auto one_run = [&]() -> double {
        if (runs++ == args.warmup) {  // the first measured run: forget the warm-up's figures
            latency_us.clear();
            floor_us.clear();
        }
        auto body = [&]() -> task<result<double>> {
            // The floor: one row, flushed and acknowledged, back to back.
            for (int i = 0; i < 200; ++i) {
                const auto a = clk::now();
                auto f = co_await snd->flush(rows_at(static_cast<std::size_t>(i), 1));
                if (!f) co_return f.error();
                auto y = co_await snd->sync();
                if (!y) co_return y.error();
                floor_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - a).count());
            }
            const auto start = clk::now();
            auto arrival = [&](std::size_t i) { return start + std::chrono::nanoseconds(i * 1'000'000'000ull / rate); };
            for (std::size_t next = 0; next < total;) {
                // The batch goes when its oldest row has waited the bound, or
                // when it is full, whichever comes first.
                const std::size_t last = std::min(total, next + batch_rows) - 1;
                const auto go = std::min(arrival(next) + bound, arrival(last));
                if (clk::now() < go) (void)co_await sleep_until(go);
                const auto now = clk::now();
                // Every row that has arrived by now, up to a full batch.
                const auto since = static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count());
                const std::size_t arrived = std::min(total, static_cast<std::size_t>(static_cast<double>(since) * 1e-9 * static_cast<double>(rate)) + 1);
                const std::size_t end = std::min({std::max(arrived, next + 1), next + batch_rows, total});
                for (std::size_t from = next; from < end;) {
                    const qwp::chunk c = rows_at(from, end - from);
                    auto f = co_await snd->flush(c);
                    if (!f) co_return f.error();
                    from += c.rows();
                }
                auto y = co_await snd->sync();
                if (!y) co_return y.error();
                const auto ok = clk::now();
                for (std::size_t i = next; i < end; ++i)
                    latency_us.push_back(std::chrono::duration<double, std::micro>(ok - arrival(i)).count());
                next = end;
            }
            co_return std::chrono::duration<double>(clk::now() - start).count();
        };
        auto secs = r.block_on(body());
        if (!secs) throw std::system_error(secs.error(), "qwp-latency");
        return *secs;
    };
    try {
        for (double secs : repeat(args, one_run)) rows_s.push_back(static_cast<double>(total) / secs);
    } catch (const std::system_error& e) {
        return e.code();
    }
    (void)r.block_on(snd->close());
    const double floor = percentile(floor_us, 0.5);
    auto lat = [&](const char* name, double p) {
        return figure(s, name, {percentile(latency_us, p)}, floor, "round trip of one row, flush + sync", false);
    };
    return std::vector<measurement>{figure(s, "rows/s", rows_s, static_cast<double>(rate), "the arrival rate"),
                                    lat("latency us p50", 0.5), lat("latency us p99", 0.99), lat("latency us p99.9", 0.999),
                                    lat("latency us max", 1.0)};
}

// ------------------------------------------------------------ kdb-query

// A kdb+ server answering every query with the query itself, on its own
// thread (inside the netem namespace when there is one).
class kdb_echo_thread {
public:
    kdb_echo_thread(const context& ctx, reactor::options ro) {
        std::promise<std::error_code> ready;
        auto up = ready.get_future();
        host_ = ctx.net ? ctx.net->server_ip() : "127.0.0.1";
        thread_ = std::thread([this, &ready, net = ctx.net, ro] {
            if (net) {
                if (auto e = net->enter(); !e) {
                    ready.set_value(e.error());
                    return;
                }
            }
            reactor r(ro);
            auto a = tcp_listen(host_, 0);
            if (!a) {
                ready.set_value(a.error());
                return;
            }
            port_ = a->local_endpoint().port();
            mailbox_ = r.get_mailbox();
            kdb::server srv;
            srv.on_sync([](kdb::peer&, kdb::k x) -> task<result<kdb::k>> { co_return x; });
            ready.set_value({});
            r.block_on(srv.serve(*a, stop_.get_token()));
        });
        if (auto ec = up.get()) {
            thread_.join();
            throw std::system_error(ec, "kdb server");
        }
    }
    ~kdb_echo_thread() {
        mailbox_->post([this] { stop_.request_stop(); });
        thread_.join();
    }
    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }

private:
    std::string host_;
    std::uint16_t port_ = 0;
    std::stop_source stop_;
    std::shared_ptr<reactor::mailbox> mailbox_;
    std::thread thread_;
};

// Receives exactly n bytes: blocking, or (spin) polling with MSG_DONTWAIT.
bool recv_all(int fd, char* p, std::size_t n, bool spin) {
    for (std::size_t got = 0; got < n;) {
        const auto r = ::recv(fd, p + got, n - got, spin ? MSG_DONTWAIT : MSG_WAITALL);
        if (r > 0) got += static_cast<std::size_t>(r);
        else if (r == 0 || !spin || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    }
    return true;
}

// The floor for a round trip: send/recv of the same bytes over a loopback
// TCP pair, one thread per end, each blocking in recv or (spin) polling.
double raw_rtt_us(std::size_t bytes, int rounds, bool spin = false) {
    int fds[2];
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(l);
        return 0;
    }
    fds[0] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fds[0], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
    fds[1] = ::accept(l, nullptr, nullptr);
    ::close(l);
    int one = 1;
    for (int fd : fds) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread echo([fd = fds[1], bytes, spin] {
        std::vector<char> buf(bytes);
        while (recv_all(fd, buf.data(), bytes, spin))
            if (::send(fd, buf.data(), bytes, MSG_NOSIGNAL) <= 0) break;
    });
    std::vector<char> buf(bytes, 'x');
    const double secs = seconds_of([&] {
        for (int i = 0; i < rounds; ++i) {
            ::send(fds[0], buf.data(), bytes, MSG_NOSIGNAL);
            (void)recv_all(fds[0], buf.data(), bytes, spin);
        }
    });
    ::shutdown(fds[0], SHUT_RDWR);
    echo.join();
    ::close(fds[0]);
    ::close(fds[1]);
    return secs / rounds * 1e6;
}

result<std::vector<measurement>> kdb_query(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t outstanding = std::max<std::size_t>(1, size_knob(s, "outstanding", 1));
    const std::size_t connections = std::max<std::size_t>(1, size_knob(s, "connections", 1));
    const std::size_t queries = std::max<std::size_t>(outstanding * connections, size_knob(s, "queries", 20'000));
    // spin-us: both ends' reactors spin that long before they sleep, and
    // the raw floor polls instead of blocking (each compared like for like).
    reactor::options ro;
    ro.busy_poll = std::chrono::microseconds(size_knob(s, "spin-us", 0));
    const bool spin = ro.busy_poll.count() > 0;
    std::unique_ptr<kdb_echo_thread> local;
    std::unique_ptr<delay_relay> relay;
    std::string host;
    std::uint16_t port = 0;
    if (!args.conf.empty()) {
        auto a = kdb::parse_address(args.conf);  // host:port as hopen takes it
        if (!a) return a.error();
        if (a->kind != kdb::transport::tcp) return error(std::make_error_code(std::errc::invalid_argument), "--conf: kdb-query connects over TCP (host:port)");
        host = a->host;
        port = a->port;
    } else {
        try {
            local = std::make_unique<kdb_echo_thread>(ctx, ro);
        } catch (const std::system_error& e) {
            return e.code();
        }
        host = local->host();
        port = local->port();
        if (ctx.relay_delay) {
            auto rl = delay_relay::start(host, port, *ctx.relay_delay);
            if (!rl) return rl.error();
            relay = std::move(*rl);
            port = relay->port();
        }
    }
    // Client threads, each with `connections` connections on its reactor.
    const std::size_t threads = std::max<std::size_t>(1, size_knob(s, "threads", 1));
    const std::size_t per = queries / (connections * threads);
    std::vector<std::vector<double>> batches(threads);  // each thread's batch round trips, us
    auto open = [&](std::size_t w, reactor& r) -> result<client_thread> {
        auto conns = std::make_shared<std::vector<kdb::connection>>();
        for (std::size_t i = 0; i < connections; ++i) {
            auto c = r.block_on(kdb::connection::connect_tcp(host, port));
            if (!c) return c.error();
            conns->push_back(std::move(*c));
        }
        std::vector<double>& batch_us = batches[w];
        auto drive = [&batch_us, outstanding](kdb::connection& c, std::size_t n) -> task<result<void>> {
            const kdb::k q = kdb::new_long(42);
            for (std::size_t done = 0; done < n; done += outstanding) {
                std::vector<task<result<kdb::k>>> batch;
                for (std::size_t i = 0; i < std::min(outstanding, n - done); ++i) batch.push_back(c.query(q));
                const auto t0 = clk::now();
                auto rs = co_await when_all(std::move(batch));
                batch_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
                for (auto& x : rs)
                    if (!x) co_return x.error();
            }
            co_return result<void>{};
        };
        client_thread c;
        c.run = [&r, &batch_us, &args, conns, drive, per](int run) -> std::error_code {
            if (run == args.warmup) batch_us.clear();
            std::vector<task<result<void>>> all;
            for (auto& x : *conns) all.push_back(drive(x, per));
            std::error_code failed;
            for (auto& x : r.block_on(when_all(std::move(all))))
                if (!x && !failed) failed = x.error().code();
            return failed;
        };
        c.close = [conns] {
            for (auto& x : *conns) x.close();
        };
        return c;
    };
    const auto done = run_on_threads(threads, args.warmup + args.repetitions, ro, open);
    if (done.failed) return done.failed;
    const double sent = static_cast<double>(per * connections * threads);
    std::vector<double> qps, cpu_us, batch_us;
    for (std::size_t run = static_cast<std::size_t>(args.warmup); run < done.wall.size(); ++run) {
        qps.push_back(sent / done.wall[run]);
        cpu_us.push_back(done.cpu[run] / sent * 1e6);
    }
    for (const auto& b : batches) batch_us.insert(batch_us.end(), b.begin(), b.end());
    std::vector<measurement> out{figure(s, "queries/s", qps), figure(s, "client CPU us per query", cpu_us, {}, {}, false)};
    const double floor = args.conf.empty() && !ctx.net && !relay ? raw_rtt_us(17, 20000, spin) : 0;
    out.push_back(figure(s, "round trip us p50", {percentile(batch_us, 0.5)}, {}, {}, false));
    if (floor > 0 && outstanding == 1) {
        out.back().ceiling = floor;
        out.back().ceiling_name = spin ? "raw socket round trip, same bytes, polling" : "raw socket round trip, same bytes";
    }
    out.push_back(figure(s, "round trip us p99", {percentile(batch_us, 0.99)}, {}, {}, false));
    if (args.peer == "javakdb" && local && !relay) {
        // KX's Java client against the same qwire server, and qwire's client
        // against javakdb serving: one query at a time (javakdb's c.k waits
        // for each answer), next to qwire at both ends.
        const std::string both_qwire = "qwire client and server";
        const double qwire_p50 = percentile(batch_us, 0.5);
        auto java = java_process::start("bench-query " + std::to_string(port) + " " + std::to_string(queries));
        if (!java) return java.error();
        auto v = named_values(**java);
        if (auto f = (*java)->finish(); !f) return f.error();
        if (v["queries/s"].empty()) return error(std::make_error_code(std::errc::io_error), "--peer javakdb: the driver printed no figures");
        out.push_back(figure(s, "javakdb client -> qwire server queries/s", v["queries/s"]));
        out.push_back(figure(s, "javakdb client -> qwire server round trip us p50", v["round trip us p50"], qwire_p50, both_qwire, false));
        auto server = java_process::start("server");
        if (!server) return server.error();
        const auto first = (*server)->line();
        const long jport = first ? std::strtol(first->c_str(), nullptr, 10) : 0;
        if (jport <= 0 || jport > 65535) return error(std::make_error_code(std::errc::io_error), "--peer javakdb: the java server named no port");
        reactor r(ro);
        std::vector<double> rtt;
        double secs = 0;
        auto body = [&]() -> task<result<void>> {
            auto c = co_await kdb::connection::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(jport));
            if (!c) co_return c.error();
            const kdb::k q = kdb::new_long(42);
            const auto start = clk::now();
            for (std::size_t i = 0; i < queries; ++i) {
                const auto t0 = clk::now();
                auto x = co_await c->query(q);
                if (!x) co_return x.error();
                rtt.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
            }
            secs = std::chrono::duration<double>(clk::now() - start).count();
            c->close();
            co_return result<void>{};
        };
        if (auto b = r.block_on(body()); !b) return b.error();
        if (auto f = (*server)->finish(); !f) return f.error();
        out.push_back(figure(s, "qwire client -> javakdb server queries/s", {static_cast<double>(queries) / secs}));
        out.push_back(figure(s, "qwire client -> javakdb server round trip us p50", {percentile(rtt, 0.5)}, qwire_p50, both_qwire, false));
    }
    return out;
}

// ------------------------------------------------------------ kdb-tick

// A tickerplant (no log) with a `trade table on its own thread.
class tickerplant_thread {
public:
    explicit tickerplant_thread(reactor::options ro = {}) {
        std::promise<std::error_code> ready;
        auto up = ready.get_future();
        thread_ = std::thread([this, &ready, ro] {
            reactor r(ro);
            kdb::server srv;
            kdb::tickerplant tp(srv);
            (void)tp.add_table("trade", kdb::new_table({"time", "sym", "price", "size"},
                                                       {kdb::new_vector(kdb::qtype::timespan, 0), kdb::new_symbol_list({}),
                                                        kdb::new_float_list({}), kdb::new_long_list({})})
                                            .value());
            auto a = tcp_listen("127.0.0.1", 0);
            if (!a) {
                ready.set_value(a.error());
                return;
            }
            port_ = a->local_endpoint().port();
            mailbox_ = r.get_mailbox();
            ready.set_value({});
            r.block_on(srv.serve(*a, stop_.get_token()));
        });
        if (auto ec = up.get()) {
            thread_.join();
            throw std::system_error(ec, "tickerplant");
        }
    }
    ~tickerplant_thread() {
        mailbox_->post([this] { stop_.request_stop(); });
        thread_.join();
    }
    std::uint16_t port() const noexcept { return port_; }

private:
    std::uint16_t port_ = 0;
    std::stop_source stop_;
    std::shared_ptr<reactor::mailbox> mailbox_;
    std::thread thread_;
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch()).count();
}

// A feed on a thread (and reactor) of its own, as a feed process would be:
// publishes `updates` messages into the tickerplant at `port`, paced at `rate`
// updates/s or as fast as it can; make(i) builds message i just before it goes.
class feed_thread {
public:
    feed_thread(std::uint16_t port, std::size_t updates, std::size_t rate, std::function<kdb::k(std::size_t)> make)
        : thread_([this, port, updates, rate, make = std::move(make)] {
              reactor r;
              auto body = [&]() -> task<result<void>> {
                  auto feed = co_await kdb::connection::connect_tcp("127.0.0.1", port);
                  if (!feed) co_return feed.error();
                  const auto start = clock::now();
                  for (std::size_t i = 0; i < updates; ++i) {
                      if (rate) (void)co_await sleep_until(start + std::chrono::nanoseconds(i * 1'000'000'000ull / rate));
                      auto w = co_await feed->send_async(make(i));
                      if (!w) co_return w;
                  }
                  // A round trip: the tickerplant has read everything before the feed closes.
                  auto y = co_await feed->query(kdb::new_symbol(""));
                  feed->close();
                  if (!y && y.error() != kdb::errc::remote) co_return y.error();
                  co_return result<void>{};
              };
              ended_ = r.block_on(body());
          }) {}
    feed_thread(const feed_thread&) = delete;
    feed_thread& operator=(const feed_thread&) = delete;
    ~feed_thread() {
        if (thread_.joinable()) thread_.join();
    }
    // Waits for the feed to finish; what it ended with.
    result<void> join() {
        if (thread_.joinable()) thread_.join();
        return ended_;
    }

private:
    result<void> ended_;
    std::thread thread_;
};

// One trade update, `.u.upd[`trade; columns].
kdb::k trade_update(kdb::k cols) { return kdb::new_list_of(kdb::new_symbol(".u.upd"), kdb::new_symbol("trade"), std::move(cols)); }

// Publish rate and publish-to-receive latency through the tickerplant: a
// feed sends `updates` (`.u.upd; `trade; columns) messages of `rows` rows
// (the first time field carries the send time); a subscriber receives them.
result<std::vector<measurement>> kdb_tick(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rows = std::max<std::size_t>(1, size_knob(s, "rows", 100));
    const std::size_t updates = std::max<std::size_t>(1, size_knob(s, "updates", 2000));
    const std::size_t rate = size_knob(s, "rate", 0);  // updates/s; 0: as fast as the feed can
    const bool own_thread = size_knob(s, "feed-thread", 0) != 0;  // the feed on a thread of its own
    // spin-us: the tickerplant's and the subscriber's reactors spin that
    // long before they sleep.
    reactor::options ro;
    ro.busy_poll = std::chrono::microseconds(size_knob(s, "spin-us", 0));
    std::unique_ptr<tickerplant_thread> tp;
    try {
        tp = std::make_unique<tickerplant_thread>(ro);
    } catch (const std::system_error& e) {
        return e.code();
    }
    reactor r(ro);
    auto feed = r.block_on(kdb::connection::connect_tcp("127.0.0.1", tp->port()));
    if (!feed) return feed.error();
    auto sub_conn = r.block_on(kdb::connection::connect_tcp("127.0.0.1", tp->port()));
    if (!sub_conn) return sub_conn.error();
    auto sub = r.block_on(kdb::subscriber::subscribe(std::move(*sub_conn), "trade"));
    if (!sub) return sub.error();
    std::vector<std::string_view> syms(rows, "IBM");
    std::vector<double> px(rows, 100.5);
    std::vector<std::int64_t> sizes(rows, 100), times(rows, 0);
    std::vector<double> latency_us;
    // An update: the first time field carries the send time.
    auto make = [&](std::size_t) {
        times[0] = now_ns();
        return trade_update(kdb::new_list_of(kdb::new_temporal_list(kdb::qtype::timespan, times),
                                             kdb::new_symbol_list(std::span<const std::string_view>(syms)),
                                             kdb::new_float_list(px), kdb::new_long_list(sizes)));
    };
    auto one_run = [&]() -> double {
        std::optional<feed_thread> apart;
        auto publish = [&]() -> task<result<void>> {
            if (own_thread) {
                apart.emplace(tp->port(), updates, rate, make);
                co_return result<void>{};
            }
            const auto start = clock::now();
            for (std::size_t i = 0; i < updates; ++i) {
                // Paced: the latency of one update, not of a queue.
                if (rate) (void)co_await sleep_until(start + std::chrono::nanoseconds(i * 1'000'000'000ull / rate));
                auto w = co_await feed->send_async(make(i));
                if (!w) co_return w;
            }
            co_return result<void>{};
        };
        auto receive = [&]() -> task<result<void>> {
            for (std::size_t got = 0; got < updates;) {
                auto m = co_await sub->next();
                if (!m) co_return m.error();
                if (m->function != "upd") continue;
                const auto t = m->data.column("time");
                if (!t) co_return t.error();
                const auto first = t->get_long_list();
                if (!first || first->empty()) co_return make_error_code(std::errc::bad_message);
                latency_us.push_back(static_cast<double>(now_ns() - (*first)[0]) / 1e3);
                ++got;
            }
            co_return result<void>{};
        };
        std::tuple<result<void>, result<void>> rs;
        const double secs = seconds_of([&] { rs = r.block_on(when_all(publish(), receive())); });
        if (apart && std::get<0>(rs)) std::get<0>(rs) = apart->join();
        if (!std::get<0>(rs)) throw std::system_error(std::get<0>(rs).error(), "kdb-tick publish");
        if (!std::get<1>(rs)) throw std::system_error(std::get<1>(rs).error(), "kdb-tick receive");
        return secs;
    };
    std::vector<double> ups, rps;
    try {
        for (double secs : repeat(args, one_run)) {
            ups.push_back(static_cast<double>(updates) / secs);
            rps.push_back(static_cast<double>(updates * rows) / secs);
        }
    } catch (const std::system_error& e) {
        return e.code();
    }
    feed->close();
    sub->conn().close();
    return std::vector<measurement>{figure(s, "updates/s", ups), figure(s, "rows/s", rps),
                                    figure(s, "latency us p50", {percentile(latency_us, 0.5)}, {}, {}, false),
                                    figure(s, "latency us p99", {percentile(latency_us, 0.99)}, {}, {}, false)};
}

// ------------------------------------------------------------ bridge

// One bridge run: a feed publishes `updates` messages of `rows` trades into
// the tickerplant (paced at `rate` updates/s, or as fast as it can), the
// bridge streams them into the QWP test server; the time from the first
// publish to the commit covering the last, and each message's publish-to-
// commit latency.
struct bridge_run {
    double seconds = 0;
    std::vector<double> latency_ms;
};

result<bridge_run> run_bridge_once(std::uint16_t tp_port, const std::string& conf, std::size_t rows, std::size_t updates,
                                   std::size_t rate, std::chrono::milliseconds commit) {
    reactor r;
    std::vector<std::string_view> syms(rows);
    std::vector<double> px(rows);
    std::vector<std::int64_t> sizes(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        syms[i] = i % 3 == 0 ? "AAPL" : i % 3 == 1 ? "MSFT" : "GOOG";
        px[i] = 100.0 + static_cast<double>(i % 100) / 4;
        sizes[i] = static_cast<std::int64_t>(i);
    }
    bridge::options o;
    o.progress_table.clear();  // the figure is the rows' own path
    o.commit_time = commit;
    o.batch_time = commit;
    std::stop_source stop;
    notifier changed;
    std::int64_t first = kdb::null_long, committed = kdb::null_long;
    // When each update went (ns on the steady clock; 0: not yet), written by the feed's thread.
    std::vector<std::atomic<std::int64_t>> sent(updates);
    std::size_t next_latency = 0;
    bridge_run out;
    out.latency_ms.reserve(updates);
    auto on_status = [&](const bridge::status& st) {
        if (st.commits == 0) first = st.resumed_from;
        committed = st.committed_pos;
        const std::int64_t now = now_ns();
        while (first != kdb::null_long && committed != kdb::null_long && next_latency < updates &&
               first + static_cast<std::int64_t>(next_latency) <= committed) {
            const std::int64_t at = sent[next_latency].load(std::memory_order_acquire);
            if (at == 0) break;
            out.latency_ms.push_back(static_cast<double>(now - at) / 1e6);
            ++next_latency;
        }
        changed.notify_all();
    };
    std::optional<result<void>> ended;
    auto run = [&]() -> task<void> {
        ended = co_await bridge::run("127.0.0.1:" + std::to_string(tp_port), conf, o, on_status, op_options(stop.get_token()));
        changed.notify_all();
    };
    std::optional<feed_thread> feed;
    auto drive = [&]() -> task<result<void>> {
        while (first == kdb::null_long && !ended) (void)co_await changed.wait();
        if (ended) co_return ended->error();
        const auto start = clock::now();
        // The feed on a thread of its own (a feed process of its own, in life).
        feed.emplace(tp_port, updates, rate, [&](std::size_t i) {
            auto cols = kdb::new_list_of(kdb::new_symbol_list(std::span<const std::string_view>(syms)), kdb::new_float_list(px),
                                         kdb::new_long_list(sizes));
            sent[i].store(now_ns(), std::memory_order_release);
            return trade_update(std::move(cols));
        });
        const std::int64_t last = first + static_cast<std::int64_t>(updates) - 1;
        while ((committed == kdb::null_long || committed < last) && !ended) (void)co_await changed.wait();
        out.seconds = std::chrono::duration<double>(clock::now() - start).count();
        stop.request_stop();
        co_return result<void>{};
    };
    auto [d, _] = r.block_on(when_all(drive(), run()));
    if (feed)
        if (auto f = feed->join(); !f) return f.error();
    if (!d) return d.error();
    if (ended && *ended && !(*ended)) return ended->error();
    return out;
}

// The QWP half alone: the same rows as chunks of the bridge's batch size,
// flushed and committed at the end.
result<double> qwp_alone_seconds(const std::string& conf, std::size_t rows, std::size_t updates) {
    reactor r;
    const std::size_t batch = std::min<std::size_t>(rows * updates, 100'000);
    std::vector<std::int32_t> codes(batch);
    std::vector<double> px(batch);
    std::vector<std::int64_t> sizes(batch), ts(batch);
    const std::string_view dict[] = {"AAPL", "MSFT", "GOOG"};
    for (std::size_t i = 0; i < batch; ++i) {
        codes[i] = static_cast<std::int32_t>(i % rows % 3);
        px[i] = 100.0 + static_cast<double>(i % 100) / 4;
        sizes[i] = static_cast<std::int64_t>(i % rows);
        ts[i] = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(i);
    }
    double secs = 0;
    auto body = [&]() -> task<result<void>> {
        auto s = co_await qwp::sender::connect(conf);
        if (!s) co_return s.error();
        const auto t0 = clock::now();
        for (std::size_t done = 0; done < rows * updates; done += batch) {
            const std::size_t n = std::min(batch, rows * updates - done);
            qwp::chunk c("trade", n);
            c.symbol("sym", std::span<const std::int32_t>(codes), std::span<const std::string_view>(dict));
            c.column("price", std::span<const double>(px));
            c.column("size", std::span<const std::int64_t>(sizes));
            c.designated(ts);
            auto f = co_await s->flush(c);
            if (!f) co_return f;
        }
        auto y = co_await s->sync();
        if (!y) co_return y;
        secs = std::chrono::duration<double>(clock::now() - t0).count();
        co_return result<void>{};
    };
    auto b = r.block_on(body());
    if (!b) return b.error();
    return secs;
}

// Tickerplant -> bridge -> QWP test server: rows/s to acknowledged commit
// and publish-to-commit latency, next to the two halves alone in the same
// run (the tickerplant to a subscriber, as kdb-tick measures it; QWP ingest
// of the same rows).
result<std::vector<measurement>> bridge_scenario(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t rows = std::max<std::size_t>(1, size_knob(s, "rows", 100));
    const std::size_t updates = std::max<std::size_t>(1, size_knob(s, "updates", 5000));
    const std::size_t rate = size_knob(s, "rate", 0);
    const auto commit = std::chrono::milliseconds(size_knob(s, "commit-ms", 10));
    std::unique_ptr<tickerplant_thread> tp;
    std::unique_ptr<qwp::test_server_thread> qs;
    try {
        tp = std::make_unique<tickerplant_thread>();
        qwp::test_server_options o;
        o.keep_rows = false;
        qs = std::make_unique<qwp::test_server_thread>(o);
    } catch (const std::system_error& e) {
        return e.code();
    }
    const std::string conf = qs->server().conf();
    // The tickerplant alone: the kdb-tick scenario's measurement of the same updates.
    setting tick = {{"rows", std::to_string(rows)}, {"updates", std::to_string(updates)}, {"rate", std::to_string(rate)},
                    {"feed-thread", "1"}};
    cli once = args;
    once.repetitions = 1;
    once.warmup = 0;
    context tick_ctx{once, nullptr, std::nullopt};
    std::vector<double> bridged, tick_alone, qwp_alone, latency, cpu_bridged, cpu_tick, cpu_qwp;
    const double n = static_cast<double>(rows * updates);
    // CPU seconds (user + system, every thread of this process) per million rows.
    auto cpu_per_m = [&](double before) { return (process_cpu_seconds() - before) / n * 1e6; };
    for (int i = 0; i < args.warmup + args.repetitions; ++i) {
        double c0 = process_cpu_seconds();
        auto b = run_bridge_once(tp->port(), conf, rows, updates, rate, commit);
        if (!b) return b.error();
        const double cb = cpu_per_m(c0);
        c0 = process_cpu_seconds();
        auto t = kdb_tick(tick, tick_ctx);
        if (!t) return t.error();
        const double ct = cpu_per_m(c0);
        c0 = process_cpu_seconds();
        auto q = qwp_alone_seconds(conf, rows, updates);
        if (!q) return q.error();
        const double cq = cpu_per_m(c0);
        if (i < args.warmup) continue;
        cpu_bridged.push_back(cb);
        cpu_tick.push_back(ct);
        cpu_qwp.push_back(cq);
        bridged.push_back(n / b->seconds);
        latency.insert(latency.end(), b->latency_ms.begin(), b->latency_ms.end());
        for (const auto& m : *t)
            if (m.metric == "rows/s") tick_alone.push_back(m.value.median);
        qwp_alone.push_back(n / *q);
    }
    const double tick_ceiling = summarize(tick_alone).median, qwp_ceiling = summarize(qwp_alone).median;
    const bool tick_slower = tick_ceiling < qwp_ceiling;
    // The bridge does the work of both halves (decoding what the tickerplant
    // sends, encoding what QuestDB takes) next to both peers: when the halves
    // each keep the cores busy, what their CPU adds up to bounds it.
    const double cores = std::max(1u, std::thread::hardware_concurrency());
    const double halves_cpu = summarize(cpu_tick).median + summarize(cpu_qwp).median;
    return std::vector<measurement>{
        figure(s, "rows/s", bridged, std::min(tick_ceiling, qwp_ceiling),
               tick_slower ? "the slower half alone: tickerplant to a subscriber" : "the slower half alone: QWP ingest of the same rows"),
        figure(s, "tickerplant alone rows/s", tick_alone),
        figure(s, "QWP ingest alone rows/s", qwp_alone),
        figure(s, "CPU s per M rows", cpu_bridged, halves_cpu, "the two halves' CPU added", false),
        figure(s, "tickerplant alone CPU s per M rows", cpu_tick, {}, {}, false),
        figure(s, "QWP ingest alone CPU s per M rows", cpu_qwp, {}, {}, false),
        figure(s, "rows/s the halves' CPU allows", {cores * 1e6 / halves_cpu}),
        figure(s, "publish to commit ms p50", {percentile(latency, 0.5)}, {}, {}, false),
        figure(s, "publish to commit ms p99", {percentile(latency, 0.99)}, {}, {}, false),
    };
}

// ------------------------------------------------------------ reactor

// A connected loopback TCP pair (TCP_NODELAY on both ends).
std::pair<int, int> loopback_pair() {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(l);
        return {-1, -1};
    }
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {-1, -1};
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {c, s};
}

// Round trips of `size` bytes with raw liburing at both ends: the floor.
double raw_uring_rtt_us(std::size_t size, int rounds) {
    auto [c, s] = loopback_pair();
    if (c < 0) return 0;
    auto exchange = [size](io_uring& ring, int fd, char* buf, bool send_first) {
        for (int step = 0; step < 2; ++step) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if ((step == 0) == send_first) io_uring_prep_send(sqe, fd, buf, size, MSG_NOSIGNAL);
            else io_uring_prep_recv(sqe, fd, buf, size, MSG_WAITALL);
            io_uring_submit_and_wait(&ring, 1);
            io_uring_cqe* cqe;
            io_uring_peek_cqe(&ring, &cqe);
            const int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            if (res <= 0) return false;
        }
        return true;
    };
    std::thread server([fd = s, exchange, size] {
        io_uring ring;
        io_uring_queue_init(8, &ring, 0);
        std::vector<char> buf(size);
        while (exchange(ring, fd, buf.data(), false)) {
        }
        io_uring_queue_exit(&ring);
    });
    io_uring ring;
    io_uring_queue_init(8, &ring, 0);
    std::vector<char> buf(size, 'x');
    const double secs = seconds_of([&] {
        for (int i = 0; i < rounds; ++i) exchange(ring, c, buf.data(), true);
    });
    ::shutdown(c, SHUT_RDWR);
    server.join();
    io_uring_queue_exit(&ring);
    ::close(c);
    ::close(s);
    return secs / rounds * 1e6;
}

// The same with a qwire reactor at both ends.
result<double> qwire_rtt_us(std::size_t size, int rounds) {
    auto [c, s] = loopback_pair();
    if (c < 0) return make_error_code(std::errc::address_not_available);
    std::thread server([fd = s, size] {
        reactor r;
        r.block_on([](int fd, std::size_t size) -> task<void> {
            socket_stream st(fd);
            std::vector<std::byte> buf(size);
            for (;;) {
                auto got = co_await read_exact(st, buf);
                if (!got) break;
                auto w = co_await st.write_all(std::span<const std::byte>(buf));
                if (!w) break;
            }
        }(fd, size));
    });
    reactor r;
    double secs = 0;
    r.block_on([](int fd, std::size_t size, int rounds, double& secs) -> task<void> {
        socket_stream st(fd);
        std::vector<std::byte> buf(size, std::byte{'x'});
        const auto t0 = clk::now();
        for (int i = 0; i < rounds; ++i) {
            auto w = co_await st.write_all(std::span<const std::byte>(buf));
            if (!w) break;
            auto got = co_await read_exact(st, buf);
            if (!got) break;
        }
        secs = std::chrono::duration<double>(clk::now() - t0).count();
        st.close();
    }(c, size, rounds, secs));
    server.join();
    return secs / rounds * 1e6;
}

// One-way bulk with qwire at both ends (1 MiB writes), MB/s.
result<double> qwire_bulk_mbs(std::size_t bytes) {
    auto [c, s] = loopback_pair();
    if (c < 0) return make_error_code(std::errc::address_not_available);
    std::thread reader([fd = s, bytes] {
        reactor r;
        r.block_on([](int fd, std::size_t bytes) -> task<void> {
            socket_stream st(fd);
            std::vector<std::byte> buf(1 << 20);
            for (std::size_t got = 0; got < bytes;) {
                auto n = co_await st.read_some(buf);
                if (!n) break;
                got += *n;
            }
        }(fd, bytes));
    });
    reactor r;
    double secs = 0;
    r.block_on([](int fd, std::size_t bytes, double& secs) -> task<void> {
        socket_stream st(fd);
        std::vector<std::byte> buf(1 << 20, std::byte{'x'});
        const auto t0 = clk::now();
        for (std::size_t sent = 0; sent < bytes; sent += buf.size()) {
            auto w = co_await st.write_all(std::span<const std::byte>(buf).first(std::min(buf.size(), bytes - sent)));
            if (!w) break;
        }
        secs = std::chrono::duration<double>(clk::now() - t0).count();
    }(c, bytes, secs));
    reader.join();
    ::close(c);
    return static_cast<double>(bytes) / secs / 1e6;
}

result<std::vector<measurement>> reactor_scenario(const setting& s, const context& ctx) {
    const cli& args = ctx.args;
    const std::size_t size = std::max<std::size_t>(1, size_knob(s, "size", 64));
    const int rounds = static_cast<int>(size_knob(s, "rounds", 20'000));
    const std::size_t bulk = size_knob(s, "bulk-bytes", 256 << 20);
    std::vector<double> q_rtt, raw_rtt, q_bulk, raw_bulk;
    for (int i = 0; i < args.warmup + args.repetitions; ++i) {
        auto q = qwire_rtt_us(size, rounds);
        if (!q) return q.error();
        auto b = qwire_bulk_mbs(bulk);
        if (!b) return b.error();
        const double raw = raw_uring_rtt_us(size, rounds);
        const double rawb = raw_tcp_mbs(bulk);
        if (i < args.warmup) continue;
        q_rtt.push_back(*q);
        raw_rtt.push_back(raw);
        q_bulk.push_back(*b);
        raw_bulk.push_back(rawb);
    }
    return std::vector<measurement>{
        figure(s, "ping-pong us", q_rtt, summarize(raw_rtt).median, "raw liburing, same bytes", false),
        figure(s, "bulk MB/s", q_bulk, summarize(raw_bulk).median, "raw send/recv loop"),
    };
}

}  // namespace

const std::vector<scenario>& scenarios() {
    static const std::vector<scenario> all = {
        {"reactor", "ping-pong round trip and one-way bulk next to raw liburing and raw sockets",
         {"size", "rounds", "bulk-bytes"}, reactor_scenario},
        {"qwp-encode", "QWP chunk encoding vs memcpy", {"rows", "symbols"}, qwp_encode},
        {"qwp-ingest", "QWP end to end into the built-in test server or --conf",
         {"window", "frame-bytes", "connections", "threads", "tls", "rows", "sync-every", "sf"}, qwp_ingest, {"tls", "sf"}},
        {"qwp-latency", "row arrival to server OK at a paced rate (rows/s), each batch committed when full or after batch-us",
         {"batch-us", "rate", "batch-rows", "duration-ms"}, qwp_latency},
        {"kdb-codec", "kdb+ encode/decode/compress/decompress vs memcpy (types as q type letters, data=random|repetitive)",
         {"rows", "symbols", "types", "data"}, kdb_codec, {"types", "data"}},
        {"kdb-tick", "publish rate and publish-to-receive latency through the built-in tickerplant (rows per update)",
         {"rows", "updates", "rate", "feed-thread", "spin-us"}, kdb_tick},
        {"kdb-query", "kdb+ sync queries into the built-in server or --conf host:port",
         {"outstanding", "connections", "threads", "queries", "spin-us"}, kdb_query},
        {"bridge", "tickerplant -> qwire's bridge -> QWP test server: rows/s to commit and publish-to-commit latency, "
                   "next to the tickerplant alone and QWP ingest alone",
         {"rows", "updates", "rate", "commit-ms"}, bridge_scenario},
    };
    return all;
}

std::string check_knobs(const scenario& sc, const cli& args) {
    for (const auto& k : args.knobs) {
        if (std::find(sc.knobs.begin(), sc.knobs.end(), k.name) != sc.knobs.end()) {
            if (std::find(sc.words.begin(), sc.words.end(), k.name) != sc.words.end()) continue;
            for (const auto& v : k.values)
                if (!parse_size(v)) return "--" + k.name + ": '" + v + "' is not a number (sizes may end in k, m or g)";
            continue;
        }
        std::string known;
        for (auto n : sc.knobs) known += (known.empty() ? "--" : ", --") + std::string(n);
        return std::string(sc.name) + " has no knob --" + k.name + " (its knobs: " + known + ")";
    }
    return {};
}

const scenario* find_scenario(std::string_view name) {
    for (const auto& s : scenarios())
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace qwire::perf
