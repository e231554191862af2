// A shared library that PyArrow loads with ctypes (tools/questdb-py/
// arrow_read.py): qwire's reader runs one query and hands its first batch
// out through the Arrow C Data Interface, into structs the caller owns.
#include <qwire/proto/qwp/arrow.hpp>
#include <qwire/proto/qwp/reader.hpp>

#include <cstdio>

using namespace qwire;

namespace {

task<result<bool>> query_arrow(std::string conf, std::string sql, ArrowSchema* schema, ArrowArray* array) {
    auto rd = co_await qwp::reader::connect(conf);
    if (!rd) co_return rd.error();
    auto e = co_await rd->execute(sql);
    if (!e) co_return e.error();
    co_return co_await rd->next_arrow(schema, array);
}

}  // namespace

// 1: a batch was exported; 0: the query had none; -1: an error, its text in err.
extern "C" __attribute__((visibility("default"))) int qwire_probe_query_arrow(const char* conf, const char* sql,
                                                                               ArrowSchema* schema, ArrowArray* array,
                                                                               char* err, std::size_t errlen) {
    reactor r;
    auto got = r.block_on(query_arrow(conf, sql, schema, array));
    if (!got) {
        std::snprintf(err, errlen, "%s", got.error().message().c_str());
        return -1;
    }
    return *got ? 1 : 0;
}
