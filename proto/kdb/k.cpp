#include <qwire/proto/kdb/k.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::kdb {

std::shared_ptr<detail::node> detail::new_node() {
    return std::allocate_shared<node>(qwire::detail::pool_allocator<node>());
}

namespace {

std::shared_ptr<detail::node> make(type_t t) {
    auto n = detail::new_node();
    n->t = t;
    return n;
}

template <class T>
k vector_from(type_t t, std::span<const T> v) {
    auto n = make(t);
    n->n = v.size();
    n->data.resize(v.size_bytes());
    if (!v.empty()) std::memcpy(n->data.data(), v.data(), v.size_bytes());
    return k(std::move(n));
}

}  // namespace

k::k() : n_(make(qtype::unary_primitive)) {}

bool k::is_keyed_table() const noexcept {
    return is_dict() && n_->items.size() == 2 && n_->items[0].is_table() && n_->items[1].is_table();
}

std::size_t k::count() const noexcept {
    const type_t t = type();
    if (is_simple_vector(t)) return n_->n;
    if (t == qtype::list) return n_->items.size();
    if (is_dict() && n_->items.size() == 2) return n_->items[0].count();
    if (t == qtype::table && n_->items.size() == 2) {
        const auto& cols = n_->items[1].node().items;
        return cols.empty() ? 0 : cols.front().count();
    }
    return 1;
}

result<std::int64_t> k::atom_integer(std::initializer_list<type_t> allowed) const {
    for (type_t t : allowed) {
        if (type() != t) continue;
        switch (-t) {
            case qtype::short_: return n_->v.h;
            case qtype::int_:
            case qtype::month:
            case qtype::date:
            case qtype::minute:
            case qtype::second:
            case qtype::time: return n_->v.i;
            default: return n_->v.j;
        }
    }
    return errc::type_mismatch;
}

result<bool> k::get_bool() const {
    if (type() != -qtype::boolean) return errc::type_mismatch;
    return n_->v.b != 0;
}
result<guid> k::get_guid() const {
    if (type() != -qtype::guid) return errc::type_mismatch;
    return n_->v.g;
}
result<std::uint8_t> k::get_byte() const {
    if (type() != -qtype::byte) return errc::type_mismatch;
    return n_->v.b;
}
result<std::int16_t> k::get_short() const {
    if (type() != -qtype::short_) return errc::type_mismatch;
    return n_->v.h;
}
result<std::int32_t> k::get_int() const {
    auto v = atom_integer({-qtype::int_, -qtype::month, -qtype::date, -qtype::minute, -qtype::second, -qtype::time});
    if (!v) return v.error();
    return static_cast<std::int32_t>(*v);
}
result<std::int64_t> k::get_long() const { return atom_integer({-qtype::long_, -qtype::timestamp, -qtype::timespan}); }
result<float> k::get_real() const {
    if (type() != -qtype::real) return errc::type_mismatch;
    return n_->v.e;
}
result<double> k::get_float() const {
    if (type() != -qtype::float_ && type() != -qtype::datetime) return errc::type_mismatch;
    return n_->v.f;
}
result<char> k::get_char() const {
    if (type() != -qtype::char_) return errc::type_mismatch;
    return static_cast<char>(n_->v.b);
}
result<std::string_view> k::get_symbol() const {
    if (type() != -qtype::symbol) return errc::type_mismatch;
    return std::string_view(n_->s);
}
result<std::string_view> k::get_string() const {
    if (type() != qtype::char_) return errc::type_mismatch;
    return std::string_view(reinterpret_cast<const char*>(n_->data.data()), n_->n);
}
result<symbol_view> k::get_symbol_list() const {
    if (type() != qtype::symbol) return errc::type_mismatch;
    return symbol_view(n_.get());
}

result<k> k::item(std::size_t i) const {
    if (type() == qtype::list) {
        if (i >= n_->items.size()) return errc::index_out_of_range;
        return n_->items[i];
    }
    if (!is_vector()) return errc::type_mismatch;
    if (i >= n_->n) return errc::index_out_of_range;
    const type_t t = type();
    if (t == qtype::symbol) return new_symbol(symbol_view(n_.get())[i]);
    auto a = make(static_cast<type_t>(-t));
    std::memcpy(&a->v, n_->data.data() + i * item_size(t), item_size(t));
    return k(std::move(a));
}

