#include <qwire/proto/qwp/row_buffer.hpp>

#include <qwire/proto/qwp/detail/encoding.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::qwp {

using detail::same_text;
using detail::present;
using detail::valid_name;

namespace {
// A column's own symbol dictionary survives clear() (the next batch most
// likely names the same symbols) unless it has grown past this.
constexpr std::size_t kept_dictionary = 4096;
}  // namespace

struct row_buffer::column_store {
    std::string name;
    qwp::type type;
    std::uint8_t scale = 0;
    std::uint8_t geohash_bits = 0;
    std::size_t rows = 0;
    bool has_null = false;
    std::vector<std::uint8_t> validity;
    byte_buffer values;  // fixed-width values, or boolean bits
    std::vector<std::int64_t> offsets{0};
    std::vector<std::byte> bytes;
    std::vector<std::int32_t> codes;
    symbol_dict dict{static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())};  // codes: first-use order
    mutable std::vector<std::string_view> dict_views;
    bool used = false;  // named by a row since the last clear()

    // Empty again, keeping the capacity for the next batch.
    void reset() {
        rows = 0;
        has_null = false;
        used = false;
        scale = 0;
        geohash_bits = 0;
        validity.clear();
        values.clear();
        offsets.assign(1, 0);
        bytes.clear();
        codes.clear();
        if (dict.size() > kept_dictionary) dict.clear();
    }

    // The validity bitmap exists only once the batch has a NULL in this
    // column; until then every row is present and nothing is recorded.
    void mark(bool present) {
        if (has_null || !present) mark_with_bitmap(present);
    }
    void mark_with_bitmap(bool present) {
        if (!has_null) {
            validity.assign(rows / 8 + 1, 0);
            std::memset(validity.data(), 0xff, rows / 8);
            for (std::size_t i = rows & ~std::size_t{7}; i < rows; ++i)
                validity[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
            has_null = true;
        }
        if (validity.size() * 8 <= rows) validity.push_back(0);
        if (present) validity[rows >> 3] |= static_cast<std::uint8_t>(1u << (rows & 7));
    }
    void append_fixed(const void* p, std::size_t w) {
        auto* out = values.prepare(w).data();
        // The widths there are, as constants: each copy inlines.
        switch (w) {
        case 1: std::memcpy(out, p, 1); break;
        case 2: std::memcpy(out, p, 2); break;
        case 4: std::memcpy(out, p, 4); break;
        case 8: std::memcpy(out, p, 8); break;
        case 16: std::memcpy(out, p, 16); break;
        case 32: std::memcpy(out, p, 32); break;
        default: std::memcpy(out, p, w); break;
        }
        values.commit(w);
    }
    // Boolean columns: one bit per row, LSB first.
    void append_bit(bool v) {
        if (values.size() * 8 <= rows) {
            const std::byte zero{};
            values.append(&zero, 1);
        }
        if (v) values.data()[rows >> 3] |= static_cast<std::byte>(1u << (rows & 7));
    }
    void append_null() {
        mark(false);
        switch (type) {
        case type::boolean: append_bit(false); break;
        case type::geohash: {
            const std::uint64_t z = 0;
            append_fixed(&z, 8);
            break;
        }
        case type::symbol: codes.push_back(0); break;
        case type::varchar: case type::binary: case type::double_array: case type::long_array:
            offsets.push_back(offsets.back());
            break;
        default: {
            const std::size_t w = fixed_width(type);
            std::memset(values.prepare(w).data(), 0, w);
            values.commit(w);
            break;
        }
        }
        ++rows;
    }
    column_view view() const {
        column_view v;
        v.name = name;
        v.type = type;
        v.rows = rows;
        v.validity = has_null ? validity.data() : nullptr;
        v.values = type == type::symbol ? static_cast<const void*>(codes.data()) : values.data().data();
        v.offsets = offsets.data();
        v.offsets64 = true;
        v.bytes = bytes.data();
        v.scale = scale;
        v.geohash_bits = geohash_bits;
        if (type == type::symbol) {
            dict_views.resize(dict.size());
            for (std::size_t i = 0; i < dict.size(); ++i) dict_views[i] = dict.at(i);
            v.dict = dict_views;
            v.code_width = 4;
        }
        return v;
    }
};

