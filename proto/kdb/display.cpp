// to_string: values as the q console prints them.
#include <qwire/proto/kdb/display.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace qwire::kdb {
namespace {

std::string two(int v) {
    char b[16];
    std::snprintf(b, sizeof b, "%02d", v);
    return b;
}

// Floats print with 7 significant digits (q's default \P 7).
std::string real_text(double v) {
    if (std::isnan(v)) return "0n";
    if (std::isinf(v)) return v > 0 ? "0w" : "-0w";
    char b[32];
    std::snprintf(b, sizeof b, "%.7g", v);
    std::string s = b;
    if (s.find('e') != std::string::npos) {
        // q writes exponents as e+10 / e-05 the same way; keep printf's.
        return s;
    }
    return s;
}

bool looks_integral(const std::string& s) { return s.find_first_of(".en") == std::string::npos && s != "0w" && s != "-0w"; }

std::string date_text(std::int32_t d) {
    using namespace std::chrono;
    const year_month_day ymd{from_kdb_date(d)};
    return std::to_string(static_cast<int>(ymd.year())) + "." + two(static_cast<int>(static_cast<unsigned>(ymd.month()))) +
           "." + two(static_cast<int>(static_cast<unsigned>(ymd.day())));
}

std::string clock_text(std::int64_t ns, int fraction_digits) {
    // hh:mm:ss.fffffffff of a non-negative duration within a day.
    const std::int64_t s = ns / 1'000'000'000, frac = ns % 1'000'000'000;
    std::string out = two(static_cast<int>(s / 3600)) + ":" + two(static_cast<int>(s / 60 % 60)) + ":" + two(static_cast<int>(s % 60));
    if (fraction_digits > 0) {
        char b[16];
        std::snprintf(b, sizeof b, "%09lld", static_cast<long long>(frac));
        out += "." + std::string(b, static_cast<std::size_t>(fraction_digits));
    }
    return out;
}

// "0N", "0W" or "-0W" for an integer null or infinity; empty otherwise.
template <class T>
const char* special(T v) {
    constexpr T null = std::numeric_limits<T>::min(), inf = std::numeric_limits<T>::max();
    if (v == null) return "0N";
    if (v == inf) return "0W";
    if (v == -inf) return "-0W";
    return "";
}

// a = day * b + rest with 0 <= rest < b (b > 0), without forming day * b,
// which overflows for a near the int64 minimum.
struct day_and_rest {
    std::int64_t day, rest;
};
day_and_rest floor_divmod(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b, r = a % b;
    return r < 0 ? day_and_rest{q - 1, r + b} : day_and_rest{q, r};
}

// One item of a simple vector (or an atom) without its type suffix.
std::string item_text(type_t vt, const void* p) {
    auto i16 = [&] { std::int16_t v; std::memcpy(&v, p, 2); return v; };
    auto i32 = [&] { std::int32_t v; std::memcpy(&v, p, 4); return v; };
    auto i64 = [&] { std::int64_t v; std::memcpy(&v, p, 8); return v; };
    switch (vt) {
        case qtype::boolean: return *static_cast<const std::uint8_t*>(p) ? "1" : "0";
        case qtype::guid: {
            const auto* g = static_cast<const std::uint8_t*>(p);
            char b[40];
            std::snprintf(b, sizeof b, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1],
                          g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
            return b;
        }
        case qtype::byte: {
            char b[4];
            std::snprintf(b, sizeof b, "%02x", *static_cast<const std::uint8_t*>(p));
            return b;
        }
        case qtype::short_: {
            const auto v = i16();
            if (*special(v)) return special(v);
            return std::to_string(v);
        }
        case qtype::int_: {
            const auto v = i32();
            if (*special(v)) return special(v);
            return std::to_string(v);
        }
        case qtype::long_: {
            const auto v = i64();
            if (*special(v)) return special(v);
            return std::to_string(v);
        }
        case qtype::real: {
            float v;
            std::memcpy(&v, p, 4);
            return real_text(v);
        }
        case qtype::float_: {
            double v;
            std::memcpy(&v, p, 8);
            return real_text(v);
        }
        case qtype::timestamp: {
            const auto v = i64();
            if (*special(v)) return special(v);
            const auto [day, rest] = floor_divmod(v, 86'400'000'000'000);
            return date_text(static_cast<std::int32_t>(day)) + "D" + clock_text(rest, 9);
        }
        case qtype::month: {
            const auto v = i32();
            if (v == null_int) return "0N";
            const auto ym = from_kdb_month(v);
            return std::to_string(static_cast<int>(ym.year())) + "." + two(static_cast<int>(static_cast<unsigned>(ym.month())));
        }
        case qtype::date: {
            const auto v = i32();
            if (*special(v)) return special(v);
            return date_text(v);
        }
        case qtype::datetime: {
            double v;
            std::memcpy(&v, p, 8);
            if (std::isnan(v)) return "0N";
            if (std::isinf(v)) return v > 0 ? "0w" : "-0w";
            // Past the dates a 32-bit day count holds, the value has no
            // date to show (and ms below would overflow): print it as the
            // infinity on its side.
            if (std::fabs(v) >= 2147483647.0) return v > 0 ? "0w" : "-0w";
            const auto ms = static_cast<std::int64_t>(std::llround(v * 86'400'000.0));
            const auto [day, rest] = floor_divmod(ms, 86'400'000);
            return date_text(static_cast<std::int32_t>(day)) + "T" + clock_text(rest * 1'000'000, 3);
        }
        case qtype::timespan: {
            const auto v = i64();
            if (*special(v)) return special(v);
            const std::int64_t a = v < 0 ? -v : v;
            return std::string(v < 0 ? "-" : "") + std::to_string(a / 86'400'000'000'000) + "D" +
                   clock_text(a % 86'400'000'000'000, 9);
        }
        case qtype::minute:
        case qtype::second:
        case qtype::time: {
            const auto v = i32();
            if (*special(v)) return special(v);
            const std::int64_t a = v < 0 ? -std::int64_t{v} : v;
            std::string sign = v < 0 ? "-" : "";
            if (vt == qtype::minute) return sign + two(static_cast<int>(a / 60)) + ":" + two(static_cast<int>(a % 60));
            if (vt == qtype::second) return sign + clock_text(a * 1'000'000'000, 0);
            return sign + clock_text(a * 1'000'000, 3);
        }
        default: return "?";
    }
}

// The letter q appends to an atom or vector of this type (where it does).
std::string suffix(type_t vt, const std::vector<std::string>& items) {
    switch (vt) {
        case qtype::boolean: return "b";
        case qtype::short_: return "h";
        case qtype::int_: return "i";
        case qtype::real: return "e";
        case qtype::float_: return std::all_of(items.begin(), items.end(), looks_integral) ? "f" : "";
        case qtype::month: return "m";
        case qtype::long_: return "";
        default: break;
    }
    return "";
}

std::string null_suffix_atom(type_t vt, const std::string& s) {
    // Typed nulls and infinities of atoms: 0Nh 0Wi 0Np 0Nd ...
    if (s == "0N" || s == "0W" || s == "-0W") {
        if (vt == qtype::long_) return s;
        return s + type_char(vt);
    }
    if (s == "0n" || s == "0w" || s == "-0w") return vt == qtype::real ? (s == "0n" ? "0Ne" : s == "0w" ? "0We" : "-0We") : s;
    return "";
}

std::string quote(std::string_view chars) {
    std::string out = "\"";
    for (char c : chars) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::string atom_text(const k& x) {
    const type_t vt = static_cast<type_t>(-x.type());
    const auto& n = x.node();
    if (vt == qtype::symbol) return "`" + n.s;
    if (vt == qtype::char_) return quote(std::string(1, static_cast<char>(n.v.b)));
    const std::string s = item_text(vt, &n.v);
    if (auto special = null_suffix_atom(vt, s); !special.empty()) return special;
    if (vt == qtype::byte) return "0x" + s;
    if (vt == qtype::guid) return s;
    return s + suffix(vt, {s});
}

constexpr std::size_t unlimited = static_cast<std::size_t>(-1);

// A vector inline. Past `limit` characters the text stops early (the
// console cuts the line there anyway), so a million items cost no more
// than the few that show.
std::string vector_text(const k& x, std::size_t limit = unlimited) {
    const type_t t = x.type();
    const auto& n = x.node();
    const std::size_t count = n.n;
    std::string prefix = count == 1 ? "," : "";
    if (t == qtype::char_)
        return prefix + quote(std::string_view(reinterpret_cast<const char*>(n.data.data()), std::min(count, limit)));
    if (t == qtype::symbol) {
        if (count == 0) return "`symbol$()";
        std::string out = prefix;
        for (auto s : x.get_symbol_list().value()) {
            out += "`" + std::string(s);
            if (out.size() > limit) break;
        }
        return out;
    }
    static const char* names[] = {"",     "boolean", "guid",  "",     "byte",     "short",    "int",
                                  "long", "real",    "float", "char", "symbol",   "timestamp", "month",
                                  "date", "datetime", "timespan", "minute", "second", "time"};
    if (count == 0) return std::string("`") + names[t] + "$()";
    std::vector<std::string> items;
    std::string out = prefix + (t == qtype::byte ? "0x" : "");
    const char* sep = t == qtype::boolean || t == qtype::byte ? "" : " ";
    for (std::size_t i = 0; i < count; ++i) {
        items.push_back(item_text(t, n.data.data() + i * item_size(t)));
        out += (i ? sep : "") + items.back();
        if (out.size() > limit) return out;
    }
    if (t == qtype::byte) return out;
    const bool all_null = std::all_of(items.begin(), items.end(), [](const std::string& s) { return s == "0N" || s == "0n"; });
    if (all_null && t != qtype::long_ && t != qtype::float_) return out + type_char(t);
    return out + suffix(t, items);
}

std::string inline_text(const k& x, std::size_t limit = unlimited);

// q's prefix for a list's attribute: `s# `u# `p# `g#, or nothing.
std::string attribute_prefix(const k& x) {
    switch (x.attribute()) {
        case attr::sorted: return "`s#";
        case attr::unique: return "`u#";
        case attr::parted: return "`p#";
        case attr::grouped: return "`g#";
        default: return "";
    }
}

std::string list_inline(const k& x, std::size_t limit) {
    const auto& items = x.node().items;
    if (items.empty()) return "()";
    if (items.size() == 1) return "," + inline_text(items[0], limit);
    std::string out = "(";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i ? ";" : "") + inline_text(items[i], limit);
        if (out.size() > limit) return out;
    }
    return out + ")";
}

// The opcodes of kdb+'s primitives (spec 3.7), as q prints them.
const char* unary_name(std::uint8_t op) {
    static const char* names[] = {"::",   "+:",     "-:",  "*:",   "%:",  "&:",   "|:",    "^:",   "=:",     "<:",   ">:",
                                  "$:",   ",:",     "#:",  "_:",   "~:",  "!:",   "?:",    "@:",   ".:",     "0::",  "1::",
                                  "2::",  "avg",    "last", "sum", "prd", "min",  "max",   "exit", "getenv", "abs",  "sqrt",
                                  "log",  "exp",    "sin", "asin", "cos", "acos", "tan",   "atan", "enlist", "var"};
    return op < std::size(names) ? names[op] : nullptr;
}
const char* binary_name(std::uint8_t op) {
    static const char* names[] = {":",  "+",  "-",  "*",      "%",     "&",    "|",    "^",  "=",      "<",    ">",    "$",
                                  ",",  "#",  "_",  "~",      "!",     "?",    "@",    ".",  "0:",     "1:",   "2:",   "in",
                                  "within", "like", "bin", "ss", "insert", "wsum", "wavg", "div", "xexp", "setenv", "binr", "cov",
                                  "cor"};
    return op < std::size(names) ? names[op] : nullptr;
}
const char* iterator_glyph(type_t t) {
    static const char* glyphs[] = {"'", "/", "\\", "':", "/:", "\\:"};
    return t >= qtype::each && t <= qtype::each_left ? glyphs[t - qtype::each] : nullptr;
}

std::string function_text(const k& x) {
    const auto& n = x.node();
    const auto op_text = [](const char* name, std::uint8_t op) {
        return name ? std::string(name) : "<primitive " + std::to_string(op) + ">";
    };
    switch (n.t) {
        case qtype::lambda: {
            auto src = n.items.empty() ? result<std::string_view>(errc::type_mismatch) : n.items[0].get_string();
            return src ? std::string(*src) : "<lambda>";
        }
        case qtype::unary_primitive: return op_text(unary_name(n.opcode), n.opcode);
        case qtype::binary_primitive: return op_text(binary_name(n.opcode), n.opcode);
        case qtype::iterator: return op_text(n.opcode < 6 ? iterator_glyph(static_cast<type_t>(qtype::each + n.opcode)) : nullptr, n.opcode);
        case qtype::projection: {
            // {x+y}[3], {x+y+z}[;2;]: the function, then its arguments,
            // elided ones (the unary opcode 0xff) left empty.
            if (n.items.empty()) return "<projection>";
            std::string out = inline_text(n.items[0]) + "[";
            for (std::size_t i = 1; i < n.items.size(); ++i) {
                const k& a = n.items[i];
                const bool elided = a.type() == qtype::unary_primitive && a.node().opcode == 0xff;
                out += (i > 1 ? ";" : "") + (elided ? std::string() : inline_text(a));
            }
            return out + "]";
        }
        case qtype::composition: {
            std::string out = "'[";
            for (std::size_t i = 0; i < n.items.size(); ++i) out += (i ? ";" : "") + inline_text(n.items[i]);
            return out + "]";
        }
        default:
            if (auto glyph = iterator_glyph(n.t); glyph && n.items.size() == 1) return inline_text(n.items[0]) + glyph;
            return "<function>";
    }
}

std::string inline_text(const k& x, std::size_t limit) {
    const type_t t = x.type();
    if (x.is_generic_null()) return "::";
    if (x.is_atom()) return atom_text(x);
    if (x.is_vector()) return attribute_prefix(x) + vector_text(x, limit);
    if (t == qtype::list) return attribute_prefix(x) + list_inline(x, limit);
    if (t == qtype::error) return "'" + std::string(x.error_text());
    if (x.is_function()) return function_text(x);
    // A dictionary's keys go in parentheses where q needs them to read the
    // text back: an atom, a one-item list (,`a), a table.
    const auto key_text = [limit](const k& keys, bool sorted_outside) {
        std::string s = inline_text(keys, limit);
        const bool own_sorted = sorted_outside && keys.attribute() == attr::sorted;
        if (own_sorted) s.erase(0, 3);  // the `s# the caller writes
        const bool bare = (keys.is_vector() || keys.is_list()) && keys.count() != 1 && (own_sorted || keys.attribute() == attr::none);
        return bare ? s : "(" + s + ")";
    };
    if (x.is_dict()) {
        auto keys = x.keys();
        auto values = x.values();
        if (!keys || !values) return "?";
        // `s#`a`b!1 2: a sorted dictionary's attribute is written once, outside.
        if (t == qtype::sorted_dict) return "`s#" + key_text(*keys, true) + "!" + inline_text(*values, limit);
        return key_text(*keys, false) + "!" + inline_text(*values, limit);
    }
    if (x.is_table()) {
        auto names = x.column_names();
        auto cols = x.columns();
        if (!names || !cols) return "?";
        return "+" + key_text(*names, false) + "!" + inline_text(*cols, limit);
    }
    return "?";
}

// The first `rows` cells of one column, as a table shows them: bare
// values (no type suffix, no backtick, no quotes around chars).
std::vector<std::string> cells(const k& col, std::size_t rows, std::size_t limit) {
    std::vector<std::string> out;
    const type_t t = col.type();
    rows = std::min(rows, col.count());
    out.reserve(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        if (col.is_vector() && t != qtype::byte && t != qtype::guid && t != qtype::symbol && t != qtype::char_) {
            out.push_back(item_text(t, col.node().data.data() + i * item_size(t)));
            continue;
        }
        auto item = *col.item(i);  // the caller checked that col is a vector or list of its table's length
        if (t == qtype::symbol) out.emplace_back(item.get_symbol().value());
        else if (t == qtype::char_) out.emplace_back(1, item.get_char().value());
        else if (t == qtype::list && item.type() == qtype::char_) out.emplace_back(item.get_string().value().substr(0, limit));
        else out.push_back(item.is_atom() ? atom_text(item) : inline_text(item, limit));
    }
    return out;
}

std::string pad(std::string s, std::size_t w) {
    s.resize(std::max(s.size(), w), ' ');
    return s;
}

// A table as the console shows it: every column (the last included) padded
// to its width, the dash rule under the full width, a keyed table's key
// columns before "| ". Only the first max_rows rows are laid out.
std::string table_text(const k& names_k, const k& cols_k, std::size_t key_columns, std::size_t max_rows, std::size_t limit) {
    // Tables from the decoder and the builders pass new_table's checks; one
    // filled in by hand through node() may not.
    if (!check_table(names_k, cols_k)) return "?";
    const auto names = *names_k.get_symbol_list();
    const auto& cols = cols_k.node().items;
    const std::size_t rows = std::min(max_rows, cols.empty() ? std::size_t{0} : cols[0].count());
    std::vector<std::vector<std::string>> text;
    std::vector<std::size_t> width;
    for (std::size_t c = 0; c < cols.size(); ++c) {
        text.push_back(cells(cols[c], rows, limit));
        std::size_t w = names[c].size();
        for (auto& s : text.back()) w = std::max(w, s.size());
        width.push_back(w);
    }
    auto line = [&](auto cell) {
        std::string out;
        for (std::size_t c = 0; c < cols.size(); ++c) {
            out += pad(cell(c), width[c]);
            if (c + 1 < cols.size()) out += (key_columns && c + 1 == key_columns) ? "| " : " ";
        }
        return out + "\n";
    };
    std::string out = line([&](std::size_t c) { return std::string(names[c]); });
    // The rule under the header: dashes, keeping a keyed table's "| ".
    std::string rule = out.substr(0, out.size() - 1);
    for (std::size_t i = 0; i < rule.size(); ++i)
        if (rule[i] != '|' && !(i > 0 && rule[i - 1] == '|')) rule[i] = '-';
    out += rule + "\n";
    for (std::size_t r = 0; r < rows; ++r) out += line([&](std::size_t c) { return text[c][r]; });
    return out;
}

// x as the console lays it out, at most about max_lines lines (one more
// than fit, so the caller knows there were more), lines cut past limit.
std::string layout(const k& x, std::size_t max_lines, std::size_t limit) {
    if (x.is_table()) {
        auto names = x.column_names();
        auto cols = x.columns();
        if (!names || !cols) return "?";
        return table_text(*names, *cols, 0, max_lines, limit);
    }
    if (x.is_keyed_table()) {
        const k kt = *x.keys(), vt = *x.values();  // is_keyed_table: two tables
        auto kn = kt.column_names(), vn = vt.column_names();
        auto kc = kt.columns(), vc = vt.columns();
        if (!kn || !vn || !kc || !vc || kn->type() != qtype::symbol || vn->type() != qtype::symbol) return "?";
        std::vector<std::string> names;
        for (auto s : *kn->get_symbol_list()) names.emplace_back(s);
        for (auto s : *vn->get_symbol_list()) names.emplace_back(s);
        std::vector<k> cols(kc->items().begin(), kc->items().end());
        cols.insert(cols.end(), vc->items().begin(), vc->items().end());
        return table_text(new_symbol_list(names), new_list(cols), kc->count(), max_lines, limit);
    }
    if (x.is_dict()) {
        const auto keys = x.keys(), values = x.values();
        if (!keys || !values) return "?";
        // Keys and values q can index item by item print as `key| value`
        // lines; anything else (an atom key: `a!1) prints inline.
        const bool rows = (keys->is_vector() || keys->is_list()) && (values->is_vector() || values->is_list());
        if (!rows) return inline_text(x, limit);
        std::vector<std::string> ks, vs;
        const std::size_t n = std::min(keys->count(), max_lines);
        for (std::size_t i = 0; i < n; ++i) {
            auto key = keys->item(i);
            auto value = values->item(i);
            if (!key || !value) return inline_text(x, limit);
            ks.push_back(key->type() == -qtype::symbol ? std::string(key->get_symbol().value()) : inline_text(*key, limit));
            vs.push_back(inline_text(*value, limit));
        }
        std::size_t w = 0;
        for (auto& s : ks) w = std::max(w, s.size());
        std::string out;
        for (std::size_t i = 0; i < ks.size(); ++i) out += pad(ks[i], w) + "| " + vs[i] + "\n";
        return out;
    }
    if (x.is_list() && !x.items().empty() && x.count() > 1) {
        std::string out;
        const std::size_t n = std::min(x.count(), max_lines);
        for (std::size_t i = 0; i < n; ++i) out += inline_text(x.items()[i], limit) + "\n";
        return out;
    }
    return inline_text(x, limit);
}

}  // namespace

std::string to_string(const k& x) { return layout(x, unlimited, unlimited); }

std::string to_string(const k& x, console_size c) {
    const std::size_t rows = std::clamp<std::size_t>(c.rows, 10, 2000), columns = std::clamp<std::size_t>(c.columns, 10, 2000);
    // q keeps the output inside rows - 1 lines of columns - 1 characters.
    const std::size_t shown = rows - 2, width = columns - 1;
    const std::string text = layout(x, shown + 1, width + 1);
    std::string out;
    std::size_t lines = 0, at = 0;
    while (at < text.size()) {
        auto end = text.find('\n', at);
        const bool newline = end != std::string::npos;
        if (!newline) end = text.size();
        if (lines == shown) return out + "..\n";
        const std::string_view line(text.data() + at, end - at);
        if (line.size() > width) out.append(line.substr(0, width - 2)).append("..");
        else out.append(line);
        if (newline) out += '\n';
        ++lines;
        at = end + 1;
    }
    return out;
}

}  // namespace qwire::kdb
