// The K object model: every value a q process sends over IPC.
//
// A `k` is a shared handle to an immutable-by-convention node (like a K
// pointer with its reference count): copying a k is cheap and shares the
// data. Simple vectors are contiguous typed arrays; get_*_list() views them
// without copying. Accessors of the wrong type return kdb::errc::type_mismatch,
// never crash.
//
//     auto t = new_table({"sym", "price"}, {new_symbol_list({"a", "b"}), new_float_list({1.5, 2.5})});
//     auto prices = t.column("price").value().get_float_list().value();  // std::span<const double>
//
// to_string (the q console's text of a value) is in display.hpp.
#pragma once

#include <qwire/core/error.hpp>
#include <qwire/core/frame_allocator.hpp>
#include <qwire/proto/kdb/error.hpp>
#include <qwire/proto/kdb/types.hpp>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qwire::kdb {

class k;

namespace detail {

// An allocator whose resize() leaves new bytes uninitialised: decoding
// overwrites them at once, and zero-filling first would cost a second pass.
// Small vectors come from the per-thread block pool (core/frame_allocator.hpp).
template <class T>
struct uninitialized_allocator : qwire::detail::pool_allocator<T> {
    template <class U>
    struct rebind {
        using other = uninitialized_allocator<U>;
    };
    uninitialized_allocator() = default;
    template <class U>
    uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <class T>
using raw_vector = std::vector<T, uninitialized_allocator<T>>;

// The items of a general list (and of dicts, tables, functions), from the
// per-thread block pool.
using k_vector = std::vector<k, qwire::detail::pool_allocator<k>>;

struct node {
    type_t t = qtype::unary_primitive;  // (::) by default
    std::uint8_t attribute = 0;
    std::uint8_t opcode = 0;            // primitives 101..103
    union {
        std::uint8_t b;
        std::int16_t h;
        std::int32_t i;
        std::int64_t j;
        float e;
        double f;
        guid g;
    } v{};
    std::string s;                      // symbol atom, error text, lambda context
    std::size_t n = 0;                  // items of a simple vector
    raw_vector<std::byte> data;         // simple vector items; symbol vectors: names, each NUL-terminated
    raw_vector<std::size_t> offsets;    // symbol vectors: where each name starts in data
    k_vector items;                     // general list; dict keys+values; table {names, columns}; function parts
};

// A general list over items already in a k_vector.
k list_of(k_vector items);

// A new node, from the per-thread block pool.
std::shared_ptr<node> new_node();

}  // namespace detail

// Random access to the names of a symbol vector, as string_views into it.
class symbol_view {
public:
    symbol_view(const detail::node* n) noexcept : n_(n) {}
    std::size_t size() const noexcept { return n_->n; }
    std::string_view operator[](std::size_t i) const noexcept {
        const std::size_t start = n_->offsets[i];
        const std::size_t end = i + 1 < n_->n ? n_->offsets[i + 1] - 1 : n_->data.size() - 1;
        return {reinterpret_cast<const char*>(n_->data.data()) + start, end - start};
    }
    struct iterator {
        const detail::node* n;
        std::size_t i;
        std::string_view operator*() const noexcept { return symbol_view(n)[i]; }
        iterator& operator++() noexcept {
            ++i;
            return *this;
        }
        bool operator==(const iterator& o) const noexcept { return i == o.i; }
    };
    iterator begin() const noexcept { return {n_, 0}; }
    iterator end() const noexcept { return {n_, size()}; }

private:
    const detail::node* n_;
};

class k {
public:
    // The generic null (::).
    k();
    explicit k(std::shared_ptr<detail::node> n) noexcept : n_(std::move(n)) {}

    type_t type() const noexcept { return n_->t; }
    kdb::attr attribute() const noexcept { return static_cast<kdb::attr>(n_->attribute); }
    k& set_attribute(kdb::attr a) noexcept {
        n_->attribute = static_cast<std::uint8_t>(a);
        return *this;
    }

    bool is_atom() const noexcept { return kdb::is_atom(type()); }
    bool is_vector() const noexcept { return is_simple_vector(type()); }
    bool is_list() const noexcept { return type() == qtype::list; }
    bool is_dict() const noexcept { return type() == qtype::dict || type() == qtype::sorted_dict; }
    bool is_table() const noexcept { return type() == qtype::table; }
    bool is_keyed_table() const noexcept;
    bool is_error() const noexcept { return type() == qtype::error; }
    bool is_function() const noexcept { return kdb::is_function(type()) && !is_generic_null(); }
    bool is_generic_null() const noexcept { return type() == qtype::unary_primitive && n_->opcode == 0; }

    // Items of a vector or list, keys of a dict, rows of a table; 1 for an atom.
    std::size_t count() const noexcept;

