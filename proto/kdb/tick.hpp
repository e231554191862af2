// kdb+tick: a tickerplant publisher on kdb::server and a subscriber (the RT
// interface over them, which replays the logs when it is behind, is rt.hpp).
//
// The wire protocol is kdb-tick's: subscribers call .u.sub[table; syms]
// (` = all) and get (table; schema) back; the tickerplant pushes
// (`upd; table; rows) asynchronously, filtered by sym, and (`.u.end; date)
// at end of day; feeds send (`.u.upd; table; data) with data a list of
// columns or one row of atoms (a timespan column is put first when the feed
// sends none). Every update is logged as (`upd; table; data).
#pragma once

#include <qwire/proto/kdb/connection.hpp>
#include <qwire/proto/kdb/server.hpp>
#include <qwire/proto/kdb/tick_log.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>

namespace qwire::kdb {

struct tickerplant_options {
    tickerplant_options() {}
    std::string log_directory;  // empty: no log
    std::string log_prefix = "sym";
    // The tickerplant's first day (.u.d); unset: today (UTC).
    std::optional<std::chrono::sys_days> start_date;
};

class tickerplant {
public:
    // Installs the tickerplant's handlers on srv (its sync, async and close hooks).
    explicit tickerplant(server& srv, tickerplant_options o = {});

    // Registers a table by an empty table of its columns (time, sym, ...).
    result<void> add_table(std::string name, k schema);
    // Publishes data (a table, a list of columns, or one row of atoms).
    task<result<void>> publish(std::string_view table, k data);
    // Sends (`.u.end; date) to every subscriber and starts the next day's log.
    task<void> end_of_day();

    std::int64_t count() const noexcept { return count_; }  // .u.i: messages today
    std::string log_path() const;
    std::chrono::sys_days date() const noexcept { return date_; }

private:
    struct subscription {
        peer who;
        std::set<std::string> syms;  // empty: all
    };
    task<result<k>> on_sync(peer& p, k request);
    result<k> subscribe(peer& p, const std::string& table, std::set<std::string> syms);
    result<k> to_table(const std::string& table, const k& data) const;
    result<void> open_log();

    server& srv_;
    tickerplant_options o_;
    std::map<std::string, k> schemas_;
    // Each table's subscribers, replaced (never changed in place) when one
    // joins or leaves: a publish holds the list it started with across its
    // sends, and taking it costs no copy.
    using subscriber_list = std::vector<subscription>;
    std::map<std::string, std::shared_ptr<const subscriber_list>, std::less<>> subs_;
    // The list of a table changed by f, which edits a copy.
    template <class F>
    void change_subscribers(const std::string& table, F f);
    std::optional<tick_log_writer> log_;
    std::int64_t count_ = 0;
    std::chrono::sys_days date_;
};

// One message from a tickerplant.
struct tick_message {
    std::string function;  // "upd" or ".u.end"
    std::string table;     // for upd
    k data;                // the rows (a table), or the date for .u.end
};

class subscriber {
public:
    // Subscribes on c to table ("" = all tables) for syms (empty = all).
    static task<result<subscriber>> subscribe(connection c, std::string table = "", std::vector<std::string> syms = {});

    // Table name -> empty table with its columns, as the tickerplant sent them.
    const std::map<std::string, k>& schemas() const noexcept { return schemas_; }
    // The next update or end of day.
    task<result<tick_message>> next();
    connection& conn() noexcept { return c_; }

private:
    connection c_;
    std::map<std::string, k> schemas_;
};

// Splits a message the tickerplant pushes (or a log record) into its parts.
result<tick_message> parse_tick_message(const k& x);

}  // namespace qwire::kdb
