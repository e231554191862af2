#include <qwire/proto/qwp/test_sql.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace qwire::qwp::test_sql {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

struct token {
    enum kind_t { word, number, text, punct, param, end } kind = end;
    std::string value;  // words as written; punctuation as its characters
};

result<std::vector<token>> tokenize(std::string_view sql) {
    std::vector<token> out;
    std::size_t i = 0;
    auto bad = [&](std::string why) { return error(make_error_code(errc::parse_error), why + " at offset " + std::to_string(i)); };
    while (i < sql.size()) {
        const char c = sql[i];
        if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
            ++i;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t j = i;
            while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_' || sql[j] == '.')) ++j;
            out.push_back({token::word, std::string(sql.substr(i, j - i))});
            i = j;
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   ((c == '-' || c == '.') && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
            std::size_t j = i + 1;
            while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '.' ||
                                      ((sql[j] == '-' || sql[j] == '+') && (sql[j - 1] == 'e' || sql[j - 1] == 'E'))))
                ++j;
            out.push_back({token::number, std::string(sql.substr(i, j - i))});
            i = j;
        } else if (c == '$') {
            std::size_t j = i + 1;
            while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
            if (j == i + 1) return bad("expected a bind number after $");
            out.push_back({token::param, std::string(sql.substr(i + 1, j - i - 1))});
            i = j;
        } else if (c == '\'') {
            std::string s;
            std::size_t j = i + 1;
            for (;; ++j) {
                if (j >= sql.size()) return bad("unterminated string");
                if (sql[j] == '\'') {
                    if (j + 1 < sql.size() && sql[j + 1] == '\'') {
                        s += '\'';
                        ++j;
                        continue;
                    }
                    break;
                }
                s += sql[j];
            }
            out.push_back({token::text, std::move(s)});
            i = j + 1;
        } else {
            static constexpr std::string_view two[] = {"!=", "<>", "<=", ">="};
            std::string p(1, c);
            for (auto t : two)
                if (sql.substr(i, 2) == t) p = std::string(t);
            if (p.size() == 1 && std::string_view(",()*=<>").find(c) == std::string_view::npos)
                return bad(std::string("unexpected character '") + c + "'");
            out.push_back({token::punct, p});
            i += p.size();
        }
    }
    out.push_back({});
    return out;
}

enum class agg { none, count, sum, avg, min, max };

struct item {
    agg fn = agg::none;
    std::string column;  // empty for count()
    std::string name;    // in the result
};

struct condition {
    std::string column;
    std::string op;
    token literal;
};

struct query {
    bool star = false;
    std::vector<item> items;
    std::string table;
    std::vector<condition> where;
    std::string order_by;  // empty: the table's order
    bool descending = false;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
};

class parser {
public:
    explicit parser(std::vector<token> t) : t_(std::move(t)) {}

