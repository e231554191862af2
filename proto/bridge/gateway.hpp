// The q gateway: a kdb+ server whose sync requests are SQL run against
// QuestDB through QWP egress, answered with K tables.
//
//     kdb::server srv;
//     bridge::gateway gw(srv, "ws::addr=db:9000;");
//     co_await srv.serve(acceptor);
//     // q) h:hopen 5050; h"select count(), avg(price) from trade"
//
// Result columns come back by mapping.hpp's table (symbols as symbols,
// timestamps on kdb+'s epoch); each egress batch is turned into K as it
// arrives, so a large result holds its decoded batches only one at a time.
// A failed query is a q error with QuestDB's text; a request that is not a
// string is 'type. Authentication on the q side is the server's (on_login),
// independent of the credentials in the connect string.
#pragma once

#include <qwire/proto/bridge/mapping.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/qwp/reader.hpp>

#include <memory>
#include <string>
#include <vector>

namespace qwire::bridge {

class gateway {
public:
    // Installs the sync handler on srv; target is a QWP connect string.
    gateway(kdb::server& srv, std::string target);
    gateway(const gateway&) = delete;
    gateway& operator=(const gateway&) = delete;

    // Runs one query: the result as a table (an empty table for a query
    // that returns no rows, the count of rows for one that changes them).
    task<result<kdb::k>> query(std::string_view sql);

    struct stats {
        std::uint64_t queries = 0, errors = 0, rows = 0;
    };
    const stats& counters() const noexcept { return st_; }

private:
    std::string target_;
    // Idle egress connections, one taken per running query.
    std::vector<qwp::reader> idle_;
    stats st_;
};

}  // namespace qwire::bridge