// Dictionaries and tables always hold two items (the builders and the
// decoder make no others); the checks keep a node filled in by hand through
// node() from becoming an out-of-bounds read.
result<k> k::keys() const {
    if (!is_dict() || n_->items.size() != 2) return errc::type_mismatch;
    return n_->items[0];
}
result<k> k::values() const {
    if (!is_dict() || n_->items.size() != 2) return errc::type_mismatch;
    return n_->items[1];
}
result<k> k::column_names() const {
    if (!is_table() || n_->items.size() != 2) return errc::type_mismatch;
    return n_->items[0];
}
result<k> k::columns() const {
    if (!is_table() || n_->items.size() != 2) return errc::type_mismatch;
    return n_->items[1];
}
result<k> k::column(std::string_view name) const {
    if (is_keyed_table()) {
        if (auto c = n_->items[0].column(name)) return c;
        return n_->items[1].column(name);
    }
    if (!is_table() || n_->items.size() != 2 || n_->items[0].type() != qtype::symbol) return errc::type_mismatch;
    const symbol_view names(&n_->items[0].node());
    const auto& cols = n_->items[1].node().items;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) {
            if (i >= cols.size()) return errc::length_mismatch;
            return cols[i];
        }
    return errc::no_such_column;
}

result<void> k::push_back(const k& x) {
    const type_t t = type();
    if (t == qtype::list) {
        n_->items.push_back(x);
        return {};
    }
    if (!is_simple_vector(t) || x.type() != -t) return errc::type_mismatch;
    if (t == qtype::symbol) {
        n_->offsets.push_back(n_->data.size());
        const auto* p = reinterpret_cast<const std::byte*>(x.n_->s.data());
        n_->data.insert(n_->data.end(), p, p + x.n_->s.size());
        n_->data.push_back(std::byte{0});
    } else {
        const auto* p = reinterpret_cast<const std::byte*>(&x.n_->v);
        n_->data.insert(n_->data.end(), p, p + item_size(t));
    }
    ++n_->n;
    return {};
}

// ---- builders ----

k new_null() { return k(); }

#define QWIRE_KDB_ATOM(fn, ctype, qt, member) \
    k fn(ctype v) {                           \
        auto n = make(qt);                    \
        n->v.member = v;                      \
        return k(std::move(n));               \
    }
QWIRE_KDB_ATOM(new_short, std::int16_t, -qtype::short_, h)
QWIRE_KDB_ATOM(new_int, std::int32_t, -qtype::int_, i)
QWIRE_KDB_ATOM(new_long, std::int64_t, -qtype::long_, j)
QWIRE_KDB_ATOM(new_real, float, -qtype::real, e)
QWIRE_KDB_ATOM(new_float, double, -qtype::float_, f)
QWIRE_KDB_ATOM(new_byte, std::uint8_t, -qtype::byte, b)
QWIRE_KDB_ATOM(new_timestamp, std::int64_t, -qtype::timestamp, j)
QWIRE_KDB_ATOM(new_month, std::int32_t, -qtype::month, i)
QWIRE_KDB_ATOM(new_date, std::int32_t, -qtype::date, i)
QWIRE_KDB_ATOM(new_datetime, double, -qtype::datetime, f)
QWIRE_KDB_ATOM(new_timespan, std::int64_t, -qtype::timespan, j)
QWIRE_KDB_ATOM(new_minute, std::int32_t, -qtype::minute, i)
QWIRE_KDB_ATOM(new_second, std::int32_t, -qtype::second, i)
QWIRE_KDB_ATOM(new_time, std::int32_t, -qtype::time, i)
#undef QWIRE_KDB_ATOM

k new_bool(bool v) {
    auto n = make(-qtype::boolean);
    n->v.b = v ? 1 : 0;
    return k(std::move(n));
}
k new_char(char v) {
    auto n = make(-qtype::char_);
    n->v.b = static_cast<std::uint8_t>(v);
    return k(std::move(n));
}
k new_guid(const guid& v) {
    auto n = make(-qtype::guid);
    n->v.g = v;
    return k(std::move(n));
}
k new_symbol(std::string_view v) {
    auto n = make(-qtype::symbol);
    n->s = std::string(v.substr(0, v.find('\0')));  // a symbol ends at its first NUL
    return k(std::move(n));
}
k new_error(std::string_view text) {
    auto n = make(qtype::error);
    n->s = std::string(text.substr(0, text.find('\0')));
    return k(std::move(n));
}

k new_vector(type_t t, std::size_t count) {
    auto n = make(t);
    n->n = count;
    if (t == qtype::symbol) {
        n->data.assign(count, std::byte{0});
        n->offsets.resize(count);
        for (std::size_t i = 0; i < count; ++i) n->offsets[i] = i;
    } else {
        n->data.assign(count * item_size(t), std::byte{0});  // new_vector promises zeroed items
    }
    return k(std::move(n));
}

