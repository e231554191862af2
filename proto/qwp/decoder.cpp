#include <qwire/proto/qwp/decoder.hpp>

#include <qwire/proto/qwp/detail/reader.hpp>
#include <qwire/proto/qwp/utf8.hpp>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <limits>

namespace qwire::qwp {

using detail::reader;

namespace {

struct bit_reader {
    std::span<const std::byte> in;
    std::size_t bit = 0;
    result<std::uint64_t> get(unsigned n) {
        std::uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k, ++bit) {
            if (bit / 8 >= in.size()) return make_error_code(errc::truncated);
            if ((std::to_integer<unsigned>(in[bit / 8]) >> (bit & 7)) & 1) v |= std::uint64_t{1} << k;
        }
        return v;
    }
};

std::int64_t sign_extend(std::uint64_t v, unsigned bits) noexcept {
    const std::uint64_t m = std::uint64_t{1} << (bits - 1);
    return static_cast<std::int64_t>((v ^ m) - m);
}

result<void> gorilla_decode(reader& r, std::size_t n, std::vector<std::int64_t>& out) {
    out.clear();
    if (n == 0) return {};
    QWP_TRY(t0, r.fixed<std::int64_t>());
    out.push_back(*t0);
    if (n == 1) return {};
    QWP_TRY(t1, r.fixed<std::int64_t>());
    out.push_back(*t1);
    if (n == 2) return {};
    bit_reader b{r.in};
    // Wrapping arithmetic, as the server's (Java long) does: a hostile
    // stream may overflow, which must not be undefined behaviour here.
    std::uint64_t delta = static_cast<std::uint64_t>(*t1) - static_cast<std::uint64_t>(*t0);
    for (std::size_t i = 2; i < n; ++i) {
        unsigned ones = 0;
        while (ones < 4) {
            QWP_TRY(bit, b.get(1));
            if (!*bit) break;
            ++ones;
        }
        static constexpr unsigned widths[] = {0, 7, 9, 12, 32};
        std::int64_t dod = 0;
        if (ones > 0) {
            QWP_TRY(v, b.get(widths[ones]));
            dod = sign_extend(*v, widths[ones]);
        }
        delta += static_cast<std::uint64_t>(dod);
        out.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(out.back()) + delta));
    }
    r.in = r.in.subspan((b.bit + 7) / 8);
    return {};
}

}  // namespace

bool decoded_column::is_null(std::size_t row) const noexcept {
    if (null_bit(row)) return true;
    switch (type) {
    case type::int_: return get<std::int32_t>(row) == std::numeric_limits<std::int32_t>::min();
    case type::long_: case type::date: case type::timestamp: case type::timestamp_nanos:
        return get<std::int64_t>(row) == std::numeric_limits<std::int64_t>::min();
    case type::float_: return std::isnan(get<float>(row));
    case type::double_: return std::isnan(get<double>(row));
    case type::ipv4: return get<std::uint32_t>(row) == 0;
    case type::uuid: case type::long256: {
        const std::size_t w = fixed_width(type);
        for (std::size_t k = 0; k < w; k += 8) {
            std::int64_t v;
            std::memcpy(&v, fixed.data() + row * w + k, 8);
            if (v != std::numeric_limits<std::int64_t>::min()) return false;
        }
        return true;
    }
    case type::geohash: {
        const std::uint64_t all = geohash_bits >= 64 ? ~0ULL : (std::uint64_t{1} << (((geohash_bits + 7) / 8) * 8)) - 1;
        return (get<std::uint64_t>(row) & all) == all;
    }
    default: return false;
    }
}