    // Atoms. get_long() also reads timestamps and timespans, get_int() months,
    // dates, minutes, seconds and times, get_float() datetimes: the raw kdb+
    // value (see the chrono conversions below).
    result<bool> get_bool() const;
    result<kdb::guid> get_guid() const;
    result<std::uint8_t> get_byte() const;
    result<std::int16_t> get_short() const;
    result<std::int32_t> get_int() const;
    result<std::int64_t> get_long() const;
    result<float> get_real() const;
    result<double> get_float() const;
    result<char> get_char() const;
    result<std::string_view> get_symbol() const;
    std::string_view error_text() const noexcept { return n_->s; }

    // Vectors, viewed in place. Temporal vectors view as their raw type.
    result<std::span<const std::uint8_t>> get_bool_list() const { return view<std::uint8_t>({qtype::boolean}); }
    result<std::span<const kdb::guid>> get_guid_list() const { return view<kdb::guid>({qtype::guid}); }
    result<std::span<const std::uint8_t>> get_byte_list() const { return view<std::uint8_t>({qtype::byte}); }
    result<std::span<const std::int16_t>> get_short_list() const { return view<std::int16_t>({qtype::short_}); }
    result<std::span<const std::int32_t>> get_int_list() const {
        return view<std::int32_t>({qtype::int_, qtype::month, qtype::date, qtype::minute, qtype::second, qtype::time});
    }
    result<std::span<const std::int64_t>> get_long_list() const {
        return view<std::int64_t>({qtype::long_, qtype::timestamp, qtype::timespan});
    }
    result<std::span<const float>> get_real_list() const { return view<float>({qtype::real}); }
    result<std::span<const double>> get_float_list() const { return view<double>({qtype::float_, qtype::datetime}); }
    result<std::string_view> get_string() const;  // a char vector
    result<symbol_view> get_symbol_list() const;

    // Writable view of a simple vector's items, for filling one in place.
    template <class T>
    std::span<T> data() noexcept {
        return {reinterpret_cast<T*>(n_->data.data()), n_->data.size() / sizeof(T)};
    }

    // General lists, dictionaries, tables.
    std::span<const k> items() const noexcept { return n_->items; }
    result<k> item(std::size_t i) const;  // list item, or a vector item as an atom
    result<k> keys() const;               // dict keys (for a keyed table: the key table)
    result<k> values() const;             // dict values (for a keyed table: the value table)
    result<k> column_names() const;       // table: symbol vector
    result<k> columns() const;            // table: general list of columns
    result<k> column(std::string_view name) const;

    // Appending to a general list, or to a simple vector an atom of its type.
    result<void> push_back(const k& item);

    // The same bytes on the wire (deep comparison through the encoder).
    friend bool operator==(const k& a, const k& b);

    const detail::node& node() const noexcept { return *n_; }
    detail::node& node() noexcept { return *n_; }

private:
    template <class T>
    result<std::span<const T>> view(std::initializer_list<type_t> allowed) const {
        for (type_t t : allowed)
            if (type() == t)
                return std::span<const T>(reinterpret_cast<const T*>(n_->data.data()), n_->n);
        return errc::type_mismatch;
    }
    result<std::int64_t> atom_integer(std::initializer_list<type_t> allowed) const;

