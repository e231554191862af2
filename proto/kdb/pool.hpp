// kdb::pool: several connections to one kdb+ process for concurrent queries.
//
// Each query goes to one connection, picked round-robin or by the fewest
// outstanding requests. A connection found closed is replaced (through the
// factory) when it comes up; a query that was in flight when its connection
// dropped fails with that error rather than being sent twice, unless
// retry_on_disconnect says the queries are safe to repeat.
#pragma once

#include <qwire/proto/kdb/connection.hpp>

#include <functional>
#include <vector>

namespace qwire::kdb {

struct pool_options {
    pool_options() {}
    enum class pick { round_robin, least_busy };
    std::size_t size = 4;
    pick strategy = pick::round_robin;
    bool retry_on_disconnect = false;
};

class pool {
public:
    using factory = std::function<task<result<connection>>()>;

    // Opens size connections with make (all must succeed).
    static task<result<pool>> open(factory make, pool_options o = {});

    task<result<k>> query(k request, op_options o = {});
    task<result<k>> query(std::string_view expression, op_options o = {}) {
        return query(new_string(expression), std::move(o));
    }

    std::size_t size() const noexcept { return conns_.size(); }
    std::size_t reconnects() const noexcept { return reconnects_; }
    void close();

private:
    task<result<std::size_t>> pick();

    factory make_;
    pool_options o_;
    std::vector<connection> conns_;
    std::size_t next_ = 0;
    std::size_t reconnects_ = 0;
};

}  // namespace qwire::kdb