result<decoded_table> decode_block(std::span<const std::byte>& in, std::uint8_t flags,
                                   const std::vector<std::string>& dict, const block_mode& m) {
    reader r{in};
    std::vector<std::int64_t> ts;
    decoded_table t;
    QWP_TRY(name, r.string(max_name_bytes));
    if (name->empty() && !m.egress) return make_error_code(errc::bad_name);
    t.name = std::move(*name);
    QWP_TRY(rows, r.varint());
    if (*rows > m.max_rows) return make_error_code(errc::too_many_rows);
    t.rows = static_cast<std::size_t>(*rows);
    if (m.schema) {
        t.columns.resize(m.schema->size());
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            t.columns[i].name = (*m.schema)[i].first;
            t.columns[i].type = (*m.schema)[i].second;
        }
    } else {
        QWP_TRY(ncols, r.varint());
        if (*ncols > max_columns) return make_error_code(errc::too_many_columns);
        t.columns.resize(static_cast<std::size_t>(*ncols));
        for (auto& c : t.columns) {
            QWP_TRY(cname, r.string(max_name_bytes));
            QWP_TRY(code, r.u8());
            if (!known_type(*code)) return make_error_code(errc::bad_type);
            c.name = std::move(*cname);
            c.type = static_cast<type>(*code);
            if (c.name.empty() && !is_timestamp(c.type) && !m.egress) return make_error_code(errc::bad_name);
        }
    }
    const std::size_t R = t.rows;
    const bool keep = m.values;
    auto charge = [&](std::uint64_t bytes) -> bool {
        if (!m.budget) return true;
        if (bytes > *m.budget) return false;
        *m.budget -= bytes;
        return true;
    };
    // What a row of a column costs in memory, before the bytes of its value.
    auto row_cost = [&](const decoded_column& c) -> std::uint64_t {
        const bool var = c.type == type::varchar || c.type == type::binary || c.type == type::symbol ||
                         c.type == type::double_array || c.type == type::long_array;
        return var ? sizeof(std::uint32_t) : c.type == type::geohash ? 8 : std::max<std::size_t>(fixed_width(c.type), 1);
    };
    for (auto& c : t.columns) {
        // The null bitmap (a bit a row) and the values' storage.
        if (keep && !charge(R / 8 + 1 + std::uint64_t{R} * row_cost(c))) return make_error_code(errc::over_budget);
        if (keep) c.rows = R;
        QWP_TRY(null_flag, r.u8());
        std::size_t n = R;
        if (*null_flag) {
            QWP_TRY(bm, r.take((R + 7) / 8));
            for (std::size_t i = 0; i < R; ++i)
                if ((std::to_integer<unsigned>((*bm)[i >> 3]) >> (i & 7)) & 1) {
                    if (keep) {
                        if (c.null_bits.empty()) c.null_bits.assign((R + 7) / 8, 0);
                        c.null_bits[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
                    }
                    --n;
                }
            // The designated timestamp is never null.
            if (n != R && c.name.empty() && !m.egress) return make_error_code(errc::bad_column);
        }
        // The row each of the n values belongs to (without values: just n
        // turns, for the parts that must be parsed value by value).
        // f returns a plain error code: it runs once per row, and a result
        // (with room for a detail) costs more than the work it guards.
        auto for_values = [&](auto&& f) -> std::error_code {
            if (!keep) {
                for (std::size_t k = 0; k < n; ++k)
                    if (auto e = f(k)) return e;
                return {};
            }
            for (std::size_t i = 0; i < R; ++i) {
                if (c.null_bit(i)) continue;
                if (auto e = f(i)) return e;
            }
            return {};
        };
        // Variable-length values in row order: row i's bytes, the rows
        // before it that had none (NULLs) empty; end_text() closes the rest.
        std::size_t text_rows = 0;
        // (false: the column's bytes would pass 4 GiB, what 32-bit offsets hold)
        auto put_text = [&](std::size_t i, const std::byte* p, std::size_t len) -> bool {
            if (c.bytes.size() + len > std::numeric_limits<std::uint32_t>::max()) return false;
            if (c.offsets.empty()) {
                c.offsets.reserve(R + 1);
                c.offsets.push_back(0);
            }
            const auto at = static_cast<std::uint32_t>(c.bytes.size());
            for (; text_rows < i; ++text_rows) c.offsets.push_back(at);
            c.bytes.insert(c.bytes.end(), p, p + len);
            c.offsets.push_back(static_cast<std::uint32_t>(c.bytes.size()));
            ++text_rows;
            return true;
        };
        auto end_text = [&] {
            if (!keep) return;
            if (c.offsets.empty()) c.offsets.push_back(0);
            const auto at = static_cast<std::uint32_t>(c.bytes.size());
            for (; text_rows < R; ++text_rows) c.offsets.push_back(at);
        };
        if (is_decimal(c.type)) {
            QWP_TRY(scale, r.u8());
            if (*scale > 76) return make_error_code(errc::bad_column);
            c.scale = *scale;
        }
        std::size_t w = fixed_width(c.type);
        if (c.type == type::geohash) {
            QWP_TRY(bits, r.varint());
            if (*bits < 1 || *bits > 60) return make_error_code(errc::bad_column);
            c.geohash_bits = static_cast<std::uint8_t>(*bits);
            const std::size_t gw = (c.geohash_bits + 7u) / 8u;
            QWP_TRY(vals, r.take(std::uint64_t{n} * gw));
            if (!keep) continue;
            c.fixed.assign(R * 8, std::byte{0});
            std::size_t k = 0;
            auto e = for_values([&](std::size_t i) -> std::error_code {
                std::memcpy(c.fixed.data() + i * 8, vals->data() + k++ * gw, gw);
                return {};
            });
            if (e) return e;
            continue;
        }
        if (c.type == type::boolean) {
            QWP_TRY(bits, r.take((n + 7) / 8));
            if (!keep) continue;
            c.fixed.assign(R, std::byte{0});
            std::size_t k = 0;
            auto e = for_values([&](std::size_t i) -> std::error_code {
                c.fixed[i] = std::byte((std::to_integer<unsigned>((*bits)[k >> 3]) >> (k & 7)) & 1);
                ++k;
                return {};
            });
            if (e) return e;
            continue;
        }
        if (c.type == type::varchar || c.type == type::binary) {
            QWP_TRY(offs, r.take((std::uint64_t{n} + 1) * 4));
            auto off = [&](std::size_t k) {
                std::uint32_t v;
                std::memcpy(&v, offs->data() + 4 * k, 4);
                return v;
            };
            if (off(0) != 0) return make_error_code(errc::bad_column);
            for (std::size_t k = 0; k < n; ++k)
                if (off(k + 1) < off(k)) return make_error_code(errc::bad_column);
            QWP_TRY(data, r.take(off(n)));
            if (c.type == type::varchar && !valid_utf8(*data)) return make_error_code(errc::bad_column);
            if (!keep) continue;
            if (!charge(off(n))) return make_error_code(errc::over_budget);
            std::size_t k = 0;
            auto e = for_values([&](std::size_t i) -> std::error_code {
                if (!put_text(i, data->data() + off(k), off(k + 1) - off(k))) return make_error_code(errc::bad_length);
                ++k;
                return {};
            });
            end_text();
            if (e) return e;
            continue;
        }
        if (c.type == type::symbol) {
            std::vector<std::string> local;
            const bool global = flags & flags::delta_symbol_dict;
            if (!global) {
                QWP_TRY(size, r.varint());
                if (*size > r.in.size()) return make_error_code(errc::bad_length);
                for (std::uint64_t k = 0; k < *size; ++k) {
                    QWP_TRY(s, r.string(max_payload));
                    local.push_back(std::move(*s));
                }
            }
            const auto& d = global ? dict : local;
            auto e = for_values([&](std::size_t i) -> std::error_code {
                std::uint64_t id;
                if (auto ec = read_varint(r.in, id)) return ec;
                if (id >= d.size()) return make_error_code(errc::bad_column);
                if (keep) {
                    const std::string& text = d[static_cast<std::size_t>(id)];
                    if (!charge(text.size())) return make_error_code(errc::over_budget);
                    if (!put_text(i, reinterpret_cast<const std::byte*>(text.data()), text.size()))
                        return make_error_code(errc::bad_length);
                }
                return {};
            });
            end_text();
            if (e) return e;
            continue;
        }
        if (c.type == type::double_array || c.type == type::long_array) {
            auto e = for_values([&](std::size_t i) -> std::error_code {
                const std::span<const std::byte> start = r.in;
                QWP_TRY(dims, r.u8());
                if (*dims < 1 || *dims > 32) return make_error_code(errc::bad_column);
                std::uint64_t count = 1;
                for (unsigned k = 0; k < *dims; ++k) {
                    QWP_TRY(d, r.fixed<std::int32_t>());
                    if (*d < 0) return make_error_code(errc::bad_column);
                    count *= static_cast<std::uint64_t>(*d);
                    if (count > max_payload) return make_error_code(errc::bad_length);
                }
                QWP_TRY(vals, r.take(count * 8));
                const std::size_t len = static_cast<std::size_t>(r.in.data() - start.data());
                if (keep && !charge(len)) return make_error_code(errc::over_budget);
                if (keep && !put_text(i, start.data(), len)) return make_error_code(errc::bad_length);
                return {};
            });
            end_text();
            if (e) return e;
            continue;
        }
        if (w == 0) return make_error_code(errc::bad_type);
        if (keep) c.fixed.assign(R * w, std::byte{0});
        if ((is_timestamp(c.type) || (m.egress && c.type == type::date)) && (flags & flags::gorilla)) {
            QWP_TRY(enc, r.u8());
            if (*enc == 1) {
                if (auto g = gorilla_decode(r, n, ts); !g) return g.error();
                if (!keep) continue;
                std::size_t k = 0;
                auto e = for_values([&](std::size_t i) -> std::error_code {
                    std::memcpy(c.fixed.data() + i * 8, &ts[k++], 8);
                    return {};
                });
                if (e) return e;
                continue;
            }
            if (*enc != 0) return make_error_code(errc::bad_column);
        }
        QWP_TRY(vals, r.take(std::uint64_t{n} * w));
        if (!keep) continue;
        std::size_t k = 0;
        auto e = for_values([&](std::size_t i) -> std::error_code {
            std::memcpy(c.fixed.data() + i * w, vals->data() + k++ * w, w);
            return {};
        });
        if (e) return e;
    }
    in = r.in;
    return t;
}

