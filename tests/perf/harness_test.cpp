#include "harness.hpp"
#include "scenarios.hpp"

#include <catch2/catch.hpp>

using namespace qwire::perf;

namespace {
qwire::result<cli> parse(std::vector<const char*> a, std::string* why = nullptr) {
    a.insert(a.begin(), "qwire-perf");
    return parse_args(static_cast<int>(a.size()), a.data(), why);
}
}  // namespace

TEST_CASE("perf harness: arguments, knob lists and sizes") {
    auto c = parse({"qwp-ingest", "--window", "1,8,32,128", "--frame-bytes", "64k,256k,1m", "--reps", "3", "--json",
                    "out.json", "--conf", "ws::addr=h:9000;"});
    REQUIRE(c);
    CHECK(c->scenario == "qwp-ingest");
    REQUIRE(c->knobs.size() == 2);
    CHECK(c->knobs[0].name == "window");
    CHECK(c->knobs[0].values == std::vector<std::string>{"1", "8", "32", "128"});
    CHECK(c->repetitions == 3);
    CHECK(c->json == "out.json");
    CHECK(c->conf == "ws::addr=h:9000;");
    CHECK(c->command_line == "qwire-perf qwp-ingest --window 1,8,32,128 --frame-bytes 64k,256k,1m --reps 3 --json "
                             "out.json --conf 'ws::addr=h:9000;'");
    CHECK(parse_size("64k") == 65536u);
    CHECK(parse_size("1m") == 1048576u);
    CHECK(parse_size("2G") == 2147483648u);
    CHECK(parse_size("300") == 300u);
    CHECK(!parse_size("k"));
    CHECK(!parse_size("1.5m"));
    CHECK(!parse_size(""));

    std::string why;
    CHECK(!parse({}, &why));
    CHECK(why.find("usage") != std::string::npos);
    CHECK(!parse({"x", "--reps", "0"}, &why));
    CHECK(why.find("--reps") != std::string::npos);
    CHECK(!parse({"x", "--window"}, &why));
    CHECK(why.find("needs a value") != std::string::npos);
    CHECK(!parse({"x", "--window", "1,,2"}, &why));
    CHECK(why.find("empty value") != std::string::npos);
    CHECK(!parse({"x", "--window", "1", "--window", "2"}, &why));
    CHECK(why.find("twice") != std::string::npos);
    CHECK(!parse({"x", "stray"}, &why));
    auto pinned = parse({"reactor", "--pin", "1"});
    REQUIRE(pinned);
    CHECK(pinned->pin == 1);
    CHECK(pinned->knobs.empty());
    CHECK(!parse({"x", "--pin", "cpu0"}, &why));
}

TEST_CASE("perf harness: sweeps are the cross product, first knob slowest") {
    const std::vector<knob> k = {{"window", {"1", "8"}}, {"frame", {"64k", "1m", "4m"}}};
    const auto points = expand(k);
    REQUIRE(points.size() == 6);
    CHECK(points[0] == setting{{"window", "1"}, {"frame", "64k"}});
    CHECK(points[2] == setting{{"window", "1"}, {"frame", "4m"}});
    CHECK(points[3] == setting{{"window", "8"}, {"frame", "64k"}});
    CHECK(expand({}).size() == 1);  // no knobs: one run with the defaults
    CHECK(value_of(points[4], "frame", "x") == "1m");
    CHECK(value_of(points[4], "rows", "100") == "100");
}

TEST_CASE("perf harness: statistics") {
    auto s = summarize({5, 1, 3, 2, 4});
    CHECK(s.median == 3);
    CHECK(s.min == 1);
    CHECK(s.max == 5);
    CHECK(s.spread == Approx(4.0 / 3.0));
    CHECK(s.n == 5);
    CHECK(summarize({1, 2, 3, 4}).median == 2.5);
    CHECK(summarize({}).n == 0);
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) v.push_back(i);
    CHECK(percentile(v, 0.5) == 50);
    CHECK(percentile(v, 0.99) == 99);
    CHECK(percentile(v, 1.0) == 100);
    CHECK(percentile(v, 0.0) == 1);
}

