// zstd for QWP egress: what a reader offers, the server side's batch
// packer and the reader's unpacker. A RESULT_BATCH with FLAG_ZSTD carries
// everything after its batch_seq as one zstd frame that declares its size.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/io/byte_stream.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace qwire::qwp {

// The largest batch a reader inflates (QuestDB's Rust reader takes the
// same bound): a frame declaring more is refused before any work.
inline constexpr std::size_t max_inflated_batch = 64u << 20;

// The zstd level an X-QWP-Accept-Encoding value asks for, clamped to 1-9 as
// QuestDB's server does (1 when zstd carries no level), or 0 when raw comes
// first or zstd is not offered at all. Tokens: "zstd;level=3, raw".
int zstd_offered(std::string_view accept_encoding);

// Whether an X-QWP-Content-Encoding value (absent: raw) names zstd; an
// error names a codec that is neither zstd nor raw/identity.
result<bool> zstd_selected(std::string_view content_encoding);

// Compresses RESULT_BATCH messages: pieces as message_builder::finish
// gives them (12-byte header, then prefix_size bytes of kind, request id
// and batch_seq, then the rest) become header, prefix and one zstd frame,
// with FLAG_ZSTD set and the header's length fixed. The returned pieces
// point into this object until the next pack().
class zstd_packer {
public:
    explicit zstd_packer(int level);
    ~zstd_packer();
    zstd_packer(const zstd_packer&) = delete;
    zstd_packer& operator=(const zstd_packer&) = delete;

    result<std::span<const const_buffer>> pack(std::span<const const_buffer> pieces, std::size_t prefix_size);

private:
    struct state;
    std::unique_ptr<state> s_;
};

// Inflates the zstd frame of a RESULT_BATCH into a buffer it reuses; the
// span is valid until the next unpack(). A frame without a declared size,
// one declaring more than `cap`, or one that does not decode to exactly its
// declared size is an error (errc::bad_compression) saying which.
class zstd_unpacker {
public:
    zstd_unpacker();
    ~zstd_unpacker();
    zstd_unpacker(zstd_unpacker&&) noexcept;
    zstd_unpacker& operator=(zstd_unpacker&&) noexcept;

    result<std::span<const std::byte>> unpack(std::span<const std::byte> frame, std::size_t cap = max_inflated_batch);

private:
    struct state;
    std::unique_ptr<state> s_;
};

}  // namespace qwire::qwp