k new_string(std::string_view chars) {
    return vector_from(qtype::char_, std::span<const char>(chars.data(), chars.size()));
}
k new_bool_list(std::span<const bool> v) {
    auto x = new_vector(qtype::boolean, v.size());
    auto d = x.data<std::uint8_t>();
    for (std::size_t i = 0; i < v.size(); ++i) d[i] = v[i] ? 1 : 0;
    return x;
}
k new_byte_list(std::span<const std::uint8_t> v) { return vector_from(qtype::byte, v); }
k new_short_list(std::span<const std::int16_t> v) { return vector_from(qtype::short_, v); }
k new_int_list(std::span<const std::int32_t> v) { return vector_from(qtype::int_, v); }
k new_long_list(std::span<const std::int64_t> v) { return vector_from(qtype::long_, v); }
k new_real_list(std::span<const float> v) { return vector_from(qtype::real, v); }
k new_float_list(std::span<const double> v) { return vector_from(qtype::float_, v); }
k new_guid_list(std::span<const guid> v) { return vector_from(qtype::guid, v); }
k new_long_list(std::initializer_list<std::int64_t> v) { return new_long_list(std::span(v.begin(), v.size())); }
k new_int_list(std::initializer_list<std::int32_t> v) { return new_int_list(std::span(v.begin(), v.size())); }
k new_float_list(std::initializer_list<double> v) { return new_float_list(std::span(v.begin(), v.size())); }

k new_symbol_list(std::span<const std::string_view> names) {
    auto n = make(qtype::symbol);
    n->n = names.size();
    n->offsets.reserve(names.size());
    std::size_t bytes = 0;
    for (auto s : names) bytes += s.size() + 1;
    n->data.reserve(bytes);
    for (auto s : names) {
        s = s.substr(0, s.find('\0'));
        n->offsets.push_back(n->data.size());
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        n->data.insert(n->data.end(), p, p + s.size());
        n->data.push_back(std::byte{0});
    }
    return k(std::move(n));
}
k new_symbol_list(std::initializer_list<std::string_view> names) {
    return new_symbol_list(std::span(names.begin(), names.size()));
}
k new_symbol_list(const std::vector<std::string>& names) {
    std::vector<std::string_view> v(names.begin(), names.end());
    return new_symbol_list(std::span<const std::string_view>(v));
}

k new_temporal_list(type_t t, std::span<const std::int64_t> raw) {
    auto x = new_vector(t, raw.size());
    if (item_size(t) == 8) {
        std::memcpy(x.node().data.data(), raw.data(), raw.size_bytes());
    } else {
        auto d = x.data<std::int32_t>();
        for (std::size_t i = 0; i < raw.size(); ++i) d[i] = static_cast<std::int32_t>(raw[i]);
    }
    return x;
}

k detail::list_of(k_vector items) {
    auto n = make(qtype::list);
    n->items = std::move(items);
    return k(std::move(n));
}

k new_list(std::vector<k> items) {
    return detail::list_of(detail::k_vector(std::make_move_iterator(items.begin()), std::make_move_iterator(items.end())));
}

k enlist(const k& x) {
    if (x.type() == -qtype::symbol) return new_symbol_list({x.get_symbol().value()});
    if (!x.is_atom() || x.is_error()) return new_list({x});
    const auto t = static_cast<type_t>(-x.type());
    k v = new_vector(t, 1);
    std::memcpy(v.node().data.data(), &x.node().v, item_size(t));
    return v;
}

result<k> take(const k& x, std::span<const std::size_t> rows) {
    const std::size_t n = x.count();
    for (std::size_t i : rows)
        if (i >= n) return error(errc::index_out_of_range, "take: row " + std::to_string(i) + " of " + std::to_string(n));
    if (x.is_table()) {
        auto names = x.column_names();
        auto cols = x.columns();
        if (!names || !cols) return errc::type_mismatch;
        std::vector<k> out;
        for (const k& c : cols->items()) {
            auto t = take(c, rows);
            if (!t) return t.error();
            out.push_back(std::move(*t));
        }
        return new_table(*names, new_list(std::move(out)));
    }
    if (x.type() == qtype::list) {
        std::vector<k> out;
        for (std::size_t i : rows) out.push_back(x.items()[i]);
        return new_list(std::move(out));
    }
    if (x.type() == qtype::symbol) {
        const auto names = x.get_symbol_list().value();
        std::vector<std::string_view> out;
        for (std::size_t i : rows) out.push_back(names[i]);
        return new_symbol_list(std::span<const std::string_view>(out));
    }
    if (!is_simple_vector(x.type())) return error(errc::type_mismatch, "take: not a vector, list or table (type " + std::to_string(x.type()) + ")");
    const std::size_t size = item_size(x.type());
    k out = new_vector(x.type(), rows.size());
    std::byte* to = out.node().data.data();
    const std::byte* from = x.node().data.data();
    for (std::size_t j = 0; j < rows.size(); ++j) std::memcpy(to + j * size, from + rows[j] * size, size);
    return out;
}

