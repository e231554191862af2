#include <qwire/proto/bridge/mapping.hpp>

#include <qwire/proto/qwp/utf8.hpp>

#include <bit>
#include <cmath>
#include <cstring>

namespace qwire::bridge {

namespace {

using kdb::k;
namespace qtype = kdb::qtype;

struct category_t final : std::error_category {
    const char* name() const noexcept override { return "qwire.bridge"; }
    std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
        case errc::unmappable: return "column cannot be mapped";
        case errc::schema_changed: return "table's columns changed";
        case errc::bad_timestamp: return "bad designated timestamp";
        case errc::bad_state: return "bad bridge state";
        }
        return "bridge error";
    }
};

constexpr std::int64_t ns_per_day = 86'400'000'000'000LL;
constexpr std::int64_t ms_per_day = 86'400'000LL;

// The K bytes of these types are QWP's bytes: they go by reference.
bool same_bytes(kdb::type_t t) {
    switch (t) {
    case qtype::byte: case qtype::short_: case qtype::int_: case qtype::long_: case qtype::real: case qtype::float_:
    case qtype::timespan: case qtype::minute: case qtype::second: case qtype::time:
        return true;
    default: return false;
    }
}

std::string kdb_type_name(kdb::type_t t) {
    static constexpr const char* names[] = {"general list", "boolean", "guid", "", "byte", "short", "int",
                                            "long", "real", "float", "char", "symbol", "timestamp", "month",
                                            "date", "datetime", "timespan", "minute", "second", "time"};
    if (t >= 0 && t < 20) return names[t];
    if (t >= 20 && t <= 76) return "enumeration";
    return "type " + std::to_string(t);
}

void set_bit(std::vector<std::uint8_t>& bits, std::size_t i) { bits[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7)); }

// A timestamp or timespan that is neither null nor infinite.
bool finite_time(std::int64_t v) { return v != kdb::null_long && v != kdb::inf_long && v != -kdb::inf_long; }

}  // namespace

const std::error_category& category() noexcept {
    static const category_t c;
    return c;
}

std::optional<qwp::type> qwp_type_for(kdb::type_t t) noexcept {
    switch (t) {
    case qtype::list: return qwp::type::varchar;
    case qtype::boolean: return qwp::type::boolean;
    case qtype::guid: return qwp::type::uuid;
    case qtype::byte: return qwp::type::byte;
    case qtype::short_: return qwp::type::short_;
    case qtype::int_: return qwp::type::int_;
    case qtype::long_: return qwp::type::long_;
    case qtype::real: return qwp::type::float_;
    case qtype::float_: return qwp::type::double_;
    case qtype::char_: return qwp::type::char_;
    case qtype::symbol: return qwp::type::symbol;
    case qtype::timestamp: return qwp::type::timestamp_nanos;
    case qtype::month: case qtype::date: case qtype::datetime: return qwp::type::date;
    case qtype::timespan: return qwp::type::long_;
    case qtype::minute: case qtype::second: case qtype::time: return qwp::type::int_;
    default: return std::nullopt;
    }
}

table_batch::table_batch(std::string table, timestamp_source ts) : table_(std::move(table)), ts_(std::move(ts)) {}