    result<query> parse() {
        query q;
        if (t_.size() == 2 && t_[0].kind == token::word) {  // a bare table name
            q.star = true;
            q.table = t_[0].value;
            return q;
        }
        if (!keyword("select")) return fail("expected SELECT");
        if (punct("*")) {
            q.star = true;
        } else {
            do {
                auto it = parse_item();
                if (!it) return it.error();
                q.items.push_back(std::move(*it));
            } while (punct(","));
        }
        if (!keyword("from")) return fail("expected FROM");
        if (peek().kind != token::word) return fail("expected a table name");
        q.table = next().value;
        if (keyword("where")) {
            do {
                condition c;
                if (peek().kind != token::word) return fail("expected a column in WHERE");
                c.column = next().value;
                static constexpr std::string_view ops[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
                if (peek().kind != token::punct || std::find(std::begin(ops), std::end(ops), peek().value) == std::end(ops))
                    return fail("expected a comparison after " + c.column);
                c.op = next().value;
                if (c.op == "<>") c.op = "!=";
                const token& lit = peek();
                if (lit.kind != token::number && lit.kind != token::text && lit.kind != token::param &&
                    !(lit.kind == token::word && (lower(lit.value) == "true" || lower(lit.value) == "false")))
                    return fail("expected a number, 'text', true, false or $n after " + c.column + " " + c.op);
                c.literal = next();
                q.where.push_back(std::move(c));
            } while (keyword("and"));
        }
        if (keyword("order")) {
            if (!keyword("by")) return fail("expected BY after ORDER");
            if (peek().kind != token::word) return fail("expected a column after ORDER BY");
            q.order_by = next().value;
            if (keyword("desc")) q.descending = true;
            else keyword("asc");
        }
        if (keyword("limit")) {
            if (peek().kind != token::number) return fail("expected a row count after LIMIT");
            const std::string& n = next().value;
            std::size_t v = 0;
            const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
            if (ec != std::errc() || p != n.data() + n.size()) return fail("bad LIMIT " + n);
            q.limit = v;
        }
        if (peek().kind != token::end) return fail("unexpected '" + peek().value + "'");
        return q;
    }

private:
    const token& peek() const { return t_[std::min(at_, t_.size() - 1)]; }
    const token& next() { return t_[std::min(at_++, t_.size() - 1)]; }
    bool keyword(std::string_view k) {
        if (peek().kind != token::word || lower(peek().value) != k) return false;
        ++at_;
        return true;
    }
    bool punct(std::string_view p) {
        if (peek().kind != token::punct || peek().value != p) return false;
        ++at_;
        return true;
    }
    error fail(std::string why) const {
        return error(make_error_code(errc::parse_error),
                     "the test server answers SELECT * | columns | count() sum() avg() min() max() FROM t "
                     "[WHERE c op value|$n [AND ...]] [ORDER BY c [ASC|DESC]] [LIMIT n]: " + why);
    }
    result<item> parse_item() {
        if (peek().kind != token::word) return fail("expected a column or an aggregate");
        item it;
        const std::string w = next().value;
        static const std::pair<std::string_view, agg> fns[] = {
            {"count", agg::count}, {"sum", agg::sum}, {"avg", agg::avg}, {"min", agg::min}, {"max", agg::max}};
        const auto fn = std::find_if(std::begin(fns), std::end(fns), [&](const auto& f) { return f.first == lower(w); });
        if (fn != std::end(fns) && punct("(")) {
            it.fn = fn->second;
            if (it.fn == agg::count) {
                punct("*");
            } else {
                if (peek().kind != token::word) return fail("expected a column in " + w + "()");
                it.column = next().value;
            }
            if (!punct(")")) return fail("expected ) after " + w + "(");
            it.name = it.fn == agg::count ? "count" : lower(w);
        } else {
            it.column = w;
            it.name = w;
        }
        if (keyword("as")) {
            if (peek().kind != token::word) return fail("expected a name after AS");
            it.name = next().value;
        } else if (peek().kind == token::word && lower(peek().value) != "from") {
            it.name = next().value;
        }
        return it;
    }

    std::vector<token> t_;
    std::size_t at_ = 0;
};

bool integral(type t) {
    switch (t) {
    case type::byte: case type::short_: case type::int_: case type::long_: case type::timestamp:
    case type::timestamp_nanos: case type::date: case type::char_: case type::boolean:
        return true;
    default: return false;
    }
}
bool numeric(type t) { return integral(t) || t == type::float_ || t == type::double_; }
bool textual(type t) { return t == type::symbol || t == type::varchar; }

// A row's value as a number (numeric columns).
double number_at(const decoded_column& c, std::size_t row) {
    switch (c.type) {
    case type::boolean: case type::byte: return std::to_integer<std::int8_t>(c.fixed[row]);
    case type::short_: return c.get<std::int16_t>(row);
    case type::char_: return c.get<std::uint16_t>(row);
    case type::int_: return c.get<std::int32_t>(row);
    case type::float_: return c.get<float>(row);
    case type::double_: return c.get<double>(row);
    default: return static_cast<double>(c.get<std::int64_t>(row));
    }
}
std::int64_t integer_at(const decoded_column& c, std::size_t row) {
    switch (c.type) {
    case type::boolean: case type::byte: return std::to_integer<std::int8_t>(c.fixed[row]);
    case type::short_: return c.get<std::int16_t>(row);
    case type::char_: return c.get<std::uint16_t>(row);
    case type::int_: return c.get<std::int32_t>(row);
    default: return c.get<std::int64_t>(row);
    }
}

template <class T>
bool compare(const T& a, const std::string& op, const T& b) {
    if (op == "=") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    return a >= b;
}

// A condition resolved against the table's schema.
struct bound_condition {
    std::size_t column;  // schema index
    type t;
    std::string op;
    double number = 0;
    std::int64_t integer = 0;
    bool exact = false;  // the literal is an integer
    std::string text;
    bool never = false;  // compared with a NULL bind
};

result<bound_condition> bind(const condition& c, const std::vector<std::pair<std::string, type>>& schema,
                             const std::vector<param>& params) {
    const auto it = std::find_if(schema.begin(), schema.end(), [&](const auto& s) { return s.first == c.column; });
    if (it == schema.end()) return error(make_error_code(errc::parse_error), "Invalid column: " + c.column);
    bound_condition b;
    b.column = static_cast<std::size_t>(it - schema.begin());
    b.t = it->second;
    b.op = c.op;
    token resolved = c.literal;
    if (resolved.kind == token::param) {
        std::size_t n = 0;
        std::from_chars(resolved.value.data(), resolved.value.data() + resolved.value.size(), n);
        if (n == 0 || n > params.size())
            return error(make_error_code(errc::parse_error), "bind $" + resolved.value + " is not given (" +
                                                                 std::to_string(params.size()) + " bind values)");
        const param& p = params[n - 1];
        if (p.kind == param::null) {
            b.never = true;
            return b;
        }
        resolved.kind = p.kind == param::number ? token::number : p.kind == param::text ? token::text : token::word;
        resolved.value = p.value;
    }
    const token& lit = resolved;
    if (textual(b.t)) {
        if (lit.kind != token::text)
            return error(make_error_code(errc::parse_error), "column " + c.column + " is " + std::string(type_name(b.t)) + ": compare it with 'text'");
        b.text = lit.value;
    } else if (numeric(b.t)) {
        if (lit.kind == token::word) {
            b.integer = lower(lit.value) == "true";
            b.number = static_cast<double>(b.integer);
            b.exact = true;
        } else if (lit.kind == token::number) {
            const auto& s = lit.value;
            const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), b.integer);
            b.exact = ec == std::errc() && p == s.data() + s.size();
            const auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), b.number);
            if (ec2 != std::errc() || q != s.data() + s.size())
                return error(make_error_code(errc::parse_error), "bad number " + s);
        } else {
            return error(make_error_code(errc::parse_error), "column " + c.column + " is " + std::string(type_name(b.t)) + ": compare it with a number");
        }
    } else {
        return error(make_error_code(errc::parse_error), "the test server cannot compare " + std::string(type_name(b.t)) + " column " + c.column);
    }
    return b;
}