struct row_buffer::table_store {
    std::string name;
    std::size_t rows = 0;
    std::vector<std::unique_ptr<column_store>> columns;
    // Column names numbered in creation order: an id is the column's place.
    symbol_dict index{max_columns};
    std::size_t hint = 0;  // where the next column of a row most likely is

    // Out of line: the per-row lookup stays small.
    [[gnu::noinline]] column_store* add_column(std::string_view name, qwp::type t) {
        (void)index.intern(name);  // cannot fail: callers check max_columns first
        auto fresh = std::make_unique<column_store>();
        fresh->name = std::string(name);
        fresh->type = t;
        columns.push_back(std::move(fresh));
        return columns.back().get();
    }
};

row_buffer::row_buffer() = default;
row_buffer::~row_buffer() = default;
row_buffer::row_buffer(row_buffer&&) noexcept = default;
row_buffer& row_buffer::operator=(row_buffer&&) noexcept = default;

row_buffer::row row_buffer::table(std::string_view name) {
    for (auto& t : tables_)
        if (t->name == name) return row(*this, *t);
    if ((name.empty() || !valid_name(name)) && !error_) error_ = qwire::error(errc::bad_name, "table '" + std::string(name) + "'");
    auto t = std::make_unique<table_store>();
    t->name = std::string(name);
    tables_.push_back(std::move(t));
    return row(*this, *tables_.back());
}

std::size_t row_buffer::row_count() const noexcept {
    std::size_t n = 0;
    for (const auto& t : tables_) n += t->rows;
    return n;
}

void row_buffer::clear() {
    // Tables and columns stay (with their capacity), emptied: a steady
    // stream of rows allocates nothing after its first batch.
    for (auto& t : tables_) {
        t->rows = 0;
        t->hint = 0;
        for (auto& c : t->columns) c->reset();
    }
    error_ = {};
}

std::vector<chunk> row_buffer::chunks() const {
    std::vector<chunk> out;
    if (error_) return out;
    for (const auto& t : tables_) {
        if (t->rows == 0) continue;
        chunk c(t->name, t->rows);
        for (const auto& col : t->columns)
            if (col->used) c.add(col->view());
        out.push_back(std::move(c));
    }
    return out;
}

result<void> row_buffer::encode(message_builder& b) const {
    if (error_) return error_;
    for (const auto& c : chunks())
        if (auto r = qwp::encode(b, c); !r) return r;
    return {};
}

void row_buffer::row::fail(std::string_view column, errc e, std::string_view why) {
    if (b_->error_) return;
    std::string what = "table '" + t_->name + "', column '" + std::string(column) + "'";
    if (!why.empty()) what.append(": ").append(why);
    b_->error_ = qwire::error(e, what);
}

row_buffer::column_store* row_buffer::row::col(std::string_view name, qwp::type t) {
    if (b_->error_) return nullptr;
    auto fail = [&](errc e, std::string_view why = {}) -> column_store* {
        this->fail(name, e, why);
        return nullptr;
    };
    auto& cols = t_->columns;
    column_store* c = nullptr;
    // Rows name their columns in the same order, row after row: try the
    // column after the last one first.
    std::size_t at = t_->hint < cols.size() && same_text(cols[t_->hint]->name, name) ? t_->hint : cols.size();
    if (at == cols.size()) {
        if (auto id = t_->index.find(name)) at = *id;
    }
    if (at < cols.size()) {
        c = cols[at].get();
    } else {
        if (!valid_name(name) || (name.empty() && !is_timestamp(t))) return fail(errc::bad_name);
        if (cols.size() >= max_columns) return fail(errc::too_many_columns, "over 2048 columns");
        c = t_->add_column(name, t);
    }
    t_->hint = at + 1;
    if (!c->used) {
        // First named in this batch: it takes this call's type (a batch may
        // send a column with another type than the last; the server
        // decides), and NULL for the rows before.
        if (c->type != t) {
            c->type = t;
            c->dict.clear();
        }
        c->used = true;
        for (std::size_t i = 0; i < t_->rows; ++i) c->append_null();
    }
    if (c->type != t)
        return fail(errc::bad_column, std::string(type_name(t)) + " value for a " + std::string(type_name(c->type)) + " column");
    if (c->rows != t_->rows) return fail(errc::bad_column, "set twice in one row");
    return c;
}