    std::shared_ptr<detail::node> n_;
};

// ---- builders ----

k new_null();  // (::)
k new_bool(bool v);
k new_guid(const guid& v);
k new_byte(std::uint8_t v);
k new_short(std::int16_t v);
k new_int(std::int32_t v);
k new_long(std::int64_t v);
k new_real(float v);
k new_float(double v);
k new_char(char v);
k new_symbol(std::string_view v);
k new_error(std::string_view text);
// Temporal atoms from their raw kdb+ values (ns since 2000.01.01, months
// since 2000.01, days since 2000.01.01, fractional days, ns, minutes,
// seconds, milliseconds).
k new_timestamp(std::int64_t ns_since_2000);
k new_month(std::int32_t months_since_2000);
k new_date(std::int32_t days_since_2000);
k new_datetime(double days_since_2000);
k new_timespan(std::int64_t ns);
k new_minute(std::int32_t minutes);
k new_second(std::int32_t seconds);
k new_time(std::int32_t ms);

// A simple vector of type t with n zeroed items (symbols: n empty names).
k new_vector(type_t t, std::size_t n);
k new_string(std::string_view chars);  // a char vector
k new_bool_list(std::span<const bool> v);
k new_byte_list(std::span<const std::uint8_t> v);
k new_short_list(std::span<const std::int16_t> v);
k new_int_list(std::span<const std::int32_t> v);
k new_long_list(std::span<const std::int64_t> v);
k new_real_list(std::span<const float> v);
k new_float_list(std::span<const double> v);
k new_guid_list(std::span<const guid> v);
k new_symbol_list(std::span<const std::string_view> names);
k new_symbol_list(std::initializer_list<std::string_view> names);
k new_symbol_list(const std::vector<std::string>& names);
// A vector of temporal type t (timestamp, timespan: int64; month, date,
// minute, second, time: int32) from raw values.
k new_temporal_list(type_t t, std::span<const std::int64_t> raw);
k new_long_list(std::initializer_list<std::int64_t> v);
k new_int_list(std::initializer_list<std::int32_t> v);
k new_float_list(std::initializer_list<double> v);

k new_list(std::vector<k> items = {});  // general list
// q's enlist: a one-item vector of an atom's type, or a one-item general
// list holding anything else.
k enlist(const k& x);
// q's x@rows: the items (of a vector or list) or rows (of a table) at
// those indexes, in that order; attributes are dropped.
result<k> take(const k& x, std::span<const std::size_t> rows);
// q's a,b for two vectors of one type, two lists, or two tables with the
// same columns; a vector and a list of another type give a general list.
result<k> join(const k& a, const k& b);
template <class... K>
k new_list_of(K&&... items) {
    detail::k_vector v;
    v.reserve(sizeof...(K));
    (v.push_back(k(std::forward<K>(items))), ...);
    return detail::list_of(std::move(v));
}
result<k> new_dict(k keys, k values, bool sorted = false);
result<k> new_table(k column_names, k columns);  // names: symbol vector; columns: general list
// What new_table checks: a symbol vector of names, a general list of as
// many columns, each a vector or general list, all of one length.
result<void> check_table(const k& column_names, const k& columns);
result<k> new_table(std::initializer_list<std::string_view> names, std::vector<k> columns);
result<k> new_keyed_table(k key_table, k value_table);

// Functions kept as opaque values (they round-trip byte-exact).
k new_lambda(std::string_view context, std::string_view source);
k new_primitive(type_t t, std::uint8_t opcode);  // 101..103
k new_function(type_t t, std::vector<k> parts); // 104..112

// ---- std::chrono ----

using timestamp_t = std::chrono::sys_time<std::chrono::nanoseconds>;

inline std::int64_t to_kdb_timestamp(timestamp_t t) noexcept {
    return t.time_since_epoch().count() - epoch_offset_ns;
}
inline timestamp_t from_kdb_timestamp(std::int64_t ns) noexcept {
    return timestamp_t(std::chrono::nanoseconds(ns + epoch_offset_ns));
}
inline std::int32_t to_kdb_date(std::chrono::sys_days d) noexcept {
    return static_cast<std::int32_t>(d.time_since_epoch().count() - epoch_offset_days);
}
inline std::chrono::sys_days from_kdb_date(std::int32_t days) noexcept {
    return std::chrono::sys_days(std::chrono::days(days + epoch_offset_days));
}
inline std::int32_t to_kdb_month(std::chrono::year_month ym) noexcept {
    return (static_cast<int>(ym.year()) - 2000) * 12 + static_cast<int>(static_cast<unsigned>(ym.month())) - 1;
}
inline std::chrono::year_month from_kdb_month(std::int32_t m) noexcept {
    const std::int64_t total = std::int64_t{m} + 2000 * 12;  // 64 bits: m may be near INT_MAX
    const std::int64_t y = total >= 0 ? total / 12 : (total - 11) / 12;
    return std::chrono::year(static_cast<int>(y)) / std::chrono::month(static_cast<unsigned>(total - y * 12 + 1));
}
inline double to_kdb_datetime(std::chrono::sys_time<std::chrono::milliseconds> t) noexcept {
    return static_cast<double>(t.time_since_epoch().count() - epoch_offset_days * 86'400'000) / 86'400'000.0;
}
inline std::chrono::sys_time<std::chrono::milliseconds> from_kdb_datetime(double days) noexcept {
    const auto ms = static_cast<std::int64_t>(days * 86'400'000.0 + (days >= 0 ? 0.5 : -0.5));
    return std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms + epoch_offset_days * 86'400'000));
}

inline k new_timestamp(timestamp_t t) { return new_timestamp(to_kdb_timestamp(t)); }
inline k new_date(std::chrono::sys_days d) { return new_date(to_kdb_date(d)); }
inline k new_month(std::chrono::year_month m) { return new_month(to_kdb_month(m)); }
inline k new_timespan(std::chrono::nanoseconds d) { return new_timespan(static_cast<std::int64_t>(d.count())); }
inline k new_minute(std::chrono::minutes d) { return new_minute(static_cast<std::int32_t>(d.count())); }
inline k new_second(std::chrono::seconds d) { return new_second(static_cast<std::int32_t>(d.count())); }
inline k new_time(std::chrono::milliseconds d) { return new_time(static_cast<std::int32_t>(d.count())); }

}  // namespace qwire::kdb
