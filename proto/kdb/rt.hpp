// The kdb Insights Reliable Transport (RT) interface over kdb+tick, as KX's
// tick client library implements it: .rt.pub[topic] (a push function that
// sends (`.u.upd; table; columns)) and .rt.sub[topic; position; uf] (every
// message from a position on, each once, with its position).
//
// A position is yyyymmdd * 1e11 + the number of the message in that day. A
// subscriber behind the tickerplant replays the logs of every day from its
// position's day on (the tickerplant's log files sit side by side, named by
// date), then follows live; .u.end starts the next day's numbering.
//
// Insights carries its own signals on the stream as internal tables whose
// names start with '_': _prtnEnd (end of interval or day) and _reload (a
// mount reloaded). Over kdb+tick they need the time and sym columns every
// tick table has; the publisher puts null ones first, the subscriber takes
// them off and hands the rows out as typed events.
#pragma once

#include <qwire/proto/kdb/tick.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace qwire::kdb::rt {

// The position of message `number` of `day`.
std::int64_t position(std::chrono::sys_days day, std::int64_t number);
std::chrono::sys_days position_day(std::int64_t pos);
std::int64_t position_number(std::int64_t pos);

inline constexpr std::string_view partition_end_table = "_prtnEnd";
inline constexpr std::string_view reload_table = "_reload";

// The empty table a tickerplant registers for an internal table: null-able
// time and sym, then _prtnEnd's signal, endTS, opts or _reload's mount,
// params, asm.
k internal_schema(std::string_view table);
// Registers both internal tables on tp.
result<void> add_internal_tables(tickerplant& tp);

// A row of _prtnEnd: the end of an interval ("eoi") or of a day ("eod").
struct partition_end {
    std::string signal;
    timestamp_t end_ts{};
    std::optional<timestamp_t> start_ts;  // older streams carry it, newer ones do not
    k opts;
};

// A row of _reload: the mount SM reloaded, with the reload signal's values.
struct reload {
    std::string mount;
    k params;  // the reload signal's dictionary
    std::string assembly;
};

// What a subscriber is handed. Updates always come as a table (the log holds
// column lists; they are turned into tables by the schema the tickerplant
// sent). A handler left empty ignores its events.
struct handlers {
    std::function<void(const std::string& table, const k& rows, std::int64_t pos)> on_update;
    std::function<void(const partition_end& e, std::int64_t pos)> on_partition_end;
    std::function<void(const reload& e, std::int64_t pos)> on_reload;
    // The end of `day`; pos is the position the day's next message would have had.
    std::function<void(std::chrono::sys_days day, std::int64_t pos)> on_end_of_day;
    // A log file with a bad tail (a torn or corrupt end): what it holds
    // before the tail was delivered, the rest cannot be. Logged when empty.
    std::function<void(const std::string& path, const tick_log_scan& scan)> on_bad_log;
};

// .rt.sub as a stream the caller pulls from: every message of every table
// of the tickerplant on c from `from` on (null_long: live only), from the
// logs (which must be readable here) and then live, each once with its
// position. The next message is read only when asked for, so a slow
// consumer slows the reading (the tickerplant's queue for it grows, not
// this process's memory).
class subscription {
public:
    struct message {
        tick_message m;  // upd with a table (live) or a column list (log), or .u.end
        std::int64_t pos;
    };
    static task<result<subscription>> open(connection c, std::int64_t from);
    subscription(subscription&&) noexcept;
    subscription& operator=(subscription&&) noexcept;
    ~subscription();

    // The next message; an error when the connection ends or a log cannot
    // be read (naming it).
    task<result<message>> next(op_options o = {});
    // Table name -> empty table with its columns, as the tickerplant sent them.
    const std::map<std::string, k>& schemas() const noexcept;
    // The position the next live message will have.
    std::int64_t live_position() const noexcept;
    connection& conn() noexcept;
    // Called for a log with a bad tail (default: a warning is logged).
    void on_bad_log(std::function<void(const std::string& path, const tick_log_scan& scan)> f);

    struct state;

private:
    explicit subscription(std::unique_ptr<state> s);
    std::unique_ptr<state> s_;
};

// .rt.sub: every table of the tickerplant on c from `from` on (null_long:
// live only). The logs must be readable here. Runs until the connection
// ends, which is its result; a tickerplant answer of the wrong shape or an
// unreadable log is an error naming it.
task<result<void>> subscribe(connection c, std::int64_t from, handlers h);

// The same with one callback for every message, as the tickerplant or its
// log sent it (upd with a table or a column list, .u.end with the date).
task<result<void>> subscribe(connection c, std::int64_t from,
                             std::function<void(const tick_message&, std::int64_t)> fn);

// .rt.pub: publishes to a tickerplant on c. push() takes a table (its
// columns go out), a dictionary (one row) or a list of columns; for an
// internal table the null time and sym columns are put first.
class publisher {
public:
    explicit publisher(connection c) : c_(std::move(c)) {}
    task<result<void>> push(std::string_view table, k data);
    // Waits until the tickerplant has handled everything pushed so far and
    // returns the position the next message will have (a sync round trip).
    task<result<std::int64_t>> sync();
    connection& conn() noexcept { return c_; }

private:
    connection c_;
};

// The columns of a _prtnEnd or _reload row as the publisher sends them
// (without time and sym): one-row tables for push().
k partition_end_row(std::string_view signal, timestamp_t end_ts, k opts);
k reload_row(std::string_view mount, k params, std::string_view assembly);

}  // namespace qwire::kdb::rt