result<void> table_batch::plan(const k& rows) {
    auto names = rows.column_names();
    auto cols = rows.columns();
    if (!names || !cols) return error(errc::unmappable, "table " + table_ + ": the update is not a table");
    const auto name_list = names->get_symbol_list().value();
    const auto items = cols->items();
    const bool first = plan_.empty() && !ts_col_;
    std::size_t at = 0;  // index into plan_
    bool ts_seen = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string_view name = name_list[i];
        const kdb::type_t t = items[i].type();
        if (!ts_.column.empty() && name == ts_.column) {
            if (t != qtype::timestamp && t != qtype::timespan)
                return error(errc::bad_timestamp, "table " + table_ + ", column " + std::string(name) +
                                                      ": the designated timestamp must be a timestamp or a timespan, not " +
                                                      kdb_type_name(t));
            if (first) {
                ts_col_ = i;
                ts_kind_ = t;
            } else if (ts_col_ != i || ts_kind_ != t) {
                return error(errc::schema_changed, "table " + table_ + ", column " + std::string(name) + ": changed from the table's first update");
            }
            ts_seen = true;
            continue;
        }
        const auto out = qwp_type_for(t);
        if (!out || (t == qtype::list && !items[i].items().empty() &&
                     std::any_of(items[i].items().begin(), items[i].items().end(),
                                 [](const k& x) { return x.type() != qtype::char_ && x.type() != -qtype::char_; })))
            return error(errc::unmappable, "table " + table_ + ", column " + std::string(name) + ": a " +
                                               (t == qtype::list ? std::string("general list of anything but strings")
                                                                 : kdb_type_name(t)) +
                                               " has no QuestDB column");
        if (first) {
            plan_.push_back({std::string(name), t, *out, same_bytes(t)});
        } else if (at >= plan_.size() || plan_[at].name != name || plan_[at].kind != t) {
            return error(errc::schema_changed, "table " + table_ + ", column " + std::string(name) +
                                                   ": not the column the table's first update had there");
        }
        ++at;
    }
    if (!first && (at != plan_.size() || ts_seen != ts_col_.has_value()))
        return error(errc::schema_changed, "table " + table_ + ": an update with other columns than the first");
    if (!ts_seen && !ts_.optional)
        return error(errc::bad_timestamp, "table " + table_ + " has no column " + ts_.column + " for the designated timestamp");
    if (first) buffers_.resize(plan_.size());
    return {};
}

result<void> table_batch::append(const k& rows, std::chrono::sys_days day) {
    if (!rows.is_table()) return error(errc::unmappable, "table " + table_ + ": the update is not a table");
    const bool fresh = plan_.empty() && !ts_col_;
    auto checked = check(rows, day);
    if (!checked) {
        if (fresh) {  // the first update sets the plan only when it is taken
            plan_.clear();
            ts_col_.reset();
        }
        return checked.error();
    }
    updates_.push_back(rows);
    days_.push_back(day);
    rows_ += rows.count();
    bytes_ += *checked;
    return {};
}

result<std::size_t> table_batch::check(const k& rows, std::chrono::sys_days day) {
    if (auto p = plan(rows); !p) return p.error();
    const std::size_t n = rows.count();
    const auto cols = rows.columns().value();
    const auto names = rows.column_names().value().get_symbol_list().value();
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < cols.items().size(); ++i) {
        const k& c = cols.items()[i];
        auto out_of_range = [&](std::size_t r) {
            return error(errc::unmappable, "table " + table_ + ", column " + std::string(names[i]) + ", row " + std::to_string(r) +
                                               ": the time is outside what QuestDB's timestamps hold");
        };
        if (ts_col_ && i == *ts_col_) {
            const auto v = c.get_long_list().value();
            const std::int64_t base = designated_base(day);
            for (std::size_t r = 0; r < n; ++r) {
                if (!finite_time(v[r]))
                    return error(errc::bad_timestamp, "table " + table_ + ", column " + std::string(names[i]) + ", row " +
                                                          std::to_string(r) + ": the designated timestamp is null or infinite");
                std::int64_t shifted;
                if (__builtin_add_overflow(v[r], base, &shifted)) return out_of_range(r);
            }
            bytes += 8 * n;
            continue;
        }
        if (c.type() == qtype::timestamp) {
            const auto v = c.get_long_list().value();
            for (std::size_t r = 0; r < n; ++r) {
                std::int64_t shifted;
                if (finite_time(v[r]) && __builtin_add_overflow(v[r], kdb::epoch_offset_ns, &shifted))
                    return out_of_range(r);
            }
        } else if (c.type() == qtype::datetime) {
            const auto v = c.get_float_list().value();
            for (std::size_t r = 0; r < n; ++r)
                if (std::isfinite(v[r]) && std::fabs(v[r]) > 1e8) return out_of_range(r);  // past 270,000 years
        }
        if (c.type() == qtype::list) {
            for (std::size_t r = 0; r < n; ++r) {
                const k& s = c.items()[r];
                const std::string_view text = s.type() == qtype::char_ ? s.get_string().value() : std::string_view();
                if (!qwp::valid_utf8(std::as_bytes(std::span(text.data(), text.size()))))
                    return error(errc::unmappable, "table " + table_ + ", column " + std::string(names[i]) + ", row " +
                                                       std::to_string(r) + ": the string is not UTF-8, which VARCHAR needs");
                bytes += text.size() + 4;
            }
        } else {
            bytes += c.type() == qtype::symbol ? 4 * n : std::max<std::size_t>(kdb::item_size(c.type()), 1) * n;
        }
    }
    return bytes;
}

