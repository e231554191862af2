#include <qwire/proto/qwp/chunk.hpp>

#include <qwire/proto/qwp/detail/encoding.hpp>

namespace qwire::qwp {

using detail::same_text;
using detail::present;
using detail::valid_name;

chunk& chunk::add(const column_view& c) {
    if (c.rows != rows_) check(false);
    columns_.push_back(c);
    return *this;
}

chunk& chunk::boolean(std::string_view name, const std::uint8_t* bits, const std::uint8_t* validity) {
    column_view c = base(name, type::boolean, validity);
    c.values = bits;
    check(bits != nullptr);
    return add(c);
}

chunk& chunk::decimal(std::string_view name, qwp::type t, const void* values, std::uint8_t scale,
                      const std::uint8_t* validity) {
    column_view c = base(name, t, validity);
    c.values = values;
    c.scale = scale;
    check(is_decimal(t) && values && scale <= 76);
    return add(c);
}

chunk& chunk::geohash(std::string_view name, std::span<const std::uint64_t> v, std::uint8_t bits,
                      const std::uint8_t* validity) {
    column_view c = base(name, type::geohash, validity);
    c.values = v.data();
    c.geohash_bits = bits;
    check(v.size() >= rows_ && bits >= 1 && bits <= 60);
    return add(c);
}

chunk& chunk::varchar(std::string_view name, std::span<const std::int32_t> offsets, const std::byte* bytes,
                      const std::uint8_t* validity, qwp::type t) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::varchar || t == type::binary));
    return add(c);
}

chunk& chunk::varchar(std::string_view name, std::span<const std::int64_t> offsets, const std::byte* bytes,
                      const std::uint8_t* validity, qwp::type t) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.offsets64 = true;
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::varchar || t == type::binary));
    return add(c);
}

chunk& chunk::array(std::string_view name, qwp::type t, std::span<const std::int64_t> offsets, const std::byte* bytes,
                    const std::uint8_t* validity) {
    column_view c = base(name, t, validity);
    c.offsets = offsets.data();
    c.offsets64 = true;
    c.bytes = bytes;
    check(offsets.size() >= rows_ + 1 && (t == type::double_array || t == type::long_array));
    return add(c);
}

result<void> encode(message_builder& b, const chunk& c, std::size_t from, std::size_t count) {
    if (c.error()) return c.error();
    if (from + count > c.rows()) return make_error_code(errc::bad_column);
    if (from == 0 && count == c.rows()) return b.add_table(c.table(), count, c.columns());
    // A slice of the views, in storage this thread keeps (no allocation per call).
    thread_local std::vector<column_view> sliced;
    sliced.clear();
    for (const auto& v : c.columns()) sliced.push_back(v.sliced(from, count));
    return b.add_table(c.table(), count, sliced);
}

}  // namespace qwire::qwp