bool matches(const bound_condition& b, const decoded_column* c, std::size_t row) {
    if (b.never || !c || c->is_null(row)) return false;  // NULL compares false, as in SQL
    if (textual(b.t)) return compare(std::string(c->text(row)), b.op, b.text);
    if (integral(b.t) && b.exact) return compare(integer_at(*c, row), b.op, b.integer);
    return compare(number_at(*c, row), b.op, b.number);
}

// One aggregate's running state.
struct accumulator {
    agg fn;
    std::size_t column = 0;  // schema index
    type t = type::long_;
    std::string name;
    std::int64_t count = 0;
    double sum = 0;
    std::int64_t isum = 0;
    std::optional<double> best;
    std::optional<std::int64_t> ibest;

    void add(const decoded_column* c, std::size_t row) {
        if (fn == agg::count) {
            ++count;
            return;
        }
        if (!c || c->is_null(row)) return;
        ++count;
        if (integral(t)) {
            const std::int64_t v = integer_at(*c, row);
            // A LONG sum wraps as QuestDB's does; no signed overflow here.
            isum = static_cast<std::int64_t>(static_cast<std::uint64_t>(isum) + static_cast<std::uint64_t>(v));
            sum += static_cast<double>(v);
            if (!ibest || (fn == agg::min ? v < *ibest : v > *ibest)) ibest = v;
        } else {
            const double v = number_at(*c, row);
            sum += v;
            if (!best || (fn == agg::min ? v < *best : v > *best)) best = v;
        }
    }