void table_batch::clear() {
    updates_.clear();
    days_.clear();
    rows_ = bytes_ = 0;
}

namespace {

// A name of at most 8 bytes packed into one word without a call to memcpy:
// two overlapping 4-byte loads, or for 1 to 3 bytes the first, middle and
// last; with the length, the word tells the name apart from every other
// (s is not empty).
inline std::uint64_t pack_short(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    if (n >= 4) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        return lo | std::uint64_t{hi} << 32;
    }
    return p[0] | std::uint64_t{p[n / 2]} << 8 | std::uint64_t{p[n - 1]} << 16;
}

}  // namespace

inline std::uint64_t table_batch::symbol_index::hash(std::string_view s) noexcept {
    if (s.size() > 8) return std::hash<std::string_view>{}(s);
    const std::uint64_t h = (pack_short(s) ^ (std::uint64_t{s.size()} << 59)) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

std::int32_t table_batch::symbol_index::find(std::string_view s, std::span<const std::string_view> dict) const noexcept {
    if (slots_.empty()) return -1;
    const std::uint64_t h = hash(s), tag = h >> 32 << 32, mask = slots_.size() - 1;
    const bool short_name = s.size() <= 8;
    const std::uint64_t word = short_name ? pack_short(s) : 0;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        const std::uint64_t e = slots_[i];
        if (e == 0) return -1;
        if ((e & ~0xffffffffULL) != tag) continue;
        const auto code = static_cast<std::int32_t>((e & 0xffffffffULL) - 1);
        const std::string_view d = dict[code];
        if (d.size() == s.size() && (short_name ? pack_short(d) == word : d == s)) return code;
    }
}

void table_batch::symbol_index::add(std::span<const std::string_view> dict) {
    if (2 * (used_ + 1) > slots_.size()) {  // at most half full
        slots_.assign(std::max<std::size_t>(64, 2 * slots_.size()), 0);
        used_ = 0;
        for (std::size_t c = 0; c + 1 < dict.size(); ++c) add(dict.first(c + 1));
    }
    const std::uint64_t h = hash(dict.back()), mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = (h >> 32 << 32) | static_cast<std::uint64_t>(dict.size());
    ++used_;
}

void table_batch::symbol_index::clear() noexcept {
    std::fill(slots_.begin(), slots_.end(), 0);
    used_ = 0;
}

