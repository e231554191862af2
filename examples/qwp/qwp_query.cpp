// qwp_query [--conf "ws::addr=127.0.0.1:9000;"] SQL
//
// Runs one query over QWP egress (/read/v1) and prints the rows as JSON
// lines, then the row and batch counts.
#include <qwire/proto/qwp/reader.hpp>

#include <cstdio>
#include <string>

using namespace qwire;

int main(int argc, char** argv) {
    std::string conf = "ws::addr=127.0.0.1:9000;", sql;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--conf" && i + 1 < argc) conf = argv[++i];
        else sql = a;
    }
    if (sql.empty()) {
        std::fprintf(stderr, "usage: %s [--conf STR] SQL\n", argv[0]);
        return 2;
    }
    reactor r;
    auto run = [&]() -> task<int> {
        auto rd = co_await qwp::reader::connect(conf);
        if (!rd) {
            std::fprintf(stderr, "connect: %s\n", rd.error().message().c_str());
            co_return 1;
        }
        auto e = co_await rd->execute(sql);
        if (!e) co_return 1;
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
