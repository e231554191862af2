#include <qwire/proto/kdb/display.hpp>
#include <qwire/proto/sm/signal.hpp>

#include <catch2/catch.hpp>

using namespace qwire;
using namespace qwire::sm;
using namespace std::chrono;
using kdb::k;

namespace {
timestamp_t at(std::int64_t kdb_ns) { return kdb::from_kdb_timestamp(kdb_ns); }
}  // namespace

TEST_CASE("sm signal: q dictionary and JSON carry the same nanoseconds, both ways") {
    const auto stream = make_signal(stream_signal{at(1), at(86'400'000'000'123), at(-5), at(999'999'999'999'999'999), 20260105'00000000042});
    const auto disk = make_signal(disk_signal{at(7), at(0), at(86'399'999'999'999)}, nanoseconds(5'000'000'001));
    for (const auto& s : {stream, disk}) {
        INFO(to_json(s));
        auto from_k = signal_from_k(s.raw);
        REQUIRE(from_k);
        CHECK(*from_k == s);
        CHECK(from_k->raw == s.raw);
        auto from_json = signal_from_json(to_json(s, "rdb"));
        REQUIRE(from_json);
        CHECK(*from_json == s);
        CHECK(from_json->raw == s.raw);
    }
    CHECK(to_json(stream, "rdb") ==
          R"({"mount":"rdb","ts":"2000-01-01T00:00:00.000000001","minTS":"2000-01-02T00:00:00.000000123",)"
          R"("startTS":"1999-12-31T23:59:59.999999995","endTS":"2031-09-09T01:46:39.999999999","pos":2026010500000000042})");
    CHECK(to_json(disk) == R"({"ts":"2000-01-01T00:00:00.000000007","minTS":"2000-01-01T00:00:00.000000000",)"
                           R"("maxTS":"2000-01-01T23:59:59.999999999","timeout":"0D00:00:05.000000001"})");
    // q holds an all-timestamp dictionary's values as a timestamp vector.
    CHECK(kdb::to_string(disk.raw.values().value()).substr(0, 29) == "2000.01.01D00:00:00.000000007");
    CHECK(signal_from_k(make_signal(disk_signal{at(7), at(0), at(86'399'999'999'999)}).raw).value().raw.values().value().type() ==
          kdb::qtype::timestamp);
    // A null timestamp (a mount that never reloaded) is null in JSON and back.
    const auto never = make_signal(stream_signal{at(kdb::null_long), at(0), at(0), at(0), kdb::null_long});
    CHECK(to_json(never).find(R"("ts":null)") != std::string::npos);
    CHECK(signal_from_json(to_json(never)).value() == never);
}

TEST_CASE("sm signal: what is missing or of the wrong type is an error naming the field") {
    auto dict = [](std::vector<std::string_view> keys, std::vector<k> values) {
        return kdb::new_dict(kdb::new_symbol_list(std::span<const std::string_view>(keys)), kdb::new_list(std::move(values))).value();
    };
    const k ts = kdb::new_timestamp(std::int64_t{1});
    auto err = [](const result<reload_signal>& r) { return r ? std::string("ok") : std::string(r.error().detail()); };
    CHECK(err(signal_from_k(kdb::new_long(1))) == "not a dictionary (type -7)");
    CHECK(err(signal_from_k(dict({"minTS", "maxTS"}, {ts, ts}))) == "no ts");
    CHECK(err(signal_from_k(dict({"ts", "minTS", "maxTS"}, {ts, kdb::new_long(3), ts}))) == "minTS is not a timestamp (type -7)");
    CHECK(err(signal_from_k(dict({"ts", "minTS"}, {ts, ts}))) == "neither maxTS (a disk mount) nor pos (a stream mount)");
    CHECK(err(signal_from_k(dict({"ts", "minTS", "pos"}, {ts, ts, kdb::new_float(1)}))) == "pos is not a long (type -9)");
    CHECK(err(signal_from_k(dict({"ts", "minTS", "pos"}, {ts, ts, kdb::new_long(1)}))) == "no startTS");
    CHECK(signal_from_k(kdb::new_long(1)).error() == sm::errc::bad_signal);

    CHECK(signal_from_json("{").error() == sm::errc::bad_response);
    CHECK(signal_from_json("[1]").error() == sm::errc::bad_response);
    CHECK(err(signal_from_json(R"({"ts":1})")) == "ts is not a string");
    CHECK(err(signal_from_json(R"({"ts":"2026-13-01","minTS":"x"})")).starts_with("ts: not a timestamp"));
    CHECK(err(signal_from_json(R"({"ts":"2026-01-01","minTS":"2026-01-01","maxTS":"2026-01-01T24:00:00"})")).starts_with("maxTS"));
    CHECK(err(signal_from_json(R"({"ts":"2026-01-01","minTS":"2026-01-01","startTS":null,"endTS":null,"pos":"7"})")) ==
          "pos is not an integer");
    CHECK(err(signal_from_json(R"({"ts":"2026-01-01","minTS":"2026-01-01","maxTS":null,"timeout":true})")).starts_with("timeout"));
}

TEST_CASE("sm signal: timestamp and timespan text") {
    CHECK(parse_timestamp("2026-01-05T09:30:00.000000001").value() == sys_days(year(2026) / 1 / 5) + hours(9) + minutes(30) + nanoseconds(1));
    CHECK(parse_timestamp("2026.01.05D09:30:00.5Z").value() == sys_days(year(2026) / 1 / 5) + hours(9) + minutes(30) + milliseconds(500));
    CHECK(parse_timestamp("2026-01-05").value() == sys_days(year(2026) / 1 / 5));
    for (std::string_view bad : {"", "2026-01-5", "2026-02-30", "2026-01-05T9:30:00", "2026-01-05T09:30:00.", "2026-01-05T09:30:00.0000000001",
                                 "2026-01-05T09:60:00", "2026-01-05X09:30:00", "2026/01/05"})
        CHECK_FALSE(parse_timestamp(bad));
    CHECK(timestamp_text(sys_days(year(1969) / 12 / 31) + hours(23) + nanoseconds(5)) == "1969-12-31T23:00:00.000000005");
    CHECK(timespan_text(seconds(5)) == "0D00:00:05.000000000");
    CHECK(timespan_text(-(days(2) + nanoseconds(3))) == "-2D00:00:00.000000003");
    CHECK(parse_timespan("0D00:00:05.000000000").value() == seconds(5));
    CHECK(parse_timespan("-2D00:00:00.000000003").value() == -(days(2) + nanoseconds(3)));
    CHECK(parse_timespan("00:01:00").value() == minutes(1));
    CHECK_FALSE(parse_timespan("5s"));
    CHECK_FALSE(parse_timespan("xD00:00:00"));
}

TEST_CASE("sm status: a table of mount and params, and its JSON") {
    const std::vector<mount_status> s{{"rdb", make_signal(stream_signal{at(1), at(2), at(3), at(4), 5})}, {"hdb", std::nullopt}};
    auto back = status_from_k(status_to_k(s));
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[0].mount == "rdb");
    CHECK((*back)[0].params == s[0].params);
    CHECK(!(*back)[1].params);
    auto json = status_from_json(status_to_json(s));
    REQUIRE(json);
    CHECK((*json)[0].params == s[0].params);
    CHECK(!(*json)[1].params);
    CHECK(status_from_k(kdb::new_long(1)).error() == sm::errc::bad_response);
    CHECK(status_from_json(R"([{"params":{}}])").error() == sm::errc::bad_response);
    CHECK(status_from_json(R"([{"mount":"x","params":{"ts":1}}])").error() == sm::errc::bad_signal);
}