void table_batch::convert(std::size_t col, column_buffers& b) {
    const column_plan& p = plan_[col];
    b.values.clear();
    b.validity.assign((rows_ + 7) / 8, 0);
    b.offsets.assign(1, 0);
    b.text.clear();
    b.codes.clear();
    if (p.kind == qtype::symbol && b.names.size() > qwp::default_symbol_cap) {
        b.names.clear();
        b.dict.clear();
        b.index.clear();
    }
    std::size_t row = 0;
    for (const k& u : updates_) {
        const k& c = source(u, col);
        const std::size_t n = c.count();
        switch (p.kind) {
        case qtype::boolean: {
            const auto v = c.get_bool_list().value();
            b.values.resize((rows_ + 7) / 8);
            for (std::size_t r = 0; r < n; ++r, ++row) {
                set_bit(b.validity, row);
                if (v[r]) b.values[row >> 3] |= static_cast<std::byte>(1u << (row & 7));
            }
            break;
        }
        case qtype::guid: {
            for (const auto& g : c.get_guid_list().value()) {
                std::uint64_t hi, lo;
                std::memcpy(&hi, g.data(), 8);
                std::memcpy(&lo, g.data() + 8, 8);
                if (hi != 0 || lo != 0) set_bit(b.validity, row);
                hi = __builtin_bswap64(hi);  // the guid's bytes are big-endian
                lo = __builtin_bswap64(lo);
                const std::size_t o = b.values.size();
                b.values.resize(o + 16);
                std::memcpy(b.values.data() + o, &lo, 8);
                std::memcpy(b.values.data() + o + 8, &hi, 8);
                ++row;
            }
            break;
        }
        case qtype::char_: {
            const auto v = c.get_string().value();
            for (char ch : v) {
                const std::uint16_t u16 = static_cast<unsigned char>(ch);
                const std::size_t o = b.values.size();
                b.values.resize(o + 2);
                std::memcpy(b.values.data() + o, &u16, 2);
                set_bit(b.validity, row++);
            }
            break;
        }
        case qtype::symbol: {
            for (const std::string_view s : c.get_symbol_list().value()) {
                std::int32_t code = 0;
                if (!s.empty()) {
                    code = b.index.find(s, b.dict);
                    if (code < 0) {
                        b.dict.push_back(b.names.emplace_back(s));
                        b.index.add(b.dict);
                        code = static_cast<std::int32_t>(b.dict.size() - 1);
                    }
                    set_bit(b.validity, row);
                }
                b.codes.push_back(code);
                ++row;
            }
            break;
        }
        case qtype::list: {
            for (const k& s : c.items()) {
                if (s.type() == qtype::char_) {
                    const auto t = s.get_string().value();
                    const auto* p8 = reinterpret_cast<const std::byte*>(t.data());
                    b.text.insert(b.text.end(), p8, p8 + t.size());
                } else {
                    b.text.push_back(static_cast<std::byte>(s.get_char().value()));
                }
                b.offsets.push_back(static_cast<std::int32_t>(b.text.size()));
                set_bit(b.validity, row++);
            }
            break;
        }
        case qtype::timestamp: case qtype::month: case qtype::date: case qtype::datetime: {
            // To the 1970 epoch: nanoseconds for timestamps, milliseconds for DATE.
            for (std::size_t r = 0; r < n; ++r, ++row) {
                std::int64_t out = 0;
                bool present = true;
                if (p.kind == qtype::timestamp) {
                    const std::int64_t v = c.get_long_list().value()[r];
                    present = finite_time(v);
                    if (present) out = v + kdb::epoch_offset_ns;  // in range: check() made sure
                } else if (p.kind == qtype::datetime) {
                    const double v = c.get_float_list().value()[r];
                    present = std::isfinite(v);
                    if (present) out = std::llround(v * static_cast<double>(ms_per_day)) + kdb::epoch_offset_days * ms_per_day;
                } else {
                    const std::int32_t v = c.get_int_list().value()[r];
                    present = v != kdb::null_int && v != kdb::inf_int && v != -kdb::inf_int;
                    if (present && p.kind == qtype::date) {
                        out = (std::int64_t{v} + kdb::epoch_offset_days) * ms_per_day;
                    } else if (present) {
                        const auto ym = kdb::from_kdb_month(v);
                        out = std::chrono::sys_days(ym / std::chrono::day(1)).time_since_epoch().count() * ms_per_day;
                    }
                }
                if (present) set_bit(b.validity, row);
                else out = 0;
                const std::size_t o = b.values.size();
                b.values.resize(o + 8);
                std::memcpy(b.values.data() + o, &out, 8);
            }
            break;
        }
        default: {  // same bytes, several updates: joined
            const auto* data = c.node().data.data();
            b.values.insert(b.values.end(), data, data + n * kdb::item_size(p.kind));
            row += n;
        }
        }
    }
}

const k& table_batch::source(const k& update, std::size_t col) const {
    // The designated column is not in the plan: those after it sit one further on.
    return update.node().items[1].node().items[ts_col_ && col >= *ts_col_ ? col + 1 : col];
}

std::int64_t table_batch::designated_base(std::chrono::sys_days day) const {
    return ts_kind_ == qtype::timestamp ? kdb::epoch_offset_ns : std::int64_t{day.time_since_epoch().count()} * ns_per_day;
}

