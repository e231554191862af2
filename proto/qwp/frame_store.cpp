#include <qwire/proto/qwp/frame_store.hpp>

#include <qwire/proto/qwp/wire.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace qwire::qwp {

// ---------------------------------------------------------------- CRC-32C

namespace {

const std::array<std::uint32_t, 256>& crc_table() {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

std::uint32_t crc_soft(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
    const auto& t = crc_table();
    for (std::size_t i = 0; i < n; ++i) crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_hard(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t c = crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    std::uint32_t c32 = static_cast<std::uint32_t>(c);
    for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
    return c32;
}
#endif

}  // namespace

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    crc = ~crc;
#if defined(__x86_64__)
    static const bool hard = __builtin_cpu_supports("sse4.2");
    crc = hard ? crc_hard(crc, p, n) : crc_soft(crc, p, n);
#else
    crc = crc_soft(crc, p, n);
#endif
    return ~crc;
}

// ---------------------------------------------------------------- store

namespace {

constexpr std::size_t record_head = 9;  // u32 length, u32 CRC-32C of flags and payload, u8 flags
constexpr std::uint64_t acked_mark = 0x51575346414b4544ULL;  // spells QWSFAKED

error sys_error(const std::string& what) { return error(errno_code(errno), what); }

result<std::vector<std::byte>> read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_error("sf_dir: open " + path);
    std::vector<std::byte> out;
    struct stat st {};
    if (::fstat(fd, &st) == 0) out.reserve(static_cast<std::size_t>(st.st_size));
    std::byte buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto e = sys_error("sf_dir: read " + path);
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    ::close(fd);
    return out;
}

bool write_all(int fd, const void* p, std::size_t n, off_t at) {
    const auto* b = static_cast<const char*>(p);
    while (n > 0) {
        const ssize_t w = ::pwrite(fd, b, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w;
        n -= static_cast<std::size_t>(w);
        at += w;
    }
    return true;
}

std::string segment_name(std::uint64_t first) {
    char name[48];
    std::snprintf(name, sizeof name, "seg-%020llu.qwsf", static_cast<unsigned long long>(first));
    return name;
}

}  // namespace

struct frame_store::state {
    frame_store_options opt;
    std::string slot;
    int lock_fd = -1, dict_fd = -1, acked_fd = -1;
    std::uint64_t dict_size = 0;  // bytes of dict.log
    std::size_t dict_count = 0;
    struct segment {
        std::uint64_t first = 0;  // number of its first frame
        std::size_t count = 0;    // frames in it
        std::size_t done = 0;     // of those, released
        std::uint64_t size = 0;   // bytes
        int fd = -1;              // open while it is the one appended to
    };
    std::deque<segment> segs;
    std::uint64_t next = 0;      // number of the next frame
    std::deque<std::uint32_t> sizes;      // record sizes of the frames not released, oldest first
    std::uint64_t bytes = 0;              // their sum
    std::uint64_t last_offset = 0;  // where the newest frame starts in the newest segment
    bool can_drop = false;
    std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();

    ~state() {
        for (auto& s : segs)
            if (s.fd >= 0) ::close(s.fd);
        for (int fd : {dict_fd, acked_fd, lock_fd})
            if (fd >= 0) ::close(fd);
    }

    std::string path(const std::string& name) const { return slot + "/" + name; }

