// Store-and-forward: a disk-backed queue of the frames a sender has not yet
// seen acknowledged, so that a crash or restart of the sending process
// loses none of them.
//
// A slot (sf_dir/sender_id, one process at a time, held by a lock file)
// keeps the frames in segment files, each record checksummed, and the
// sender's symbol dictionary in a log beside them (the frames' symbol ids
// refer to it). A frame is appended before it is sent and released once an
// OK covers a commit after it; a segment whose frames are all released is
// deleted. Opening a slot reads back what was never released: a torn tail
// (a crash in the middle of an append) fails its checksum and is cut.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/io/byte_stream.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qwire::qwp {

// When appended data is forced to the disk (fsync): never (the OS writes
// it back; it survives the process, not the machine), after each
// sender flush() or sync(), after every frame, or at most every
// sf_sync_interval_millis.
enum class sf_durability : std::uint8_t { memory, flush, append, periodic };

struct frame_store_options {
    std::string dir;                         // sf_dir
    std::string sender_id = "default";       // the slot
    sf_durability durability = sf_durability::memory;
    std::chrono::milliseconds sync_interval{5000};
    std::size_t max_segment_bytes = 4u << 20;
    std::uint64_t max_total_bytes = 10ull << 30;
};

class frame_store {
public:
    // What a slot held: the dictionary entries in id order and the frames
    // never released, oldest first, with their defer flag.
    struct recovered {
        std::vector<std::string> dict;
        std::deque<std::pair<std::vector<std::byte>, bool>> frames;
        std::uint64_t cut_bytes = 0;  // a torn tail cut off
    };

    // Opens (creating) the slot; fails when another process holds it.
    static result<std::unique_ptr<frame_store>> open(const frame_store_options& o, recovered& out);
    ~frame_store();
    frame_store(const frame_store&) = delete;
    frame_store& operator=(const frame_store&) = delete;

    // Logs dictionary entries (ids follow those logged before).
    result<void> append_dict(std::span<const std::string_view> names);
    std::size_t dict_logged() const noexcept;
    // Appends one message (its pieces, concatenated) as the newest frame.
    result<void> append(std::span<const const_buffer> message, bool deferred);
    // Takes back the newest frame (it never reached the connection).
    result<void> drop_newest();
    // Releases the n oldest frames (acknowledged).
    result<void> release(std::size_t n);
    // Forces what was appended to the disk.
    result<void> sync();
    // For sf_durability::flush and periodic: syncs when the mode says so.
    result<void> after_flush();

    std::size_t pending() const noexcept;    // frames not released
    // Whether a message of that many bytes fits within sf_max_total_bytes.
    bool fits(std::uint64_t message_bytes) const noexcept;
    // Their bytes (what sf_max_total_bytes bounds; released frames stay on
    // disk until their segment, at most sf_max_segment_bytes, is done).
    std::uint64_t bytes() const noexcept;
    const frame_store_options& options() const noexcept;

private:
    struct state;
    explicit frame_store(std::unique_ptr<state> s);
    std::unique_ptr<state> s_;
};

// CRC-32C (Castagnoli), SSE 4.2 when the CPU has it.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept;

}  // namespace qwire::qwp
