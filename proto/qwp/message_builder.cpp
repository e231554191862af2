#include <qwire/proto/qwp/message_builder.hpp>

#include <qwire/proto/qwp/detail/column_writer.hpp>
#include <qwire/proto/qwp/detail/encoding.hpp>

#include <algorithm>
#include <cstring>

namespace qwire::qwp {

using detail::column_writer;
using detail::same_text;
using detail::present;
using detail::valid_name;

message_builder::symbol_ids& message_builder::ids_for(std::span<const std::string_view> dict, std::size_t rows) {
    constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    // Checking a kept map costs a compare per entry: worth it only when the
    // chunk has about as many rows as the dictionary has entries.
    const bool keep = dict.size() <= 4 * rows + 64;
    symbol_ids* slot = nullptr;
    for (auto& e : symbol_ids_)
        if (e.key == dict.data()) slot = &e;
    if (!slot || !keep) {
        slot = &symbol_ids_[next_symbol_ids_++ % symbol_ids_.size()];
        slot->key = keep ? dict.data() : nullptr;
        slot->ids.assign(dict.size(), none);
        slot->wire.assign(dict.size(), 0);
        return *slot;
    }
    // A position keeps its id only while the entry there still reads as the
    // string interned under that id (the caller may have changed it, or the
    // dictionary may have been cleared).
    slot->ids.resize(dict.size(), none);
    slot->wire.resize(dict.size(), 0);
    const symbol_dict& d = *dict_;
    for (std::size_t k = 0; k < dict.size(); ++k) {
        const std::uint32_t id = slot->ids[k];
        if (id != none && (id >= d.size() || !same_text(d.at(id), dict[k]))) {
            slot->ids[k] = none;
            slot->wire[k] = 0;
        }
    }
    return *slot;
}

void message_builder::own(const void* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(own_space(n), p, n);
}

std::uint8_t* message_builder::own_space(std::size_t n) {
    const std::size_t off = owned_.size();
    auto space = owned_.prepare(n);
    owned_.commit(n);
    if (!segments_.empty() && segments_.back().ptr == nullptr && segments_.back().off + segments_.back().len == off)
        segments_.back().len += n;
    else
        segments_.push_back({nullptr, off, n});
    body_bytes_ += n;
    return reinterpret_cast<std::uint8_t*>(space.data());
}

void message_builder::borrow(const void* p, std::size_t n) {
    if (n == 0) return;
    // Small pieces are cheaper copied than carried as an extra iovec.
    if (n < 256) return own(p, n);
    segments_.push_back({static_cast<const std::byte*>(p), 0, n});
    body_bytes_ += n;
}

void message_builder::put_varint(std::uint64_t v) {
    std::uint8_t tmp[max_varint];
    own(tmp, qwp::put_varint(tmp, v));
}

void message_builder::put_string(std::string_view s) {
    put_varint(s.size());
    own(s.data(), s.size());
}

void message_builder::clear() {
    owned_.clear();
    segments_.clear();
    body_bytes_ = 0;
    tables_ = 0;
    pieces_.clear();
}

std::span<const const_buffer> message_builder::finish(std::uint8_t extra_flags) { return finish(extra_flags, {}); }

std::span<const const_buffer> message_builder::finish(std::uint8_t extra_flags, std::span<const std::byte> prefix) {
    prefix_.assign(prefix.begin(), prefix.end());
    delta_.clear();
    std::uint8_t tmp[max_varint];
    const std::size_t start = dict_->sent(), count = dict_->size() - start;
    delta_.append(tmp, qwp::put_varint(tmp, start));
    delta_.append(tmp, qwp::put_varint(tmp, count));
    for (std::size_t i = start; i < dict_->size(); ++i) {
        const std::string_view s = dict_->at(i);
        delta_.append(tmp, qwp::put_varint(tmp, s.size()));
        delta_.append(s.data(), s.size());
    }
    dict_->mark_sent();
    const std::size_t payload = prefix_.size() + delta_.size() + body_bytes_;
    std::memcpy(head_.data(), magic, 4);
    head_[4] = version;
    head_[5] = static_cast<std::uint8_t>(flags::delta_symbol_dict | (opt_.gorilla ? flags::gorilla : 0) | extra_flags);
    head_[6] = static_cast<std::uint8_t>(tables_);
    head_[7] = static_cast<std::uint8_t>(tables_ >> 8);
    for (int i = 0; i < 4; ++i) head_[8 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
    pieces_.clear();
    pieces_.push_back({head_.data(), header_size});
    if (!prefix_.empty()) pieces_.push_back({prefix_.data(), prefix_.size()});
    pieces_.push_back({delta_.data().data(), delta_.size()});
    const std::byte* base = owned_.data().data();
    for (const auto& s : segments_) pieces_.push_back({s.ptr ? s.ptr : base + s.off, s.len});
    return pieces_;
}

namespace {
std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}
}  // namespace

std::size_t message_builder::message_size() const noexcept {
    std::size_t n = header_size + varint_size(dict_->sent()) + varint_size(dict_->size() - dict_->sent());
    for (std::size_t i = dict_->sent(); i < dict_->size(); ++i) n += varint_size(dict_->at(i).size()) + dict_->at(i).size();
    return n + body_bytes_;
}

message_builder::mark_t message_builder::mark() const noexcept {
    return {owned_.size(), segments_.size(), body_bytes_, tables_, segments_.empty() ? 0 : segments_.back().len};
}

void message_builder::reset_to(const mark_t& m) noexcept {
    owned_.unwrite(owned_.size() - m.owned);
    segments_.resize(m.segments);
    if (!segments_.empty()) segments_.back().len = m.last_len;
    body_bytes_ = m.body;
    tables_ = m.tables;
}

std::vector<std::byte> catchup_message(const symbol_dict& dict, std::size_t from, std::size_t to) {
    std::vector<std::byte> out(header_size);
    std::uint8_t tmp[max_varint];
    auto put = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out.insert(out.end(), b, b + n);
    };
    put(tmp, qwp::put_varint(tmp, from));
    put(tmp, qwp::put_varint(tmp, to - from));
    for (std::size_t i = from; i < to; ++i) {
        put(tmp, qwp::put_varint(tmp, dict.at(i).size()));
        put(dict.at(i).data(), dict.at(i).size());
    }
    const auto payload = static_cast<std::uint32_t>(out.size() - header_size);
    std::memcpy(out.data(), magic, 4);
    out[4] = std::byte{version};
    out[5] = std::byte{flags::delta_symbol_dict | flags::defer_commit};
    out[6] = out[7] = std::byte{0};
    std::memcpy(out.data() + 8, &payload, 4);
    return out;
}