    // The one-row result column.
    result_set::column finish() const {
        decoded_column d;
        d.rows = 1;
        const bool null = fn != agg::count && count == 0;
        auto put = [&](auto v) {
            d.fixed.resize(sizeof v);
            std::memcpy(d.fixed.data(), &v, sizeof v);
        };
        switch (fn) {
        case agg::count: d.type = type::long_; put(count); break;
        case agg::avg: d.type = type::double_; put(null ? std::nan("") : sum / static_cast<double>(count)); break;
        case agg::sum:
            if (integral(t)) {
                d.type = type::long_;
                put(null ? std::numeric_limits<std::int64_t>::min() : isum);
            } else {
                d.type = type::double_;
                put(null ? std::nan("") : sum);
            }
            break;
        default:
            d.type = t;
            if (t == type::float_) put(static_cast<float>(best.value_or(std::nan(""))));
            else if (t == type::double_) put(best.value_or(std::nan("")));
            else if (fixed_width(t) == 8) put(ibest.value_or(std::numeric_limits<std::int64_t>::min()));
            else if (t == type::int_) put(static_cast<std::int32_t>(ibest.value_or(std::numeric_limits<std::int32_t>::min())));
            else if (t == type::short_ || t == type::char_) put(static_cast<std::int16_t>(ibest.value_or(0)));
            else put(static_cast<std::int8_t>(ibest.value_or(0)));
        }
        if (null) d.null_bits.assign(1, 1);
        result_set::column out;
        out.name = name;
        out.t = d.type;
        out.push(&d, 0);
        return out;
    }
};

}  // namespace

void result_set::column::push(const decoded_column* c, std::size_t row) {
    const bool present = c && !c->is_null(row);  // sentinels become NULL, as QuestDB stores them
    if (valid.size() * 8 <= rows) valid.push_back(0);
    if (present) valid[rows >> 3] |= static_cast<std::uint8_t>(1u << (rows & 7));
    if (c) scale = c->scale, bits = c->geohash_bits ? c->geohash_bits : bits;
    switch (t) {
    case type::boolean:
        if (fixed.size() * 8 <= rows) fixed.push_back(std::byte{0});
        if (present && std::to_integer<int>(c->fixed[row])) fixed[rows >> 3] |= std::byte(1u << (rows & 7));
        break;
    case type::varchar: case type::binary: case type::double_array: case type::long_array: {
        if (present) {
            const std::string_view v = c->text(row);
            const auto* p = reinterpret_cast<const std::byte*>(v.data());
            bytes.insert(bytes.end(), p, p + v.size());
        }
        offsets.push_back(static_cast<std::int64_t>(bytes.size()));
        break;
    }
    case type::symbol: {
        std::int32_t code = 0;
        if (present) {
            auto [it, fresh] = index.try_emplace(std::string(c->text(row)), static_cast<std::int32_t>(dict.size()));
            if (fresh) dict.push_back(std::string(c->text(row)));
            code = it->second;
        }
        codes.push_back(code);
        break;
    }
    default: {
        const std::size_t w = t == type::geohash ? 8 : fixed_width(t);
        if (present) fixed.insert(fixed.end(), c->fixed.begin() + static_cast<std::ptrdiff_t>(row * w),
                                  c->fixed.begin() + static_cast<std::ptrdiff_t>((row + 1) * w));
        else fixed.resize(fixed.size() + w);
    }
    }
    ++rows;
}

column_view result_set::column::view() {
    column_view v;
    v.name = name;
    v.type = t;
    v.rows = rows;
    v.validity = valid.data();
    v.values = t == type::symbol ? static_cast<const void*>(codes.data()) : fixed.data();
    v.offsets = offsets.data();
    v.offsets64 = true;
    v.bytes = bytes.data();
    v.scale = scale;
    v.geohash_bits = bits ? bits : 1;
    if (t == type::symbol) {
        dict_views.assign(dict.begin(), dict.end());
        v.dict = dict_views;
    }
    return v;
}