row_buffer::row& row_buffer::row::symbol(std::string_view name, std::string_view v) {
    if (auto* c = col(name, type::symbol)) {
        auto code = c->dict.intern(v);
        if (!code) {
            b_->error_ = code.error();
            return *this;
        }
        c->codes.push_back(static_cast<std::int32_t>(*code));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, bool v) {
    if (auto* c = col(name, type::boolean)) {
        c->append_bit(v);
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, std::int64_t v) { return typed(name, type::long_, &v); }
row_buffer::row& row_buffer::row::column(std::string_view name, double v) { return typed(name, type::double_, &v); }

row_buffer::row& row_buffer::row::typed(std::string_view name, qwp::type t, const void* value, std::uint8_t scale) {
    if (fixed_width(t) == 0) {
        fail(name, errc::bad_type, std::string(type_name(t)) + " is not a fixed-width type");
        return *this;
    }
    if (auto* c = col(name, t)) {
        if (is_decimal(t)) {
            if (c->rows > 0 && c->scale != scale && !c->has_null) {
                fail(name, errc::bad_column, "scale " + std::to_string(scale) + " where the column has " + std::to_string(c->scale));
                return *this;
            }
            c->scale = scale;
        }
        c->append_fixed(value, fixed_width(t));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::column(std::string_view name, std::string_view v) {
    if (auto* c = col(name, type::varchar)) {
        const auto* p = reinterpret_cast<const std::byte*>(v.data());
        c->bytes.insert(c->bytes.end(), p, p + v.size());
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::binary(std::string_view name, std::span<const std::byte> v) {
    if (auto* c = col(name, type::binary)) {
        c->bytes.insert(c->bytes.end(), v.begin(), v.end());
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::geohash(std::string_view name, std::uint64_t v, std::uint8_t bits) {
    if (bits < 1 || bits > 60) {
        fail(name, errc::bad_column, "geohash bits " + std::to_string(bits) + " not in 1..60");
        return *this;
    }
    if (auto* c = col(name, type::geohash)) {
        if (c->geohash_bits && c->geohash_bits != bits) {
            fail(name, errc::bad_column, std::to_string(bits) + " geohash bits where the column has " + std::to_string(c->geohash_bits));
            return *this;
        }
        c->geohash_bits = bits;
        c->append_fixed(&v, 8);
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

namespace {
template <class T>
bool array_ok(std::span<const std::uint32_t> dims, std::span<const T> v) {
    if (dims.empty() || dims.size() > 32) return false;
    std::uint64_t n = 1;
    for (std::uint32_t d : dims) {
        if (d > 0x7FFFFFFFu) return false;
        n *= d;
        if (n > (1u << 28)) return false;
    }
    return n == v.size();
}
}  // namespace

row_buffer::row& row_buffer::row::array(std::string_view name, std::span<const std::uint32_t> dims, std::span<const double> v) {
    if (!array_ok(dims, v)) {
        fail(name, errc::bad_column, "array dimensions do not match its values");
        return *this;
    }
    if (auto* c = col(name, type::double_array)) {
        encode_array(c->bytes, dims, v);
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::array(std::string_view name, std::span<const std::uint32_t> dims,
                                std::span<const std::int64_t> v) {
    if (!array_ok(dims, v)) {
        fail(name, errc::bad_column, "array dimensions do not match its values");
        return *this;
    }
    if (auto* c = col(name, type::long_array)) {
        encode_array(c->bytes, dims, v);
        c->offsets.push_back(static_cast<std::int64_t>(c->bytes.size()));
        c->mark(true);
        ++c->rows;
    }
    return *this;
}

row_buffer::row& row_buffer::row::null(std::string_view name, qwp::type t) {
    if (auto* c = col(name, t)) c->append_null();
    return *this;
}

void row_buffer::row::at(std::int64_t ts, qwp::type t) {
    if (!is_timestamp(t)) {
        fail("", errc::bad_type, "the designated timestamp must be TIMESTAMP or TIMESTAMP_NANOS");
        return;
    }
    typed("", t, &ts);
    at_now();
}

void row_buffer::row::at_now() {
    if (b_->error_) return;
    for (auto& c : t_->columns)
        if (c->used && c->rows == t_->rows) c->append_null();
    ++t_->rows;
    t_->hint = 0;
}

}  // namespace qwire::qwp
