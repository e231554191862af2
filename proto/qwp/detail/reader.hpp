// Bounds-checked reading of QWP bytes, shared by the decoders (not installed).
#pragma once

#include <qwire/proto/qwp/wire.hpp>

#include <cstring>
#include <span>
#include <string>

namespace qwire::qwp::detail {

struct reader {
    std::span<const std::byte> in;

    result<std::uint8_t> u8() {
        if (in.empty()) return make_error_code(errc::truncated);
        const auto v = std::to_integer<std::uint8_t>(in[0]);
        in = in.subspan(1);
        return v;
    }
    template <class T>
    result<T> fixed() {
        if (in.size() < sizeof(T)) return make_error_code(errc::truncated);
        T v;
        std::memcpy(&v, in.data(), sizeof(T));
        in = in.subspan(sizeof(T));
        return v;
    }
    result<std::span<const std::byte>> take(std::uint64_t n) {
        if (in.size() < n) return make_error_code(errc::truncated);
        auto s = in.first(static_cast<std::size_t>(n));
        in = in.subspan(static_cast<std::size_t>(n));
        return s;
    }
    result<std::uint64_t> varint() { return get_varint(in); }
    result<std::string> string(std::size_t max) {
        auto n = varint();
        if (!n) return n.error();
        if (*n > max) return make_error_code(errc::bad_length);
        auto s = take(*n);
        if (!s) return s.error();
        return std::string(reinterpret_cast<const char*>(s->data()), s->size());
    }
};

#define QWP_TRY(var, expr)            \
    auto var = (expr);                \
    if (!var) return var.error();

}  // namespace qwire::qwp::detail
