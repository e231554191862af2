#include <qwire/proto/qwp/zstd.hpp>

#include <qwire/proto/http/detail/text.hpp>
#include <qwire/proto/qwp/wire.hpp>

#include <zstd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>

namespace qwire::qwp {

using http::detail::iequals;
using http::detail::trim;

int zstd_offered(std::string_view accept) {
    // The first codec of the list this side speaks wins.
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        std::string_view token = accept.substr(0, comma);
        accept.remove_prefix(comma == std::string_view::npos ? accept.size() : comma + 1);
        const std::size_t semi = token.find(';');
        const std::string_view name = trim(token.substr(0, semi));
        if (iequals(name, "raw") || iequals(name, "identity")) return 0;
        if (!iequals(name, "zstd")) continue;
        int level = 1;
        std::string_view params = semi == std::string_view::npos ? std::string_view() : token.substr(semi + 1);
        while (!params.empty()) {
            const std::size_t next = params.find(';');
            const std::string_view p = trim(params.substr(0, next));
            params.remove_prefix(next == std::string_view::npos ? params.size() : next + 1);
            if (p.rfind("level=", 0) != 0) continue;
            int v = 0;
            const auto digits = p.substr(6);
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            if (ec == std::errc{} && end == digits.data() + digits.size()) level = v;
        }
        return std::clamp(level, 1, 9);
    }
    return 0;
}

result<bool> zstd_selected(std::string_view enc) {
    const std::string_view name = trim(enc.substr(0, enc.find(';')));
    if (name.empty() || iequals(name, "raw") || iequals(name, "identity")) return false;
    if (iequals(name, "zstd")) return true;
    return error(errc::bad_compression, "the server chose X-QWP-Content-Encoding '" + std::string(enc) + "'");
}

// ---------------------------------------------------------------- packer

struct zstd_packer::state {
    int level;
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    std::array<std::uint8_t, header_size> head{};
    std::vector<std::byte> out;
    std::array<const_buffer, 3> pieces{};
    ~state() { ZSTD_freeCCtx(cctx); }
};

zstd_packer::zstd_packer(int level) : s_(std::make_unique<state>()) { s_->level = level; }
zstd_packer::~zstd_packer() = default;

result<std::span<const const_buffer>> zstd_packer::pack(std::span<const const_buffer> pieces, std::size_t prefix_size) {
    auto& s = *s_;
    if (!s.cctx) return error(std::make_error_code(std::errc::not_enough_memory), "zstd: no compression context");
    const std::size_t first = prefix_size ? 2 : 1;  // the pieces to compress start here
    if (pieces.size() < first || pieces[0].size != header_size || (prefix_size && pieces[1].size != prefix_size))
        return error(std::make_error_code(std::errc::invalid_argument), "zstd_packer: not a finished message");
    std::size_t total = 0;
    for (std::size_t i = first; i < pieces.size(); ++i) total += pieces[i].size;
    ZSTD_CCtx_reset(s.cctx, ZSTD_reset_session_only);
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, s.level);
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setPledgedSrcSize(s.cctx, total);
    s.out.resize(ZSTD_compressBound(total));
    ZSTD_outBuffer out{s.out.data(), s.out.size(), 0};
    for (std::size_t i = first; i <= pieces.size(); ++i) {
        const bool last = i == pieces.size();
        ZSTD_inBuffer in{last ? nullptr : pieces[i].data, last ? 0 : pieces[i].size, 0};
        for (;;) {
            const std::size_t rc = ZSTD_compressStream2(s.cctx, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(rc)) return error(errc::bad_compression, std::string("zstd: ") + ZSTD_getErrorName(rc));
            if (last ? rc == 0 : in.pos == in.size) break;
        }
    }
    std::memcpy(s.head.data(), pieces[0].data, header_size);
    s.head[5] |= flags::zstd;
    const std::size_t payload = prefix_size + out.pos;
    for (int i = 0; i < 4; ++i) s.head[8 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
    std::size_t n = 0;
    s.pieces[n++] = {s.head.data(), header_size};
    if (prefix_size) s.pieces[n++] = pieces[1];
    s.pieces[n++] = {s.out.data(), out.pos};
    return std::span<const const_buffer>(s.pieces.data(), n);
}

// ---------------------------------------------------------------- unpacker

struct zstd_unpacker::state {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    std::vector<std::byte> out;
    ~state() { ZSTD_freeDCtx(dctx); }
};

zstd_unpacker::zstd_unpacker() : s_(std::make_unique<state>()) {}
zstd_unpacker::~zstd_unpacker() = default;
zstd_unpacker::zstd_unpacker(zstd_unpacker&&) noexcept = default;
zstd_unpacker& zstd_unpacker::operator=(zstd_unpacker&&) noexcept = default;

result<std::span<const std::byte>> zstd_unpacker::unpack(std::span<const std::byte> frame, std::size_t cap) {
    auto& s = *s_;
    if (!s.dctx) return error(std::make_error_code(std::errc::not_enough_memory), "zstd: no decompression context");
    const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (size == ZSTD_CONTENTSIZE_ERROR) return error(errc::bad_compression, "not a zstd frame (bad magic or truncated header)");
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) return error(errc::bad_compression, "the zstd frame does not declare its size");
    if (size > cap)
        return error(errc::bad_compression,
                     "the zstd frame declares " + std::to_string(size) + " bytes, over the bound of " + std::to_string(cap));
    s.out.resize(static_cast<std::size_t>(size));
    const std::size_t rc = ZSTD_decompressDCtx(s.dctx, s.out.data(), s.out.size(), frame.data(), frame.size());
    if (ZSTD_isError(rc)) return error(errc::bad_compression, std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (rc != size)
        return error(errc::bad_compression,
                     "the zstd frame decoded to " + std::to_string(rc) + " bytes, not the " + std::to_string(size) + " it declares");
    return std::span<const std::byte>(s.out.data(), s.out.size());
}

}  // namespace qwire::qwp