TEST_CASE("perf harness: table, JSON, CSV, the best setting and the plot script") {
    report r;
    r.scenario = "qwp-ingest";
    r.command_line = "qwire-perf qwp-ingest --window 1,128";
    r.host.cpu_model = "cpu \"x\"";
    r.host.cores = 2;
    auto row = [](std::string w, std::string f, double v) {
        measurement m;
        m.where = {{"window", w}, {"frame-bytes", f}};
        m.metric = "rows/s";
        m.value = summarize({v, v * 1.1});
        m.ceiling = 1000;
        m.ceiling_name = "raw";
        return m;
    };
    r.rows = {row("1", "64k", 100), row("128", "64k", 400), row("1", "1m", 200), row("128", "1m", 300)};
    const measurement* b = best(r, "rows/s");
    REQUIRE(b);
    CHECK(value_of(b->where, "window", "") == "128");
    CHECK(value_of(b->where, "frame-bytes", "") == "64k");
    CHECK(!best(r, "MB/s"));

    const std::string table = to_table(r);
    CHECK(table.find("best rows/s: window=128 frame-bytes=64k") != std::string::npos);
    CHECK(table.find("window=1 frame-bytes=64k") != std::string::npos);

    const std::string json = to_json(r);
    CHECK(json.find(R"("scenario":"qwp-ingest")") != std::string::npos);
    CHECK(json.find(R"("cpu":"cpu \"x\"")") != std::string::npos);  // escaped
    CHECK(json.find(R"("setting":{"window":"128","frame-bytes":"64k"},"metric":"rows/s","median":420)") !=
          std::string::npos);

    const std::string csv = to_csv(r);
    CHECK(csv.rfind("window,frame-bytes,metric,median,min,max,n,ceiling\n", 0) == 0);
    CHECK(csv.find("128,1m,rows/s,315,300,330,2,1000\n") != std::string::npos);

    const std::string gp = gnuplot_script(r, "rows/s", "out.png");
    CHECK(gp.find("set output \"out.png\"") != std::string::npos);
    CHECK(gp.find("title \"frame-bytes=1m\"") != std::string::npos);   // one line per other knob
    CHECK(gp.find("1000 with lines dashtype 2") != std::string::npos);  // the ceiling, dashed
    CHECK(gp.find("title \"ceiling: raw\"") != std::string::npos);  // named after what it is
    CHECK(gp.find("\n128 420\n") != std::string::npos);                 // x = window
}

TEST_CASE("perf harness: a knob the scenario does not have is an error that lists the ones it has") {
    const scenario* sc = find_scenario("qwp-ingest");
    REQUIRE(sc);
    auto ok = parse({"qwp-ingest", "--window", "1,8", "--sync-every", "0,16"});
    REQUIRE(ok);
    CHECK(check_knobs(*sc, *ok).empty());
    auto typo = parse({"qwp-ingest", "--windw", "1,8"});
    REQUIRE(typo);
    const std::string why = check_knobs(*sc, *typo);
    CHECK(why.find("no knob --windw") != std::string::npos);
    CHECK(why.find("--window, --frame-bytes") != std::string::npos);
    for (const auto& s : scenarios()) CHECK(!s.knobs.empty());
}

TEST_CASE("perf harness: --peer names javakdb, the one peer it can time") {
    auto ok = parse({"kdb-codec", "--rows", "1000", "--peer", "javakdb"});
    REQUIRE(ok);
    CHECK(ok->peer == "javakdb");
    CHECK(ok->knobs.size() == 1);  // --peer is an option, not a knob
    std::string why;
    CHECK_FALSE(parse({"kdb-codec", "--peer", "kdb"}, &why));
    CHECK(why == "--peer: the peer qwire-perf can time is javakdb, not 'kdb'");
}

TEST_CASE("perf harness: a plot whose figures span more than two decades gets a log y axis") {
    report r;
    r.scenario = "qwp-latency";
    auto row = [](std::string x, double v) {
        measurement m;
        m.where = {{"batch-us", x}};
        m.metric = "latency us p99";
        m.value = summarize({v});
        return m;
    };
    r.rows = {row("100", 300), row("1000", 1200)};
    std::string gp = gnuplot_script(r, "latency us p99", "l.png");
    CHECK(gp.find("set yrange [0:*]") != std::string::npos);
    CHECK(gp.find("logscale y") == std::string::npos);
    r.rows.push_back(row("10000", 90000));
    gp = gnuplot_script(r, "latency us p99", "l.png");
    CHECK(gp.find("set logscale y 10") != std::string::npos);
    CHECK(gp.find("set yrange [0:*]") == std::string::npos);
}

TEST_CASE("perf harness: a numeric knob's malformed value is an error naming the knob, before anything runs") {
    const scenario* sc = find_scenario("kdb-query");
    REQUIRE(sc);
    auto bad = parse({"kdb-query", "--spin-us", "0,abc"});
    REQUIRE(bad);
    CHECK(check_knobs(*sc, *bad) == "--spin-us: 'abc' is not a number (sizes may end in k, m or g)");
    auto ok = parse({"kdb-query", "--spin-us", "0,200", "--queries", "20k"});
    REQUIRE(ok);
    CHECK(check_knobs(*sc, *ok).empty());
    // Knobs that take words are left to their scenario.
    const scenario* codec = find_scenario("kdb-codec");
    REQUIRE(codec);
    auto words = parse({"kdb-codec", "--data", "random,repetitive", "--types", "spjf"});
    REQUIRE(words);
    CHECK(check_knobs(*codec, *words).empty());
}