std::size_t catchup_end(const symbol_dict& dict, std::size_t from, std::size_t max_bytes) {
    std::size_t size = header_size + 2 * max_varint, to = from;
    while (to < dict.size()) {
        const std::size_t add = varint_size(dict.at(to).size()) + dict.at(to).size();
        if (to > from && size + add > max_bytes) break;
        size += add;
        ++to;
    }
    return to;
}

std::vector<std::byte> message_builder::finish_copy(std::uint8_t extra_flags) {
    std::vector<std::byte> out;
    for (const auto& p : finish(extra_flags)) {
        const auto* b = static_cast<const std::byte*>(p.data);
        out.insert(out.end(), b, b + p.size);
    }
    return out;
}


void message_builder::unown(std::size_t n) {
    // Gives back the unused tail of the last own_space().
    owned_.unwrite(n);
    segments_.back().len -= n;
    body_bytes_ -= n;
}

result<void> message_builder::add_table(std::string_view name, std::size_t rows, std::span<const column_view> columns) {
    return add_block(name, rows, columns, false, true);
}

result<void> message_builder::add_result_block(std::size_t rows, std::span<const column_view> columns, bool with_schema) {
    return add_block({}, rows, columns, true, with_schema);
}

result<void> message_builder::add_block(std::string_view name, std::size_t rows, std::span<const column_view> columns,
                                        bool egress, bool with_schema) {
    // Errors name the table (and the column), as the server's do.
    const auto table_text = [&] { return "table '" + std::string(name) + "'"; };
    if ((name.empty() && !egress) || !valid_name(name)) return error(errc::bad_name, table_text());
    if (rows > (egress ? std::size_t{1} << 20 : max_rows_per_table))
        return error(errc::too_many_rows, table_text() + ": " + std::to_string(rows) + " rows");
    if (columns.size() > max_columns)
        return error(errc::too_many_columns, table_text() + ": " + std::to_string(columns.size()) + " columns");
    if (tables_ >= 0xFFFF) return error(errc::bad_length, table_text() + ": over 65535 tables in one message");
    const std::size_t owned_before = owned_.size(), segments_before = segments_.size(), body_before = body_bytes_;
    auto undo = [&](const column_view& c, const error& e) -> result<void> {
        owned_.unwrite(owned_.size() - owned_before);
        segments_.resize(segments_before);
        if (!segments_.empty() && segments_.back().ptr == nullptr)
            segments_.back().len = std::min(segments_.back().len, owned_before - segments_.back().off);
        body_bytes_ = body_before;
        std::string what = table_text() + ", column '" + std::string(c.name) + "' (" + std::string(type_name(c.type)) + ")";
        if (!e.detail().empty()) what.append(": ").append(e.detail());
        return error(e.code(), what);
    };
    put_string(name);
    put_varint(rows);
    if (with_schema) put_varint(columns.size());
    for (const auto& c : columns) {
        if (!valid_name(c.name) || (c.name.empty() && !is_timestamp(c.type) && !egress))
            return undo(c, errc::bad_name);
        if (!known_type(static_cast<std::uint8_t>(c.type))) return undo(c, errc::bad_type);
        if (c.rows != rows)
            return undo(c, error(errc::bad_column, std::to_string(c.rows) + " rows where the table has " + std::to_string(rows)));
        if (!with_schema) continue;
        put_string(c.name);
        put_u8(static_cast<std::uint8_t>(c.type));
    }
    for (const auto& c : columns) {
        column_writer w{*this, c};
        if (auto r = w.write(); !r) return undo(c, r.error());
    }
    ++tables_;
    return {};
}


// ---------------------------------------------------------------- arrays

namespace {
template <class T>
void encode_array_impl(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const T> v) {
    out.push_back(static_cast<std::byte>(dims.size()));
    for (std::uint32_t d : dims) {
        const auto* p = reinterpret_cast<const std::byte*>(&d);
        out.insert(out.end(), p, p + 4);
    }
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    out.insert(out.end(), p, p + v.size_bytes());
}
}  // namespace

void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const double> v) {
    encode_array_impl(out, dims, v);
}
void encode_array(std::vector<std::byte>& out, std::span<const std::uint32_t> dims, std::span<const std::int64_t> v) {
    encode_array_impl(out, dims, v);
}

}  // namespace qwire::qwp
