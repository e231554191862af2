#include <qwire/proto/qwp/response.hpp>

#include <qwire/proto/qwp/detail/reader.hpp>

#include <cstring>

namespace qwire::qwp {

using detail::reader;

result<response> decode_response(std::span<const std::byte> frame) {
    response out;
    auto r = decode_response(frame, out);
    if (!r) return r.error();
    return out;
}

result<void> decode_response(std::span<const std::byte> frame, response& out) {
    reader r{frame};
    out.sequence = -1;
    out.message.clear();
    std::size_t tables = 0;
    QWP_TRY(st, r.u8());
    out.status = static_cast<status>(*st);
    switch (out.status) {
    case status::ok: case status::durable_ack: case status::local_durable_ack: {
        if (out.status == status::ok) {
            QWP_TRY(seq, r.fixed<std::int64_t>());
            out.sequence = *seq;
        }
        QWP_TRY(n, r.fixed<std::uint16_t>());
        for (unsigned i = 0; i < *n; ++i) {
            QWP_TRY(len, r.fixed<std::uint16_t>());
            QWP_TRY(name, r.take(*len));
            QWP_TRY(txn, r.fixed<std::int64_t>());
            // Into the entries the last response left (no allocation when
            // the same tables come back, as they do response after response).
            if (tables == out.tables.size()) out.tables.emplace_back();
            out.tables[tables].first.assign(reinterpret_cast<const char*>(name->data()), name->size());
            out.tables[tables].second = *txn;
            ++tables;
        }
        break;
    }
    case status::schema_mismatch: case status::parse_error: case status::internal_error: case status::security_error:
    case status::write_error: case status::not_writable: case status::dictionary_gap: {
        QWP_TRY(seq, r.fixed<std::int64_t>());
        out.sequence = *seq;
        QWP_TRY(len, r.fixed<std::uint16_t>());
        QWP_TRY(text, r.take(*len));
        out.message.assign(reinterpret_cast<const char*>(text->data()), text->size());
        break;
    }
    default:
        // Unknown: an error of unknown layout; the rest is kept as text.
        out.message.assign(reinterpret_cast<const char*>(r.in.data()), r.in.size());
        out.tables.resize(tables);
        return {};
    }
    if (!r.in.empty()) return make_error_code(errc::trailing_bytes);
    out.tables.resize(tables);
    return {};
}

std::vector<std::byte> encode_response(const response& r) {
    std::vector<std::byte> out;
    auto put = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out.insert(out.end(), b, b + n);
    };
    out.push_back(static_cast<std::byte>(r.status));
    if (!r.is_error()) {
        if (r.status == status::ok) put(&r.sequence, 8);
        const auto n = static_cast<std::uint16_t>(r.tables.size());
        put(&n, 2);
        for (const auto& [name, txn] : r.tables) {
            const auto len = static_cast<std::uint16_t>(name.size());
            put(&len, 2);
            put(name.data(), name.size());
            put(&txn, 8);
        }
        return out;
    }
    put(&r.sequence, 8);
    const auto len = static_cast<std::uint16_t>(std::min<std::size_t>(r.message.size(), 1024));
    put(&len, 2);
    put(r.message.data(), len);
    return out;
}

}  // namespace qwire::qwp