result<std::vector<param>> decode_binds(std::span<const std::byte>& in, std::uint64_t count) {
    if (count > 1024)
        return error(make_error_code(errc::parse_error), std::to_string(count) + " bind values, over the 1024 QuestDB takes");
    std::vector<param> out;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::string which = "bind $" + std::to_string(i + 1);
        auto bad = [&](std::string why) { return error(make_error_code(errc::parse_error), which + ": " + why); };
        auto take = [&](std::size_t n, auto& v) {
            if (in.size() < n) return false;
            std::memcpy(&v, in.data(), n);
            in = in.subspan(n);
            return true;
        };
        std::uint8_t code = 0, flag = 0, bitmap = 0;
        if (!take(1, code) || !take(1, flag) || (flag != 0 && !take(1, bitmap))) return bad("truncated");
        const auto t = static_cast<type>(code);
        if (!known_type(code)) return bad("unknown type code " + std::to_string(code));
        param p;
        auto number = [&](auto v) {
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            p.kind = param::number;
            p.value.assign(buf, r.ptr);
        };
        const bool null = flag != 0 && (bitmap & 1);
        if (!null) {
            bool ok = true;
            switch (t) {
            case type::boolean: {
                std::uint8_t v = 0;
                ok = take(1, v);
                p.kind = param::boolean;
                p.value = (v & 1) ? "true" : "false";
                break;
            }
            case type::byte: { std::int8_t v = 0; ok = take(1, v); number(v); break; }
            case type::short_: { std::int16_t v = 0; ok = take(2, v); number(v); break; }
            case type::char_: { std::uint16_t v = 0; ok = take(2, v); number(v); break; }
            case type::int_: { std::int32_t v = 0; ok = take(4, v); number(v); break; }
            case type::float_: { float v = 0; ok = take(4, v); number(v); break; }
            case type::double_: { double v = 0; ok = take(8, v); number(v); break; }
            case type::long_: case type::date: case type::timestamp: case type::timestamp_nanos: {
                std::int64_t v = 0;
                ok = take(8, v);
                number(v);
                break;
            }
            case type::varchar: {
                std::uint32_t start = 1, end = 0;
                if (!take(4, start) || !take(4, end)) return bad("truncated");
                if (start != 0 || end > in.size()) return bad("bad VARCHAR offsets " + std::to_string(start) + ", " + std::to_string(end));
                p.kind = param::text;
                p.value.assign(reinterpret_cast<const char*>(in.data()), end);
                in = in.subspan(end);
                break;
            }
            default:
                return bad("the test server cannot bind " + std::string(type_name(t)));
            }
            if (!ok) return bad("truncated");
        }
        out.push_back(std::move(p));
    }
    return out;
}

