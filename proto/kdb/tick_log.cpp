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

result<tick_log_reader> tick_log_reader::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_code(errno);
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        const auto ec = errno_code(errno);
        ::close(fd);
        return ec;
    }
    tick_log_reader r;
    r.size_ = static_cast<std::size_t>(st.st_size);
    if (r.size_ < log_header) {
        ::close(fd);
        r.scan_.bad_tail = r.size_ > 0;
        r.size_ = 0;
        return r;
    }
    void* map = ::mmap(nullptr, r.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return errno_code(errno);
    r.map_ = static_cast<const std::byte*>(map);
    if (std::memcmp(r.map_, empty_log, 2) != 0) return make_error_code(errc::bad_header);
    r.pos_ = log_header;
    return r;
}

tick_log_reader::tick_log_reader(tick_log_reader&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)), size_(std::exchange(o.size_, 0)), pos_(o.pos_), scan_(o.scan_) {}

tick_log_reader& tick_log_reader::operator=(tick_log_reader&& o) noexcept {
    if (this != &o) {
        if (map_) ::munmap(const_cast<std::byte*>(map_), size_);
        map_ = std::exchange(o.map_, nullptr);
        size_ = std::exchange(o.size_, 0);
        pos_ = o.pos_;
        scan_ = o.scan_;
    }
    return *this;
}

tick_log_reader::~tick_log_reader() {
    if (map_) ::munmap(const_cast<std::byte*>(map_), size_);
}

std::optional<k> tick_log_reader::next() {
    if (!map_ || pos_ >= size_) {
        finish();
        return std::nullopt;
    }
    auto rec = decode_prefix(std::span(map_ + pos_, size_ - pos_));
    if (!rec) {  // the valid prefix ends here
        finish();
        return std::nullopt;
    }
    ++scan_.valid_records;
    pos_ += rec->second;
    return std::move(rec->first);
}

void tick_log_reader::finish() {
    if (map_) {
        scan_.valid_bytes = pos_;
        scan_.bad_tail = pos_ < size_;
    }
}

result<tick_log_scan> replay_tick_log(const std::string& path, std::int64_t from,
                                      const std::function<void(const k&, std::int64_t)>& fn) {
    auto r = tick_log_reader::open(path);
    if (!r) return r.error();
    for (std::int64_t n = 0;; ++n) {
        auto rec = r->next();
        if (!rec) break;
        if (n >= from) fn(*rec, n);
    }
    return r->scan();
}

}  // namespace qwire::kdb
