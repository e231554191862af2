// Reload signals: what the Storage Manager tells a Data Access process after
// an end of interval or day, the same whether it came over q IPC (a
// dictionary), REST (JSON) or the stream's _reload table.
//
// Every signal has `ts` (when SM started the migration) and `minTS` (the
// first nanosecond of the mount's purview). A stream mount (an RDB's) adds
// `startTS`, `endTS` (the _prtnEnd that caused it) and `pos` (that
// _prtnEnd's stream position): the DA may drop rows before minTS. An IDB or
// HDB mount adds `maxTS`, the last nanosecond on disk.
//
// In JSON the timestamps are "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn" (what q's .j.j
// writes), so a signal read back gives the same nanoseconds; the timeout
// SM uses for a registration is a q timespan, "0D00:00:05.000000000".
#pragma once

#include <qwire/proto/http/json.hpp>
#include <qwire/proto/kdb/k.hpp>
#include <qwire/proto/sm/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace qwire::sm {

using kdb::timestamp_t;

struct stream_signal {
    timestamp_t ts{}, min_ts{}, start_ts{}, end_ts{};
    std::int64_t pos = 0;
    friend bool operator==(const stream_signal&, const stream_signal&) = default;
};

struct disk_signal {
    timestamp_t ts{}, min_ts{}, max_ts{};
    friend bool operator==(const disk_signal&, const disk_signal&) = default;
};

struct reload_signal {
    std::variant<stream_signal, disk_signal> fields;
    // Only in register's answer: the timeout SM uses for this registration
    // (the one asked for, capped by SM's reloadTimeout).
    std::optional<std::chrono::nanoseconds> timeout;
    // The dictionary: `ts`minTS`startTS`endTS`pos or `ts`minTS`maxTS (then
    // `timeout when there is one), its values as q would hold them (a
    // timestamp vector when all are timestamps, else a general list).
    kdb::k raw;

    bool is_stream() const noexcept { return std::holds_alternative<stream_signal>(fields); }
    const stream_signal* stream() const noexcept { return std::get_if<stream_signal>(&fields); }
    const disk_signal* disk() const noexcept { return std::get_if<disk_signal>(&fields); }
    timestamp_t ts() const noexcept;
    timestamp_t min_ts() const noexcept;
    friend bool operator==(const reload_signal& a, const reload_signal& b) { return a.fields == b.fields && a.timeout == b.timeout; }
};

reload_signal make_signal(stream_signal s, std::optional<std::chrono::nanoseconds> timeout = {});
reload_signal make_signal(disk_signal s, std::optional<std::chrono::nanoseconds> timeout = {});

// From the dictionary SM sends; keys it does not know are left out. A
// missing key or a value of the wrong type is errc::bad_signal naming it.
result<reload_signal> signal_from_k(const kdb::k& dict);
// From a JSON object with the same keys.
result<reload_signal> signal_from_json(std::string_view json);
// The JSON object; `extra` fields (such as the mount) are written first.
void write_json(http::json_writer& w, const reload_signal& s, std::string_view mount = {});
std::string to_json(const reload_signal& s, std::string_view mount = {});

// A mount and the values of its last reload signal (none before the first).
struct mount_status {
    std::string mount;
    std::optional<reload_signal> params;
};
// From getStatus's table (mount, params) or the REST status array.
result<std::vector<mount_status>> status_from_k(const kdb::k& table);
result<std::vector<mount_status>> status_from_json(std::string_view json);
kdb::k status_to_k(const std::vector<mount_status>& s);
std::string status_to_json(const std::vector<mount_status>& s);

// "2026-01-05T09:30:00.000000001": every nanosecond, in UTC.
std::string timestamp_text(timestamp_t t);
// Reads that form; a date alone, fewer fraction digits, q's '.' date
// separators and 'D', and a trailing 'Z' are accepted too.
result<timestamp_t> parse_timestamp(std::string_view text);
// "0D00:00:05.000000000", as q prints a timespan.
std::string timespan_text(std::chrono::nanoseconds d);
result<std::chrono::nanoseconds> parse_timespan(std::string_view text);

}  // namespace qwire::sm
