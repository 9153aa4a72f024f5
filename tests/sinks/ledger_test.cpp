// The consumer's ledger: records from many hosts, out of order, twice, with gaps.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <ebpfpub/sinks/ledger.hpp>

using ebpfpub::sinks::ledger;
using ebpfpub::sinks::parse_record;

namespace {

std::string event(std::string_view host, std::uint64_t seq) {
  return fmt::format(
      R"({{"host":{{"name":"{}","boot_id":"b"}},"seq":{},"event":{{"timestamp":{},"syscall":"getppid","process_id":7}}}})",
      host, seq, 1000 + seq);
}

}  // namespace

TEST_CASE(
    "the ledger separates hosts, drops a record seen twice, and counts gap ranges as "
    "accounted for",
    "[sinks]") {
  ledger book;
  for (std::uint64_t seq : {0, 2, 1, 1, 3, 9}) book.add(event("a", seq));
  book.add(
      R"({"host":{"name":"a","boot_id":"b"},"seq":8,"gap":{"count":12,"reason":"sink_queue_full","seq_first":4,"records":5}})");
  book.add(
      R"({"host":{"name":"a","boot_id":"b"},"seq":10,"gap":{"count":3,"reason":"output_full","syscall":"openat"}})");
  book.add(
      R"({"host":{"name":"a","boot_id":"b"},"seq":6,"gap":{"count":1,"reason":"sink_queue_full"}})");  // inside 4..8: twice
  for (std::uint64_t seq : {0, 1, 5}) book.add(event("c", seq));
  book.add("not json");
  book.add(R"({"host":{"name":"c","boot_id":"b"},"seq":-1,"event":{}})");

  REQUIRE(book.hosts().size() == 2);
  const auto& a = book.hosts().at("a b");
  CHECK(a.events == 5);
  CHECK(a.duplicates == 2);
  CHECK(a.gap_records == 2);
  CHECK(a.gap_count == 15);
  CHECK(a.gaps_by_reason.at("sink_queue_full") == 12);
  CHECK(a.gaps_by_reason.at("output_full") == 3);
  CHECK(a.last_seq == 10);
  CHECK(a.complete());
  const auto& c = book.hosts().at("c b");
  CHECK(!c.complete());
  CHECK(c.missing() == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2, 4}});
  CHECK(book.malformed() == 2);
}

TEST_CASE("a malformed record is refused with the field that is wrong", "[sinks]") {
  const auto message = [](std::string_view text) {
    auto r = parse_record(text);
    REQUIRE(!r);
    return r.error().message();
  };
  CHECK(message("[1]") == "stream record: not a JSON object");
  CHECK(message(R"({"seq":1,"event":{}})") == "stream record: no \"host\" object");
  CHECK(message(R"({"host":{"name":"a"},"seq":1})") == "stream record: host has no \"boot_id\"");
  CHECK(message(R"({"host":{"name":"a","boot_id":"b"},"seq":"1","event":{}})") ==
        "stream record: record.seq is not an unsigned integer");
  CHECK(message(R"({"host":{"name":"a","boot_id":"b"},"seq":1})") ==
        "stream record: a record holds exactly one of \"event\" and \"gap\"");
  CHECK(message(R"({"host":{"name":"a","boot_id":"b"},"seq":1,"event":{"syscall":"x"}})") ==
        "stream record: event has no \"timestamp\"");
  CHECK(
      message(
          R"({"host":{"name":"a","boot_id":"b"},"seq":1,"gap":{"count":1,"reason":"x","seq_first":2}})") ==
      "stream record: gap.seq_first is after the gap's seq");
  auto ok = parse_record(event("a", 4));
  REQUIRE(ok);
  CHECK(ok->seq == 4);
  CHECK(ok->timestamp == 1004);
  CHECK(ok->process_id == 7);
}
