// The whole path in one process: a tickerplant -> bridge::run -> the QWP
// test server -> bridge::gateway -> a kdb+ client. Every kdb+ type arrives
// back value by value; an unmappable column stops the bridge with an error
// naming it; the gateway's q errors and q-side authentication.
#include <qwire/core/notifier.hpp>
#include <qwire/core/when_all.hpp>
#include <qwire/io/tcp.hpp>
#include <qwire/proto/bridge/bridge.hpp>
#include <qwire/proto/bridge/gateway.hpp>
#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/kdb/tick.hpp>
#include <qwire/proto/qwp/test_server.hpp>

#include "bridge/all_types.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

using namespace qwire;
using namespace qwire::kdb;
using namespace qwire::test::all_types;

namespace {

// A tickerplant (logging to a scratch directory, its day all_types::day),
// the QWP test server, a gateway in front of it (user "q", password "pw"),
// and a bridge between the tickerplant and the server, all on one reactor.
struct path_under_test {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("qwire-gw-" + std::to_string(::getpid()));
    reactor r;
    server tps;
    std::optional<tickerplant> tp;
    acceptor tp_acc = tcp_listen("127.0.0.1", 0).value();
    std::unique_ptr<qwp::test_server> qs = qwp::test_server::start().value();
    server gws;
    bridge::gateway gw{gws, qs->conf()};
    acceptor gw_acc = tcp_listen("127.0.0.1", 0).value();
    std::stop_source stop;
    notifier committed;
    bridge::status last;
    std::optional<result<void>> bridge_result;

    path_under_test() {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        tickerplant_options o;
        o.log_directory = dir.string();
        o.start_date = day;
        tp.emplace(tps, o);
        gws.on_login([](std::string_view u, std::string_view p) { return u == "q" && p == "pw"; });
    }
    ~path_under_test() { std::filesystem::remove_all(dir); }

    std::string tp_address() const { return "127.0.0.1:" + std::to_string(tp_acc.local_endpoint().port()); }
    std::uint16_t gw_port() const { return gw_acc.local_endpoint().port(); }

    task<void> run_bridge() {
        bridge::options o;
        o.batch_time = std::chrono::milliseconds(1);
        o.commit_time = std::chrono::milliseconds(1);
        o.from = rt::position(day, 0);  // the day's log from its start: the bridge may subscribe after the publishes
        bridge_result = co_await bridge::run(tp_address(), qs->conf(), o, [this](const bridge::status& s) {
            last = s;
            committed.notify_all();
        }, op_options(stop.get_token()));
        committed.notify_all();
    }

    // Waits until the bridge has committed through pos (or ended).
    task<void> wait_committed(std::int64_t pos) {
        while (!bridge_result && (last.committed_pos == null_long || last.committed_pos < pos)) {
            auto w = co_await committed.wait();
            REQUIRE(w);
        }
    }

    // Runs body(), then stops everything.
    template <class Body>
    void run(Body body) {
        auto main = [&]() -> task<void> {
            co_await body();
            stop.request_stop();
            qs->stop();
        };
        r.block_on(when_all(tps.serve(tp_acc, stop.get_token()), gws.serve(gw_acc, stop.get_token()), qs->run(), run_bridge(), main()));
    }
};

std::vector<std::size_t> no_rows() { return {}; }

}  // namespace

TEST_CASE("bridge + gateway: every kdb+ type from the tickerplant through QuestDB's protocol and back to a q client") {
    path_under_test p;
    REQUIRE(p.tp->add_table("all_types", take(all_types(), no_rows()).value()));
    p.run([&]() -> task<void> {
        auto pushed = co_await p.tp->publish("all_types", all_types());
        REQUIRE(pushed);
        co_await p.wait_committed(rt::position(day, 0));
        REQUIRE(!p.bridge_result);

        connection_options co;
        co.credentials = "q:pw";
        auto c = co_await connection::connect_tcp("127.0.0.1", p.gw_port(), co);
        REQUIRE(c);
        auto t = co_await c->query("SELECT * FROM all_types");
        INFO((t ? to_string(*t) : std::string(t.error().detail())));
        REQUIRE(t);
        REQUIRE(t->is_table());
        const auto want = expected_back();
        const auto names = t->column_names().value().get_symbol_list().value();
        REQUIRE(names.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            const k got = t->column(want[i].first).value();
            INFO(want[i].first << ": got " << to_string(got) << ", want " << to_string(want[i].second));
            CHECK(names[i] == want[i].first);
            CHECK(got == want[i].second);
        }

        auto agg = co_await c->query("select count(), max(j) from all_types");
        REQUIRE(agg);
        CHECK(agg->column("count").value().get_long_list().value()[0] == 4);
        CHECK(agg->column("max").value().get_long_list().value()[0] == inf_long);

        // QuestDB's errors as q errors; a request that is not SQL text.
        auto missing = co_await c->query("select * from nope");
        REQUIRE(!missing);
        CHECK(missing.error() == kdb::errc::remote);
        CHECK(missing.error().detail() == "table does not exist [table=nope]");
        auto typed = co_await c->query(new_long(1));
        REQUIRE(!typed);
        CHECK(typed.error().detail() == "type");
        CHECK(p.gw.counters().queries == 3);

        // The q side's own credentials: QuestDB's are not asked for.
        connection_options wrong;
        wrong.credentials = "q:nope";
        auto refused = co_await connection::connect_tcp("127.0.0.1", p.gw_port(), wrong);
        CHECK(!refused);
    });
}

TEST_CASE("bridge: an unmappable column stops the bridge with an error naming the table and column, after committing what came before") {
    path_under_test p;
    const k schema = new_table({"time", "sym", "nested"}, {new_vector(qtype::timespan, 0), new_vector(qtype::symbol, 0), new_list()}).value();
    REQUIRE(p.tp->add_table("odd", schema));
    const k good = new_table({"time", "sym", "nested"}, {temporal(qtype::timespan, {1}), new_symbol_list({"a"}), strings({"fine"})}).value();
    const k bad = new_table({"time", "sym", "nested"}, {temporal(qtype::timespan, {2}), new_symbol_list({"b"}), new_list({new_long_list({1, 2})})}).value();
    p.run([&]() -> task<void> {
        // Awaited outside REQUIRE: g++ 12 may run a co_await inside Catch's macro more than once.
        auto first = co_await p.tp->publish("odd", good);
        REQUIRE(first);
        auto second = co_await p.tp->publish("odd", bad);
        REQUIRE(second);
        co_await p.wait_committed(rt::position(day, 5));  // ends when the bridge does
        REQUIRE(p.bridge_result);
        REQUIRE(!*p.bridge_result);
        CHECK(p.bridge_result->error() == bridge::errc::unmappable);
        CHECK(p.bridge_result->error().detail() ==
              "table odd, column nested: a general list of anything but strings has no QuestDB column (at position " +
                  std::to_string(rt::position(day, 1)) + ")");
        // The good row before it is committed, and the bad one is not.
        CHECK(p.last.committed_pos == rt::position(day, 0));
        CHECK(p.qs->tables().at("odd").rows == 1);
    });
}
