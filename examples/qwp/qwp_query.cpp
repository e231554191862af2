// qwp_query [--conf "ws::addr=127.0.0.1:9000;"] SQL
//
// Runs one query over QWP egress (/read/v1) and prints the rows as JSON
// lines, then the row and batch counts.
#include "../cli.hpp"

#include <qwire/proto/qwp/reader.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    CLI::App app("Runs one SQL query over QWP egress and prints the rows as JSON lines.", "qwp_query");
    std::string conf = "ws::addr=127.0.0.1:9000;", sql;
    app.add_option("--conf", conf, "QuestDB connect string")
        ->check(examples::parsed_by([](const std::string& v) { return qwp::config::parse(v); }, "CONF"))
        ->capture_default_str();
    app.add_option("sql", sql, "the query")->required();
    if (auto rc = examples::parse(app, argc, argv)) return *rc;
    reactor r;
    auto run = [&]() -> task<int> {
        auto rd = co_await qwp::reader::connect(conf);
        if (!rd) {
            std::fprintf(stderr, "connect %s: %s\n", conf.c_str(), rd.error().message().c_str());
            co_return 1;
        }
        auto e = co_await rd->execute(sql);
        if (!e) {
            std::fprintf(stderr, "query: %s%s%s\n", e.error().message().c_str(), rd->error_text().empty() ? "" : ": ",
                         rd->error_text().c_str());
            co_return 1;
        }
        std::size_t rows = 0, batches = 0;
        for (;;) {
            auto b = co_await rd->next();
            if (!b) {
                std::fprintf(stderr, "query: %s: %s\n", b.error().message().c_str(), rd->error_text().c_str());
                co_return 1;
            }
            if (!*b) break;
            ++batches;
            for (std::size_t i = 0; i < (*b)->rows(); ++i, ++rows)
                std::printf("%s\n", qwp::row_json((*b)->table, i).c_str());
        }
        std::fprintf(stderr, "%zu rows in %zu batches\n", rows, batches);
        co_return 0;
    };
    return r.block_on(run());
}