result<k> join(const k& a, const k& b) {
    if (a.is_table() && b.is_table()) {
        auto an = a.column_names(), bn = b.column_names();
        if (!an || !bn || !(*an == *bn)) return error(errc::length_mismatch, "join: the tables have different columns");
        std::vector<k> out;
        for (std::size_t i = 0; i < a.columns()->items().size(); ++i) {
            auto c = join(a.columns()->items()[i], b.columns()->items()[i]);
            if (!c) return c.error();
            out.push_back(std::move(*c));
        }
        return new_table(*an, new_list(std::move(out)));
    }
    if (a.type() == b.type() && a.type() == qtype::symbol) {
        const auto x = a.get_symbol_list().value(), y = b.get_symbol_list().value();
        std::vector<std::string_view> out;
        out.reserve(x.size() + y.size());
        for (std::string_view v : x) out.push_back(v);
        for (std::string_view v : y) out.push_back(v);
        return new_symbol_list(std::span<const std::string_view>(out));
    }
    if (a.type() == b.type() && is_simple_vector(a.type())) {
        const std::size_t size = item_size(a.type());
        k out = new_vector(a.type(), a.count() + b.count());
        if (a.count() > 0) std::memcpy(out.node().data.data(), a.node().data.data(), a.count() * size);
        if (b.count() > 0) std::memcpy(out.node().data.data() + a.count() * size, b.node().data.data(), b.count() * size);
        return out;
    }
    const bool a_items = a.type() == qtype::list || is_simple_vector(a.type());
    const bool b_items = b.type() == qtype::list || is_simple_vector(b.type());
    if (!a_items || !b_items) return error(errc::type_mismatch, "join: not two vectors, lists or tables");
    std::vector<k> out;
    for (const k* x : {&a, &b})
        for (std::size_t i = 0; i < x->count(); ++i) out.push_back(x->item(i).value());
    return new_list(std::move(out));
}

result<k> new_dict(k keys, k values, bool sorted) {
    // A keyed table is a dict of two tables with as many rows each.
    if (keys.count() != values.count()) return errc::length_mismatch;
    auto n = make(sorted ? qtype::sorted_dict : qtype::dict);
    n->items = {std::move(keys), std::move(values)};
    return k(std::move(n));
}

result<void> check_table(const k& column_names, const k& columns) {
    if (column_names.type() != qtype::symbol || columns.type() != qtype::list) return errc::type_mismatch;
    if (column_names.count() != columns.count()) return errc::length_mismatch;
    // Columns are vectors or general lists, all of one length: every reader
    // of a table (column(), to_string, the tickerplant) relies on it.
    const auto& cols = columns.node().items;
    for (const k& c : cols) {
        if (!c.is_vector() && !c.is_list()) return errc::type_mismatch;
        if (c.count() != cols.front().count()) return errc::length_mismatch;
    }
    return {};
}

result<k> new_table(k column_names, k columns) {
    if (auto ok = check_table(column_names, columns); !ok) return ok.error();
    auto n = make(qtype::table);
    n->items = {std::move(column_names), std::move(columns)};
    return k(std::move(n));
}

result<k> new_table(std::initializer_list<std::string_view> names, std::vector<k> columns) {
    return new_table(new_symbol_list(names), new_list(std::move(columns)));
}

result<k> new_keyed_table(k key_table, k value_table) {
    if (!key_table.is_table() || !value_table.is_table()) return errc::type_mismatch;
    if (key_table.count() != value_table.count()) return errc::length_mismatch;
    return new_dict(std::move(key_table), std::move(value_table));
}

k new_lambda(std::string_view context, std::string_view source) {
    auto n = make(qtype::lambda);
    n->s = std::string(context);
    n->items = {new_string(source)};
    return k(std::move(n));
}

k new_primitive(type_t t, std::uint8_t opcode) {
    auto n = make(t);
    n->opcode = opcode;
    return k(std::move(n));
}

k new_function(type_t t, std::vector<k> parts) {
    auto n = make(t);
    n->items.assign(std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
    return k(std::move(n));
}

}  // namespace qwire::kdb