result<result_set> run(std::string_view sql, const std::map<std::string, test_server::table_data>& tables,
                       const std::vector<param>& params) {
    auto tokens = tokenize(sql);
    if (!tokens) return tokens.error();
    auto q = parser(std::move(*tokens)).parse();
    if (!q) return q.error();
    const auto table = tables.find(q->table);
    if (table == tables.end()) return error(make_error_code(errc::parse_error), "table does not exist [table=" + q->table + "]");
    const auto& schema = table->second.schema;
    auto index_of = [&](const std::string& name) -> std::optional<std::size_t> {
        const auto it = std::find_if(schema.begin(), schema.end(), [&](const auto& s) { return s.first == name; });
        if (it == schema.end()) return std::nullopt;
        return static_cast<std::size_t>(it - schema.begin());
    };

    std::vector<bound_condition> where;
    for (const auto& c : q->where) {
        auto b = bind(c, schema, params);
        if (!b) return b.error();
        where.push_back(std::move(*b));
    }
    // What each result column is taken from (schema indexes), or the aggregates.
    std::vector<std::size_t> plain;
    std::vector<accumulator> aggs;
    result_set out;
    if (q->star) {
        for (std::size_t i = 0; i < schema.size(); ++i) plain.push_back(i);
    }
    for (const auto& it : q->items) {
        std::optional<std::size_t> col;
        if (!it.column.empty()) {
            col = index_of(it.column);
            if (!col) return error(make_error_code(errc::parse_error), "Invalid column: " + it.column);
        }
        if (it.fn == agg::none) {
            plain.push_back(*col);
            result_set::column c;
            c.name = it.name;
            c.t = schema[*col].second;
            out.columns.push_back(std::move(c));
            continue;
        }
        accumulator a;
        a.fn = it.fn;
        a.name = it.name;
        if (col) {
            a.column = *col;
            a.t = schema[*col].second;
            if (!numeric(a.t))
                return error(make_error_code(errc::parse_error), it.name + "(" + it.column + "): " + std::string(type_name(a.t)) + " is not a number");
        }
        aggs.push_back(std::move(a));
    }
    if (!aggs.empty() && !plain.empty())
        return error(make_error_code(errc::parse_error), "the test server has no GROUP BY: aggregates cannot be mixed with columns");
    if (q->star)
        for (const auto& [name, t] : schema) {
            result_set::column c;
            c.name = name;
            c.t = t;
            out.columns.push_back(std::move(c));
        }

    std::optional<std::size_t> order;
    if (!q->order_by.empty()) {
        order = index_of(q->order_by);
        if (!order) return error(make_error_code(errc::parse_error), "Invalid column: " + q->order_by);
        const type t = schema[*order].second;
        if (!numeric(t) && !textual(t))
            return error(make_error_code(errc::parse_error), "the test server cannot order by " + std::string(type_name(t)));
        if (!aggs.empty()) return error(make_error_code(errc::parse_error), "ORDER BY with aggregates: one row, nothing to order");
    }
    // Each block's columns in schema order (null: the block lacks it).
    const auto& blocks = table->second.blocks;
    std::vector<std::vector<const decoded_column*>> cols(blocks.size(), std::vector<const decoded_column*>(schema.size()));
    for (std::size_t bi = 0; bi < blocks.size(); ++bi)
        for (std::size_t i = 0; i < schema.size(); ++i)
            for (const auto& bc : blocks[bi].columns)
                if ((bc.name.empty() ? std::string_view("timestamp") : std::string_view(bc.name)) == schema[i].first)
                    cols[bi][i] = &bc;
    // The rows that match, in table order; LIMIT cuts early unless they
    // are to be ordered first.
    std::vector<std::pair<std::size_t, std::size_t>> hits;  // block, row
    const std::size_t cut = order || !aggs.empty() ? std::numeric_limits<std::size_t>::max() : q->limit;
    for (std::size_t bi = 0; bi < blocks.size() && hits.size() < cut; ++bi) {
        for (std::size_t row = 0; row < blocks[bi].rows && hits.size() < cut; ++row) {
            bool keep = true;
            for (const auto& w : where) keep = keep && matches(w, cols[bi][w.column], row);
            if (!keep) continue;
            if (!aggs.empty()) {
                for (auto& a : aggs) a.add(a.fn == agg::count ? nullptr : cols[bi][a.column], row);
                continue;
            }
            hits.emplace_back(bi, row);
        }
    }
    if (order) {
        // NULLs first, as QuestDB orders them ascending; stable for ties.
        const std::size_t k = *order;
        const bool text = textual(schema[k].second), exact = integral(schema[k].second);
        auto less = [&](const std::pair<std::size_t, std::size_t>& a, const std::pair<std::size_t, std::size_t>& b) {
            const decoded_column* ca = cols[a.first][k];
            const decoded_column* cb = cols[b.first][k];
            const bool na = !ca || ca->is_null(a.second), nb = !cb || cb->is_null(b.second);
            if (na || nb) return na && !nb;
            if (text) return ca->text(a.second) < cb->text(b.second);
            if (exact) return integer_at(*ca, a.second) < integer_at(*cb, b.second);
            return number_at(*ca, a.second) < number_at(*cb, b.second);
        };
        if (q->descending) std::stable_sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) { return less(b, a); });
        else std::stable_sort(hits.begin(), hits.end(), less);
        if (hits.size() > q->limit) hits.resize(q->limit);
    }
    for (const auto& [bi, row] : hits) {
        for (std::size_t i = 0; i < plain.size(); ++i) out.columns[i].push(cols[bi][plain[i]], row);
        ++out.rows;
    }
    if (!aggs.empty()) {
        for (const auto& a : aggs) out.columns.push_back(a.finish());
        out.rows = q->limit > 0 ? 1 : 0;
        if (out.rows == 0)
            for (auto& c : out.columns) {
                result_set::column empty;
                empty.name = c.name;
                empty.t = c.t;
                c = std::move(empty);
            }
    }
    return out;
}

}  // namespace qwire::qwp::test_sql
