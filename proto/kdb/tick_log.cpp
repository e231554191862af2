#include <qwire/proto/kdb/tick_log.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace qwire::kdb {

namespace {
constexpr std::size_t log_header = 8;
const std::uint8_t empty_log[log_header] = {0xff, 0x01, 0x00, 0x00, 0, 0, 0, 0};
}  // namespace

result<tick_log_writer> tick_log_writer::open(const std::string& path) {
    tick_log_writer w;
    w.path_ = path;
    w.f_ = std::fopen(path.c_str(), "r+b");
    if (!w.f_) {
        w.f_ = std::fopen(path.c_str(), "w+b");
        if (!w.f_) return errno_code(errno);
        if (std::fwrite(empty_log, 1, log_header, w.f_) != log_header) return errno_code(errno);
    } else {
        // An existing log: count what is valid and append after it.
        auto scan = replay_tick_log(path, INT64_MAX, [](const k&, std::int64_t) {});
        if (!scan) return scan.error();
        if (scan->bad_tail) return errc::truncated;  // as tick.q: refuse to append to a corrupt log
        w.count_ = scan->valid_records;
    }
    if (std::fseek(w.f_, 0, SEEK_END) != 0) return errno_code(errno);
    return w;
}

tick_log_writer::tick_log_writer(tick_log_writer&& o) noexcept
    : f_(std::exchange(o.f_, nullptr)), path_(std::move(o.path_)), count_(o.count_), buf_(std::move(o.buf_)) {}

tick_log_writer& tick_log_writer::operator=(tick_log_writer&& o) noexcept {
    if (this != &o) {
        if (f_) std::fclose(f_);
        f_ = std::exchange(o.f_, nullptr);
        path_ = std::move(o.path_);
        count_ = o.count_;
        buf_ = std::move(o.buf_);
    }
    return *this;
}

tick_log_writer::~tick_log_writer() {
    if (f_) std::fclose(f_);
}

result<void> tick_log_writer::append(const k& record) {
    buf_.clear();
    if (auto r = encode(record, buf_); !r) return r;
    if (std::fwrite(buf_.data().data(), 1, buf_.size(), f_) != buf_.size()) return errno_code(errno);
    ++count_;
    // Keep the list count in the header current, so `get` on the file works.
    const long end = std::ftell(f_);
    const auto n = static_cast<std::int32_t>(std::min<std::int64_t>(count_, INT32_MAX));
    if (std::fseek(f_, 4, SEEK_SET) != 0 || std::fwrite(&n, 4, 1, f_) != 1 || std::fseek(f_, end, SEEK_SET) != 0)
        return errno_code(errno);
    return {};
}

result<void> tick_log_writer::flush() {
    if (std::fflush(f_) != 0) return errno_code(errno);
    return {};
}

result<tick_log_scan> replay_tick_log(const std::string& path, std::int64_t from,
                                      const std::function<void(const k&, std::int64_t)>& fn) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_code(errno);
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        const auto ec = errno_code(errno);
        ::close(fd);
        return ec;
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    tick_log_scan scan;
    if (size < log_header) {
        ::close(fd);
        scan.bad_tail = size > 0;
        return scan;
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return errno_code(errno);
    const std::span<const std::byte> all(static_cast<const std::byte*>(map), size);
    std::error_code failure;
    if (std::memcmp(all.data(), empty_log, 2) != 0) failure = make_error_code(errc::bad_header);
    std::size_t pos = log_header;
    while (!failure && pos < size) {
        auto rec = decode_prefix(all.subspan(pos));
        if (!rec) break;  // the valid prefix ends here
        if (scan.valid_records >= from) fn(rec->first, scan.valid_records);
        ++scan.valid_records;
        pos += rec->second;
    }
    scan.valid_bytes = pos;
    scan.bad_tail = pos < size;
    ::munmap(map, size);
    if (failure) return failure;
    return scan;
}

}  // namespace qwire::kdb
