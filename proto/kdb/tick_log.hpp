// kdb+tick log files: what a tickerplant writes so that subscribers can
// replay the day. Layout: ff 01 (kdb+ data-file magic), the header of a
// general list (type 0, attribute 0, int32 count), then the records back to
// back, each a serialized object without an IPC header, normally
// (`upd; `table; data).
#pragma once

#include <qwire/proto/kdb/codec.hpp>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace qwire::kdb {

class tick_log_writer {
public:
    // Opens path for appending, writing the file header if it is new.
    static result<tick_log_writer> open(const std::string& path);
    tick_log_writer(tick_log_writer&& o) noexcept;
    tick_log_writer& operator=(tick_log_writer&& o) noexcept;
    ~tick_log_writer();

    // Appends one record and updates the count in the header.
    result<void> append(const k& record);
    // Flushes to the kernel (fsync is the caller's choice).
    result<void> flush();
    std::int64_t count() const noexcept { return count_; }
    const std::string& path() const noexcept { return path_; }

private:
    tick_log_writer() = default;
    std::FILE* f_ = nullptr;
    std::string path_;
    std::int64_t count_ = 0;
    byte_buffer buf_;
};

struct tick_log_scan {
    std::int64_t valid_records = 0;  // records that decode, from the start
    std::uint64_t valid_bytes = 0;   // bytes they take, header included
    bool bad_tail = false;           // the file goes on past them (a torn or corrupt end)
};

// Reads a log record by record (mapped, not copied): next() gives the next
// record, or nothing once the valid prefix ends; scan() then says how much
// of the file was valid.
class tick_log_reader {
public:
    static result<tick_log_reader> open(const std::string& path);
    tick_log_reader(tick_log_reader&& o) noexcept;
    tick_log_reader& operator=(tick_log_reader&& o) noexcept;
    ~tick_log_reader();

    std::optional<k> next();
    // Records read so far (the next one's index).
    std::int64_t records() const noexcept { return scan_.valid_records; }
    const tick_log_scan& scan() const noexcept { return scan_; }

private:
    tick_log_reader() = default;
    void finish();
    const std::byte* map_ = nullptr;
    std::size_t size_ = 0;
    std::size_t pos_ = 0;
    tick_log_scan scan_;
};

// Replays the records of a log from record number `from` (0-based), calling
// fn(record, index) for each, and reports how much of the file is valid
// (what -11!(-2;file) reports; a bad tail is what -11! signals as 'badtail).
result<tick_log_scan> replay_tick_log(const std::string& path, std::int64_t from,
                                      const std::function<void(const k&, std::int64_t)>& fn);

}  // namespace qwire::kdb