result<decoded_message> message_decoder::decode(std::span<const std::byte> msg, std::uint64_t* budget) {
    reader r{msg};
    decoded_message out;
    QWP_TRY(head, r.take(header_size));
    if (std::memcmp(head->data(), magic, 4) != 0) return make_error_code(errc::bad_magic);
    if (std::to_integer<std::uint8_t>((*head)[4]) != version) return make_error_code(errc::bad_version);
    out.flags = std::to_integer<std::uint8_t>((*head)[5]);
    if (out.flags & ~(flags::defer_commit | flags::gorilla | flags::delta_symbol_dict))
        return make_error_code(errc::parse_error);
    const std::size_t table_count =
        std::to_integer<std::size_t>((*head)[6]) | (std::to_integer<std::size_t>((*head)[7]) << 8);
    std::uint32_t payload;
    std::memcpy(&payload, head->data() + 8, 4);
    if (payload > max_payload || payload != r.in.size()) return make_error_code(errc::bad_length);

    if (out.flags & flags::delta_symbol_dict) {
        QWP_TRY(start, r.varint());
        QWP_TRY(count, r.varint());
        if (*start > dict_.size()) return make_error_code(errc::dictionary_gap);
        if (*count > r.in.size()) return make_error_code(errc::bad_length);
        out.dict_start = static_cast<std::size_t>(*start);
        out.dict_count = static_cast<std::size_t>(*count);
        for (std::uint64_t i = 0; i < *count; ++i) {
            QWP_TRY(s, r.string(max_payload));
            const std::uint64_t id = *start + i;
            if (id < dict_.size()) continue;  // re-sent: already known
            if (dict_.size() >= cap_) return make_error_code(errc::symbol_cap);
            dict_.push_back(std::move(*s));
        }
    }

    for (std::size_t ti = 0; ti < table_count; ++ti) {
        block_mode mode;
        mode.values = values_;
        mode.budget = budget;
        auto t = decode_block(r.in, out.flags, dict_, mode);
        if (!t) return t.error();
        out.tables.push_back(std::move(*t));
    }
    if (!r.in.empty()) return make_error_code(errc::trailing_bytes);
    return out;
}


}  // namespace qwire::qwp
