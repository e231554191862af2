#include "harness.hpp"

#include <qwire/core/reactor.hpp>
#include <qwire/proto/http/json.hpp>

#include <liburing.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace qwire::perf {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    while (true) {
        const std::size_t at = s.find(sep);
        out.emplace_back(s.substr(0, at));
        if (at == std::string_view::npos) break;
        s.remove_prefix(at + 1);
    }
    return out;
}

std::string number(double v) {
    char buf[32];
    if (std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-3 && v != 0)) std::snprintf(buf, sizeof buf, "%.4g", v);
    else std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string setting_text(const setting& s) {
    std::string out;
    for (const auto& [k, v] : s) {
        if (!out.empty()) out += ' ';
        out += k + "=" + v;
    }
    return out.empty() ? "-" : out;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view t) {
    if (t.empty()) return std::nullopt;
    std::uint64_t mul = 1;
    const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(t.back())));
    if (last == 'k') mul = 1ull << 10;
    else if (last == 'm') mul = 1ull << 20;
    else if (last == 'g') mul = 1ull << 30;
    if (mul != 1) t.remove_suffix(1);
    if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    if (t.size() > 12) return std::nullopt;
    return std::stoull(std::string(t)) * mul;
}

result<cli> parse_args(int argc, const char* const* argv, std::string* why) {
    auto fail = [&](std::string msg) -> result<cli> {
        if (why) *why = std::move(msg);
        return make_error_code(errc::invalid_argument);
    };
    cli c;
    for (int i = 0; i < argc; ++i) {
        if (i) c.command_line += ' ';
        const std::string a = argv[i];
        const bool plain = !a.empty() && a.find_first_of(" \"'$;&|") == std::string::npos;
        c.command_line += plain ? a : "'" + a + "'";
    }
    int i = 1;
    if (i >= argc || argv[i][0] == '-') return fail("usage: qwire-perf SCENARIO [--knob v1,v2,...] ...");
    c.scenario = argv[i++];
    std::set<std::string> seen;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quiet") {
            c.quiet = true;
            continue;
        }
        if (a.size() < 3 || a.rfind("--", 0) != 0) return fail("expected --option, got '" + a + "'");
        const std::string name = a.substr(2);
        if (i + 1 >= argc) return fail("--" + name + " needs a value");
        const std::string v = argv[++i];
        if (!seen.insert(name).second) return fail("--" + name + " given twice");
        auto count = [&](int& out) -> bool {
            auto n = parse_size(v);
            if (!n || *n > 1000000) return false;
            out = static_cast<int>(*n);
            return true;
        };
        if (name == "reps") {
            if (!count(c.repetitions) || c.repetitions < 1) return fail("--reps takes a count of at least 1");
        } else if (name == "warmup") {
            if (!count(c.warmup)) return fail("--warmup takes a count");
        } else if (name == "json") {
            c.json = v;
        } else if (name == "csv") {
            c.csv = v;
        } else if (name == "plot") {
            c.plot = v;
        } else if (name == "plot-metric") {
            c.plot_metric = v;
        } else if (name == "netem") {
            c.netem = v;
        } else if (name == "conf") {
            c.conf = v;
        } else if (name == "peer") {
            if (v != "javakdb") return fail("--peer: the peer qwire-perf can time is javakdb, not '" + v + "'");
            c.peer = v;
        } else if (name == "pin") {
            if (!count(c.pin)) return fail("--pin takes a CPU number");
        } else {
            knob k{name, split(v, ',')};
            for (const auto& x : k.values)
                if (x.empty()) return fail("--" + name + ": empty value in '" + v + "'");
            c.knobs.push_back(std::move(k));
        }
    }
    return c;
}

std::vector<setting> expand(const std::vector<knob>& knobs) {
    std::vector<setting> out{setting{}};
    for (const auto& k : knobs) {
        std::vector<setting> next;
        for (const auto& s : out)
            for (const auto& v : k.values) {
                setting t = s;
                t.emplace_back(k.name, v);
                next.push_back(std::move(t));
            }
        out = std::move(next);
    }
    return out;
}

std::string value_of(const setting& s, const std::string& name, const std::string& fallback) {
    for (const auto& [k, v] : s)
        if (k == name) return v;
    return fallback;
}

stats summarize(std::vector<double> x) {
    stats s;
    s.n = x.size();
    if (x.empty()) return s;
    std::sort(x.begin(), x.end());
    s.min = x.front();
    s.max = x.back();
    s.median = x.size() % 2 ? x[x.size() / 2] : (x[x.size() / 2 - 1] + x[x.size() / 2]) / 2;
    s.spread = s.median != 0 ? (s.max - s.min) / s.median : 0;
    return s;
}

