#include <qwire/proto/bridge/gateway.hpp>

#include <cstring>

namespace qwire::bridge {

namespace {

constexpr std::size_t max_idle = 8;

// One column from its batches' pieces (all of one type, as to_k made them),
// copied once.
kdb::k concat(std::vector<kdb::k>& parts) {
    if (parts.size() == 1) return parts.front();
    std::size_t n = 0;
    for (const auto& p : parts) n += p.count();
    const kdb::type_t t = parts.front().type();
    if (t == kdb::qtype::symbol) {
        std::vector<std::string_view> names;
        names.reserve(n);
        for (const auto& p : parts)
            for (const auto name : p.get_symbol_list().value()) names.push_back(name);
        return kdb::new_symbol_list(names);
    }
    if (t == kdb::qtype::list) {
        std::vector<kdb::k> items;
        items.reserve(n);
        for (const auto& p : parts) items.insert(items.end(), p.items().begin(), p.items().end());
        return kdb::new_list(std::move(items));
    }
    kdb::k out = kdb::new_vector(t, n);
    auto* dst = out.data<std::byte>().data();
    for (const auto& p : parts) {
        const auto& bytes = p.node().data;
        std::memcpy(dst, bytes.data(), bytes.size());
        dst += bytes.size();
    }
    return out;
}

}  // namespace

gateway::gateway(kdb::server& srv, std::string target) : target_(std::move(target)) {
    srv.on_sync([this](kdb::peer&, kdb::k request) -> task<result<kdb::k>> {
        const auto sql = request.get_string();
        if (!sql) co_return kdb::remote_error("type");  // as q answers a non-string to a SQL-only server
        co_return co_await query(*sql);
    });
}

task<result<kdb::k>> gateway::query(std::string_view sql) {
    ++st_.queries;
    std::optional<qwp::reader> rd;
    if (!idle_.empty()) {
        rd.emplace(std::move(idle_.back()));
        idle_.pop_back();
    } else {
        auto c = co_await qwp::reader::connect(target_);
        if (!c) {
            ++st_.errors;
            co_return kdb::remote_error("QuestDB: " + c.error().message() +
                                        (c.error().detail().empty() ? std::string() : ": " + std::string(c.error().detail())));
        }
        rd.emplace(std::move(*c));
    }
    auto fail = [&](std::string text) -> result<kdb::k> {
        ++st_.errors;
        return kdb::remote_error(text);
    };
    auto e = co_await rd->execute(sql);
    if (!e) co_return fail("QuestDB: " + e.error().message());
    // Per column, the K pieces of the batches so far.
    std::vector<std::string> names;
    std::vector<std::vector<kdb::k>> pieces;
    for (;;) {
        auto b = co_await rd->next();
        if (!b) {
            // The connection is fine after a QUERY_ERROR; keep it.
            const std::string text = rd->error_text().empty() ? b.error().message() : rd->error_text();
            if (!rd->error_text().empty() && idle_.size() < max_idle) idle_.push_back(std::move(*rd));
            co_return fail(text);
        }
        if (!*b) break;
        const auto& cols = (*b)->table.columns;
        if (names.empty()) {
            for (const auto& c : cols) names.push_back(c.name);
            pieces.resize(cols.size());
        }
        for (std::size_t i = 0; i < cols.size() && i < pieces.size(); ++i) {
            auto x = to_k(cols[i]);
            if (!x) {
                (void)co_await rd->cancel();
                co_return fail(std::string(x.error().detail()));
            }
            pieces[i].push_back(std::move(*x));
        }
    }
    const auto affected = static_cast<std::int64_t>(rd->rows_affected());
    if (idle_.size() < max_idle) idle_.push_back(std::move(*rd));
    if (names.empty()) co_return kdb::new_long(affected);  // EXEC_DONE: a statement without rows
    std::vector<kdb::k> columns;
    for (auto& p : pieces) {
        columns.push_back(concat(p));
        p.clear();
    }
    std::vector<std::string_view> views(names.begin(), names.end());
    auto t = kdb::new_table(kdb::new_symbol_list(views), kdb::new_list(std::move(columns)));
    if (!t) co_return fail("result: " + t.error().message());
    st_.rows += t->count();
    co_return *t;
}

}  // namespace qwire::bridge