std::optional<std::int64_t> table_batch::newest_timestamp() const {
    if (!ts_col_ || updates_.empty()) return std::nullopt;
    const auto v = updates_.back().node().items[1].node().items[*ts_col_].get_long_list().value();
    if (v.empty()) return std::nullopt;
    return v.back() + designated_base(days_.back());
}

void table_batch::convert_timestamp() {
    designated_.clear();
    designated_.reserve(rows_);
    for (std::size_t u = 0; u < updates_.size(); ++u) {
        const auto v = updates_[u].node().items[1].node().items[*ts_col_].get_long_list().value();
        const std::int64_t base = designated_base(days_[u]);
        for (const std::int64_t x : v) designated_.push_back(x + base);
    }
}

result<qwp::chunk> table_batch::chunk() {
    qwp::chunk c(table_, rows_);
    if (rows_ == 0) return c;
    for (std::size_t i = 0; i < plan_.size(); ++i) {
        const column_plan& p = plan_[i];
        qwp::column_view v;
        v.name = p.name;
        v.type = p.out;
        v.rows = rows_;
        if (p.by_reference && updates_.size() == 1) {
            v.values = source(updates_.front(), i).node().data.data();
            c.add(v);
            continue;
        }
        column_buffers& b = buffers_[i];
        convert(i, b);
        if (p.by_reference) {
            v.values = b.values.data();
        } else if (p.kind == qtype::symbol) {
            v.values = b.codes.data();
            v.code_width = 4;
            v.dict = b.dict;
            v.validity = b.validity.data();
        } else if (p.kind == qtype::list) {
            v.offsets = b.offsets.data();
            v.bytes = b.text.data();
            v.validity = b.validity.data();
        } else {
            v.values = b.values.data();
            v.validity = b.validity.data();
        }
        c.add(v);
    }
    if (ts_col_) {
        convert_timestamp();
        c.designated(designated_);
    }
    if (c.error()) return error(c.error(), "table " + table_);
    return c;
}

// ---------------------------------------------------------------- back to K

namespace {

template <class T>
void fill(k& out, std::size_t at, const qwp::decoded_column& c, T null_value) {
    auto dst = out.data<T>().subspan(at, c.rows);
    for (std::size_t r = 0; r < c.rows; ++r) dst[r] = c.null_bit(r) ? null_value : c.get<T>(r);
}

}  // namespace