double percentile(std::vector<double> x, double p) {
    if (x.empty()) return 0;
    std::sort(x.begin(), x.end());
    const auto rank = static_cast<std::size_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(x.size())));
    return x[rank == 0 ? 0 : rank - 1];
}

machine probe_machine() {
    machine m;
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);) {
        if (line.rfind("model name", 0) == 0) {
            m.cpu_model = line.substr(line.find(':') + 2);
            break;
        }
    }
    m.cores = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));
    utsname u{};
    if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
#ifdef QWIRE_BUILD_TYPE
    m.build_type = QWIRE_BUILD_TYPE;
#endif
    m.pinning = "none (threads float)";
    // What io_uring gives a reactor here.
    try {
        reactor r;
        m.io_uring = std::string(r.defer_taskrun() ? "SINGLE_ISSUER|DEFER_TASKRUN" : "plain ring");
        const unsigned f = r.features();
        const std::pair<unsigned, const char*> known[] = {
            {IORING_FEAT_SINGLE_MMAP, "SINGLE_MMAP"}, {IORING_FEAT_NODROP, "NODROP"},
            {IORING_FEAT_FAST_POLL, "FAST_POLL"},     {IORING_FEAT_EXT_ARG, "EXT_ARG"},
            {IORING_FEAT_SUBMIT_STABLE, "SUBMIT_STABLE"}};
        for (const auto& [bit, name] : known)
            if (f & bit) m.io_uring += std::string(" ") + name;
    } catch (const std::exception& e) {
        m.io_uring = std::string("unavailable: ") + e.what();
    }
    return m;
}

const measurement* best(const report& r, const std::string& metric) {
    const measurement* out = nullptr;
    for (const auto& m : r.rows) {
        if (m.metric != metric) continue;
        if (!out || (m.higher_is_better ? m.value.median > out->value.median : m.value.median < out->value.median))
            out = &m;
    }
    return out;
}

std::string to_table(const report& r) {
    std::ostringstream o;
    o << "qwire-perf " << r.scenario << "   (" << r.host.cpu_model << ", " << r.host.cores << " cores, "
      << r.host.kernel << ", " << r.host.build_type << ")\n"
      << "io_uring: " << r.host.io_uring << "; pinning: " << r.host.pinning << "\n";
    std::size_t w = 7;
    for (const auto& m : r.rows) w = std::max(w, setting_text(m.where).size());
    char line[512];
    std::snprintf(line, sizeof line, "%-*s  %-14s %12s %8s %12s %7s\n", static_cast<int>(w), "setting", "metric",
                  "median", "spread", "ceiling", "ratio");
    o << line;
    for (const auto& m : r.rows) {
        const std::string ceiling = m.ceiling ? number(*m.ceiling) : "";
        const std::string ratio = m.ceiling && *m.ceiling != 0 ? number(m.value.median / *m.ceiling) : "";
        char spread[16];
        std::snprintf(spread, sizeof spread, "%.1f%%", m.value.spread * 100);
        std::snprintf(line, sizeof line, "%-*s  %-14s %12s %8s %12s %7s\n", static_cast<int>(w),
                      setting_text(m.where).c_str(), m.metric.c_str(), number(m.value.median).c_str(), spread,
                      ceiling.c_str(), ratio.c_str());
        o << line;
    }
    std::set<std::string> metrics;
    for (const auto& m : r.rows) metrics.insert(m.metric);
    for (const auto& metric : metrics) {
        const measurement* b = best(r, metric);
        if (b && !b->where.empty()) o << "best " << metric << ": " << setting_text(b->where) << " (" << number(b->value.median) << ")\n";
    }
    return o.str();
}

std::string to_json(const report& r) {
    // The library's one JSON writer: full-precision shortest numbers, and
    // null for what JSON cannot spell (NaN, infinities).
    http::json_writer w;
    w.begin_object().key("scenario").value(r.scenario).key("command").value(r.command_line);
    w.key("machine").begin_object().key("cpu").value(r.host.cpu_model).key("cores").value(static_cast<std::int64_t>(r.host.cores));
    w.key("kernel").value(r.host.kernel).key("io_uring").value(r.host.io_uring).key("build").value(r.host.build_type);
    w.key("pinning").value(r.host.pinning).end_object();
    w.key("results").begin_array();
    for (const auto& m : r.rows) {
        w.begin_object().key("setting").begin_object();
        for (const auto& [k, v] : m.where) w.key(k).value(v);
        w.end_object().key("metric").value(m.metric).key("median").value(m.value.median).key("min").value(m.value.min);
        w.key("max").value(m.value.max).key("n").value(static_cast<std::int64_t>(m.value.n));
        if (m.ceiling) w.key("ceiling").value(*m.ceiling).key("ceiling_name").value(m.ceiling_name);
        w.end_object();
    }
    w.end_array().end_object();
    return std::move(w).take() + "\n";
}