    result<void> sync_dir() {
        const int fd = ::open(slot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return sys_error("sf_dir: open " + slot);
        ::fsync(fd);
        ::close(fd);
        return {};
    }

    result<void> sync_all() {
        if (!segs.empty() && segs.back().fd >= 0 && ::fdatasync(segs.back().fd) != 0) return sys_error("sf_dir: fdatasync");
        if (dict_fd >= 0 && ::fdatasync(dict_fd) != 0) return sys_error("sf_dir: fdatasync dict.log");
        last_sync = std::chrono::steady_clock::now();
        return {};
    }

    // A new segment for frames from `next` on.
    result<void> start_segment() {
        if (!segs.empty() && segs.back().fd >= 0) {
            if (opt.durability != sf_durability::memory && ::fdatasync(segs.back().fd) != 0)
                return sys_error("sf_dir: fdatasync");
            ::close(segs.back().fd);
            segs.back().fd = -1;
        }
        segment s;
        s.first = next;
        const std::string p = path(segment_name(next));
        s.fd = ::open(p.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        if (s.fd < 0) return sys_error("sf_dir: create " + p);
        segs.push_back(s);
        can_drop = false;
        if (opt.durability != sf_durability::memory) return sync_dir();
        return {};
    }

    void write_acked() {
        if (acked_fd < 0) return;
        std::uint64_t through = next;
        if (!segs.empty()) through = segs.front().first + segs.front().done;
        const std::uint64_t rec[2] = {through, through ^ acked_mark};
        (void)write_all(acked_fd, rec, sizeof rec, 0);
    }
};

frame_store::frame_store(std::unique_ptr<state> s) : s_(std::move(s)) {}
frame_store::~frame_store() = default;

result<std::unique_ptr<frame_store>> frame_store::open(const frame_store_options& o, recovered& out) {
    if (o.dir.empty()) return error(errc::bad_config, "sf_dir is empty");
    if (o.sender_id.empty() || o.sender_id.find('/') != std::string::npos || o.sender_id == "." || o.sender_id == "..")
        return error(errc::bad_config, "sender_id '" + o.sender_id + "' cannot name a slot directory");
    auto st = std::make_unique<state>();
    st->opt = o;
    st->slot = o.dir + "/" + o.sender_id;
    for (const std::string& d : {o.dir, st->slot})
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("sf_dir: mkdir " + d);

    st->lock_fd = ::open(st->path("lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (st->lock_fd < 0) return sys_error("sf_dir: open " + st->path("lock"));
    if (::flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return error(std::make_error_code(std::errc::device_or_resource_busy),
                     "sf_dir slot " + st->slot + " is held by another sender (one process per sender_id)");

    // What the last run had released.
    std::uint64_t released = 0;
    st->acked_fd = ::open(st->path("acked").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (st->acked_fd < 0) return sys_error("sf_dir: open " + st->path("acked"));
    {
        std::uint64_t rec[2] = {0, 0};
        if (::pread(st->acked_fd, rec, sizeof rec, 0) == static_cast<ssize_t>(sizeof rec) && (rec[0] ^ acked_mark) == rec[1])
            released = rec[0];
    }

    // The dictionary log: entries up to the first that fails its check.
    {
        const std::string p = st->path("dict.log");
        st->dict_fd = ::open(p.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (st->dict_fd < 0) return sys_error("sf_dir: open " + p);
        auto data = read_file(p);
        if (!data) return data.error();
        std::size_t at = 0;
        while (at + 8 <= data->size()) {
            std::uint32_t len, crc;
            std::memcpy(&len, data->data() + at, 4);
            std::memcpy(&crc, data->data() + at + 4, 4);
            if (len > data->size() - at - 8 || crc32c(0, data->data() + at + 8, len) != crc) break;
            out.dict.emplace_back(reinterpret_cast<const char*>(data->data() + at + 8), len);
            at += 8 + len;
        }
        if (at < data->size()) {
            out.cut_bytes += data->size() - at;
            if (::ftruncate(st->dict_fd, static_cast<off_t>(at)) != 0) return sys_error("sf_dir: truncate " + p);
        }
        st->dict_size = at;
        st->dict_count = out.dict.size();
    }

    // The segments, oldest first.
    std::vector<std::uint64_t> firsts;
    if (DIR* d = ::opendir(st->slot.c_str())) {
        while (dirent* e = ::readdir(d)) {
            unsigned long long first = 0;
            char tail[8] = {};
            if (std::sscanf(e->d_name, "seg-%20llu.%5s", &first, tail) == 2 && std::string_view(tail) == "qwsf")
                firsts.push_back(first);
        }
        ::closedir(d);
    } else {
        return sys_error("sf_dir: opendir " + st->slot);
    }
    std::sort(firsts.begin(), firsts.end());
    for (const std::uint64_t first : firsts) {
        const std::string p = st->path(segment_name(first));
        auto data = read_file(p);
        if (!data) return data.error();
        state::segment seg;
        seg.first = first;
        std::size_t at = 0;
        while (at + record_head <= data->size()) {
            std::uint32_t len, crc;
            std::memcpy(&len, data->data() + at, 4);
            std::memcpy(&crc, data->data() + at + 4, 4);
            if (len > data->size() - at - record_head || crc32c(0, data->data() + at + 8, len + 1) != crc) break;
            const bool deferred = std::to_integer<std::uint8_t>((*data)[at + 8]) & 1;
            if (first + seg.count >= released) {
                const auto* b = data->data() + at + record_head;
                out.frames.emplace_back(std::vector<std::byte>(b, b + len), deferred);
                st->sizes.push_back(static_cast<std::uint32_t>(record_head + len));
                st->bytes += record_head + len;
            } else {
                ++seg.done;
            }
            ++seg.count;
            at += record_head + len;
        }
        if (at < data->size()) {
            // A torn tail (or damage): cut it off.
            out.cut_bytes += data->size() - at;
            if (::truncate(p.c_str(), static_cast<off_t>(at)) != 0) return sys_error("sf_dir: truncate " + p);
        }
        seg.size = at;
        if (seg.count == seg.done) {
            ::unlink(p.c_str());  // all released (or empty)
            st->next = std::max(st->next, first + seg.count);
            continue;
        }
        st->next = std::max(st->next, first + seg.count);
        st->segs.push_back(seg);
    }
    st->next = std::max(st->next, released);
    st->write_acked();
    return std::unique_ptr<frame_store>(new frame_store(std::move(st)));
}

result<void> frame_store::append_dict(std::span<const std::string_view> names) {
    auto& s = *s_;
    std::vector<std::byte> buf;
    for (const auto name : names) {
        const auto len = static_cast<std::uint32_t>(name.size());
        const std::uint32_t crc = crc32c(0, name.data(), name.size());
        const std::size_t at = buf.size();
        buf.resize(at + 8 + name.size());
        std::memcpy(buf.data() + at, &len, 4);
        std::memcpy(buf.data() + at + 4, &crc, 4);
        if (!name.empty()) std::memcpy(buf.data() + at + 8, name.data(), name.size());
    }
    if (buf.empty()) return {};
    if (!write_all(s.dict_fd, buf.data(), buf.size(), static_cast<off_t>(s.dict_size))) {
        auto e = sys_error("sf_dir: write " + s.path("dict.log"));
        (void)::ftruncate(s.dict_fd, static_cast<off_t>(s.dict_size));
        return e;
    }
    s.dict_size += buf.size();
    s.dict_count += names.size();
    if (s.opt.durability == sf_durability::append && ::fdatasync(s.dict_fd) != 0) return sys_error("sf_dir: fdatasync dict.log");
    return {};
}

std::size_t frame_store::dict_logged() const noexcept { return s_->dict_count; }

result<void> frame_store::append(std::span<const const_buffer> message, bool deferred) {
    auto& s = *s_;
    std::uint64_t len = 0;
    for (const auto& p : message) len += p.size;
    if (len > 0xffffffffu) return error(errc::frame_too_large, "sf_dir: a frame over 4 GiB");
    if (!fits(len))
        return error(errc::over_budget, "sf_max_total_bytes (" + std::to_string(s.opt.max_total_bytes) + ") is full");
    if (s.segs.empty() || s.segs.back().fd < 0 ||
        (s.segs.back().count > 0 && s.segs.back().size + record_head + len > s.opt.max_segment_bytes)) {
        auto r = s.start_segment();
        if (!r) return r;
    }
    auto& seg = s.segs.back();
    std::uint8_t head[record_head];
    const auto l32 = static_cast<std::uint32_t>(len);
    const std::uint8_t flags = deferred ? 1 : 0;
    std::uint32_t crc = crc32c(0, &flags, 1);
    for (const auto& p : message) crc = crc32c(crc, p.data, p.size);
    std::memcpy(head, &l32, 4);
    std::memcpy(head + 4, &crc, 4);
    head[8] = flags;
    std::vector<iovec> iov;
    iov.reserve(message.size() + 1);
    iov.push_back({head, record_head});
    for (const auto& p : message) iov.push_back({const_cast<void*>(p.data), p.size});
    std::uint64_t at = seg.size, left = record_head + len;
    std::size_t i = 0;
    while (left > 0) {
        const ssize_t w = ::pwritev(seg.fd, iov.data() + i, static_cast<int>(std::min<std::size_t>(iov.size() - i, IOV_MAX)),
                                    static_cast<off_t>(at));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            auto e = sys_error("sf_dir: write " + s.path(segment_name(seg.first)));
            (void)::ftruncate(seg.fd, static_cast<off_t>(seg.size));
            return e;
        }
        at += static_cast<std::uint64_t>(w);
        left -= static_cast<std::uint64_t>(w);
        for (auto n = static_cast<std::size_t>(w); n > 0;) {
            if (n >= iov[i].iov_len) {
                n -= iov[i].iov_len;
                ++i;
            } else {
                iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + n;
                iov[i].iov_len -= n;
                n = 0;
            }
        }
    }
    s.last_offset = seg.size;
    s.can_drop = true;
    seg.size = at;
    ++seg.count;
    ++s.next;
    s.bytes += record_head + len;
    s.sizes.push_back(static_cast<std::uint32_t>(record_head + len));
    if (s.opt.durability == sf_durability::append) return s.sync_all();
    return {};
}

result<void> frame_store::drop_newest() {
    auto& s = *s_;
    if (!s.can_drop || s.segs.empty() || s.segs.back().count == s.segs.back().done)
        return error(std::make_error_code(std::errc::invalid_argument), "sf_dir: no frame to take back");
    auto& seg = s.segs.back();
    if (::ftruncate(seg.fd, static_cast<off_t>(s.last_offset)) != 0) return sys_error("sf_dir: truncate");
    s.bytes -= s.sizes.back();
    s.sizes.pop_back();
    seg.size = s.last_offset;
    --seg.count;
    --s.next;
    s.can_drop = false;
    return {};
}

result<void> frame_store::release(std::size_t n) {
    auto& s = *s_;
    n = std::min(n, s.sizes.size());
    if (n == 0) return {};
    for (std::size_t i = 0; i < n; ++i) {
        s.bytes -= s.sizes.front();
        s.sizes.pop_front();
    }
    while (n > 0 && !s.segs.empty()) {
        auto& seg = s.segs.front();
        const std::size_t take = std::min(n, seg.count - seg.done);
        seg.done += take;
        n -= take;
        if (seg.done == seg.count && seg.fd < 0) {
            ::unlink(s.path(segment_name(seg.first)).c_str());
            s.segs.pop_front();
        } else if (seg.done == seg.count) {
            break;  // the one appended to: emptied when the next starts
        }
    }
    // The segment being appended to, when fully released, starts afresh.
    if (s.segs.size() == 1 && s.segs.front().done == s.segs.front().count && s.segs.front().fd >= 0) {
        auto& seg = s.segs.front();
        ::close(seg.fd);
        seg.fd = -1;
        ::unlink(s.path(segment_name(seg.first)).c_str());
        s.segs.pop_front();
        s.can_drop = false;
    }
    s.write_acked();
    return {};
}

result<void> frame_store::sync() { return s_->sync_all(); }

result<void> frame_store::after_flush() {
    auto& s = *s_;
    if (s.opt.durability == sf_durability::flush) return s.sync_all();
    if (s.opt.durability == sf_durability::periodic && std::chrono::steady_clock::now() - s.last_sync >= s.opt.sync_interval)
        return s.sync_all();
    return {};
}

std::size_t frame_store::pending() const noexcept { return s_->sizes.size(); }
bool frame_store::fits(std::uint64_t message_bytes) const noexcept {
    return s_->bytes + record_head + message_bytes <= s_->opt.max_total_bytes;
}
std::uint64_t frame_store::bytes() const noexcept { return s_->bytes; }
const frame_store_options& frame_store::options() const noexcept { return s_->opt; }

}  // namespace qwire::qwp