result<k> to_k(std::span<const qwp::decoded_column* const> pieces) {
    if (pieces.empty()) return error(errc::unmappable, "no column");
    const qwp::decoded_column& first = *pieces.front();
    std::size_t n = 0;
    for (const auto* p : pieces) n += p->rows;
    const std::string& name = first.name;
    auto bad = [&](std::string why) { return error(errc::unmappable, "column " + name + ": " + why); };
    switch (first.type) {
    case qwp::type::boolean: case qwp::type::byte: {
        k out = kdb::new_vector(first.type == qwp::type::boolean ? qtype::boolean : qtype::byte, n);
        std::size_t at = 0;
        for (const auto* p : pieces) {
            fill<std::uint8_t>(out, at, *p, 0);
            at += p->rows;
        }
        return out;
    }
    case qwp::type::short_: {
        k out = kdb::new_vector(qtype::short_, n);
        std::size_t at = 0;
        for (const auto* p : pieces) fill<std::int16_t>(out, at, *p, 0), at += p->rows;
        return out;
    }
    case qwp::type::int_: case qwp::type::ipv4: {
        k out = kdb::new_vector(qtype::int_, n);
        std::size_t at = 0;
        for (const auto* p : pieces) fill<std::int32_t>(out, at, *p, first.type == qwp::type::int_ ? kdb::null_int : 0), at += p->rows;
        return out;
    }
    case qwp::type::long_: case qwp::type::geohash: {
        k out = kdb::new_vector(qtype::long_, n);
        std::size_t at = 0;
        for (const auto* p : pieces) fill<std::int64_t>(out, at, *p, kdb::null_long), at += p->rows;
        return out;
    }
    case qwp::type::float_: {
        k out = kdb::new_vector(qtype::real, n);
        std::size_t at = 0;
        for (const auto* p : pieces) fill<float>(out, at, *p, kdb::null_real), at += p->rows;
        return out;
    }
    case qwp::type::double_: {
        k out = kdb::new_vector(qtype::float_, n);
        std::size_t at = 0;
        for (const auto* p : pieces) fill<double>(out, at, *p, kdb::null_float), at += p->rows;
        return out;
    }
    case qwp::type::timestamp: case qwp::type::timestamp_nanos: case qwp::type::date: {
        k out = kdb::new_vector(qtype::timestamp, n);
        auto dst = out.data<std::int64_t>();
        std::size_t at = 0;
        for (const auto* p : pieces) {
            const std::int64_t scale = p->type == qwp::type::timestamp ? 1000 : p->type == qwp::type::date ? 1'000'000 : 1;
            for (std::size_t r = 0; r < p->rows; ++r, ++at) {
                if (p->is_null(r)) {
                    dst[at] = kdb::null_long;
                    continue;
                }
                std::int64_t ns;
                if (__builtin_mul_overflow(p->get<std::int64_t>(r), scale, &ns) ||
                    __builtin_sub_overflow(ns, kdb::epoch_offset_ns, &dst[at]))
                    return bad(std::string(qwp::type_name(p->type)) + " at row " + std::to_string(at) +
                               " is outside what a kdb+ timestamp holds");
            }
        }
        return out;
    }
    case qwp::type::char_: {
        std::string s(n, ' ');
        std::size_t at = 0;
        for (const auto* p : pieces)
            for (std::size_t r = 0; r < p->rows; ++r, ++at) {
                const auto u = p->get<std::uint16_t>(r);
                if (u > 0xFF) return bad("CHAR U+" + std::to_string(u) + " at row " + std::to_string(at) + " is not a kdb+ char");
                s[at] = p->null_bit(r) ? ' ' : static_cast<char>(u);
            }
        return kdb::new_string(s);
    }
    case qwp::type::symbol: {
        std::vector<std::string_view> names;
        names.reserve(n);
        for (const auto* p : pieces)
            for (std::size_t r = 0; r < p->rows; ++r) names.push_back(p->null_bit(r) ? std::string_view() : p->text(r));
        return kdb::new_symbol_list(names);
    }
    case qwp::type::varchar: case qwp::type::binary: {
        std::vector<k> items;
        items.reserve(n);
        for (const auto* p : pieces)
            for (std::size_t r = 0; r < p->rows; ++r) {
                const std::string_view t = p->null_bit(r) ? std::string_view() : p->text(r);
                if (first.type == qwp::type::varchar) {
                    items.push_back(kdb::new_string(t));
                } else {
                    k bytes = kdb::new_vector(qtype::byte, t.size());
                    std::memcpy(bytes.data<char>().data(), t.data(), t.size());
                    items.push_back(std::move(bytes));
                }
            }
        return kdb::new_list(std::move(items));
    }
    case qwp::type::uuid: {
        k out = kdb::new_vector(qtype::guid, n);
        auto dst = out.data<kdb::guid>();
        std::size_t at = 0;
        for (const auto* p : pieces)
            for (std::size_t r = 0; r < p->rows; ++r, ++at) {
                kdb::guid g{};
                if (!p->is_null(r)) {
                    std::uint64_t lo, hi;
                    std::memcpy(&lo, p->fixed.data() + r * 16, 8);
                    std::memcpy(&hi, p->fixed.data() + r * 16 + 8, 8);
                    hi = __builtin_bswap64(hi);
                    lo = __builtin_bswap64(lo);
                    std::memcpy(g.data(), &hi, 8);
                    std::memcpy(g.data() + 8, &lo, 8);
                }
                dst[at] = g;
            }
        return out;
    }
    default:
        return bad(std::string(qwp::type_name(first.type)) + " has no kdb+ column");
    }
}

result<k> to_k(const qwp::decoded_column& c) {
    const qwp::decoded_column* p = &c;
    return to_k(std::span(&p, 1));
}

}  // namespace qwire::bridge