std::string to_csv(const report& r) {
    std::set<std::string> names;
    std::vector<std::string> order;
    for (const auto& m : r.rows)
        for (const auto& [k, v] : m.where)
            if (names.insert(k).second) order.push_back(k);
    std::ostringstream o;
    for (const auto& k : order) o << k << ',';
    o << "metric,median,min,max,n,ceiling\n";
    for (const auto& m : r.rows) {
        for (const auto& k : order) o << value_of(m.where, k, "") << ',';
        o << m.metric << ',' << number(m.value.median) << ',' << number(m.value.min) << ',' << number(m.value.max)
          << ',' << m.value.n << ',' << (m.ceiling ? number(*m.ceiling) : "") << '\n';
    }
    return o.str();
}

std::string gnuplot_script(const report& r, const std::string& metric, const std::string& png) {
    // x: the first knob; one line per combination of the others.
    std::vector<const measurement*> rows;
    for (const auto& m : r.rows)
        if (m.metric == metric && !m.where.empty()) rows.push_back(&m);
    std::ostringstream o;
    o << "set terminal pngcairo size 900,540 noenhanced\n"
      << "set output " << http::json_quote(png) << "\n"
      << "set title " << http::json_quote("qwire-perf " + r.scenario + ": " + metric) << "\n"
      << "set key bottom right\nset grid\nset logscale x 2\nset offsets 0, 0, graph 0.1, 0\n";
    if (rows.empty()) return o.str() + "set yrange [0:*]\nplot 0 title 'no data'\n";
    // Figures over more than two decades (latency once a rate outruns the
    // batching) on a log scale, so that the small ones still show.
    double lo = 0, hi = 0;
    for (const auto* m : rows) {
        const double v = m->value.median;
        if (v > 0 && (lo == 0 || v < lo)) lo = v;
        hi = std::max(hi, v);
    }
    o << (lo > 0 && hi / lo > 100 ? "set logscale y 10\n" : "set yrange [0:*]\n");
    o << "set xlabel " << http::json_quote(rows.front()->where.front().first) << "\nset ylabel " << http::json_quote(metric) << "\n";
    std::map<std::string, std::vector<const measurement*>> lines;
    for (const auto* m : rows) {
        setting rest(m->where.begin() + 1, m->where.end());
        lines[setting_text(rest)].push_back(m);
    }
    std::string plot = "plot ";
    std::string data;
    bool first = true;
    for (const auto& [name, pts] : lines) {
        plot += std::string(first ? "" : ", ") + "'-' using 1:2 with linespoints title " + http::json_quote(name == "-" ? metric : name);
        first = false;
        for (const auto* m : pts) data += m->where.front().second + " " + number(m->value.median) + "\n";
        data += "e\n";
    }
    std::optional<double> ceiling;
    std::string ceiling_name = "ceiling";
    for (const auto* m : rows)
        if (m->ceiling && *m->ceiling > ceiling.value_or(0)) {
            ceiling = *m->ceiling;
            if (!m->ceiling_name.empty()) ceiling_name = "ceiling: " + m->ceiling_name;
        }
    if (ceiling) plot += ", " + number(*ceiling) + " with lines dashtype 2 lw 2 title " + http::json_quote(ceiling_name);
    // Sizes like 64k on the x axis: gnuplot needs numbers.
    std::string numeric;
    for (const auto& line : split(data, '\n')) {
        const std::size_t sp = line.find(' ');
        if (sp == std::string::npos) {
            if (!line.empty()) numeric += line + "\n";
            continue;
        }
        auto x = parse_size(line.substr(0, sp));
        numeric += (x ? std::to_string(*x) : line.substr(0, sp)) + line.substr(sp) + "\n";
    }
    return o.str() + plot + "\n" + numeric;
}

result<void> plot(const report& r, const std::string& metric, const std::string& png) {
    const std::string script = gnuplot_script(r, metric, png);
    FILE* p = ::popen("gnuplot", "w");
    if (!p) return make_error_code(std::errc::no_such_file_or_directory);
    std::fwrite(script.data(), 1, script.size(), p);
    const int rc = ::pclose(p);
    if (rc != 0) return make_error_code(std::errc::io_error);
    return {};
}

}  // namespace qwire::perf
