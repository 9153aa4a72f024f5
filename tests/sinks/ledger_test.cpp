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
      R"({"host":{"name":"a","boot_id":"b"},"seq":7,"gap":{"count":9,"reason":"sink_queue_full","seq_first":5,"records":3}})");  // within 4..8: the same loss twice
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

TEST_CASE(
    "a record given up by its sink that arrives after all is counted once, before or "
    "after the gap record that replaced it",
    "[sinks]") {
  const std::string gap =
      R"({"host":{"name":"a","boot_id":"b"},"seq":6,"gap":{"count":6,"reason":"sink_delivery_failed","seq_first":2,"records":5}})";
  const std::string kernel_gap =
      R"({"host":{"name":"a","boot_id":"b"},"seq":4,"gap":{"count":2,"reason":"output_full","syscall":"openat"}})";
  // Calls made: seqs 0-6 are six events and one kernel gap of 2: 8 calls.
  ledger before, after;
  for (std::uint64_t seq : {0, 1, 3}) before.add(event("a", seq));
  before.add(kernel_gap);
  before.add(gap);  // 2, 3, 4, 5, 6 given up; 3 and 4 came anyway
  after.add(gap);
  for (std::uint64_t seq : {0, 1, 3}) after.add(event("a", seq));
  after.add(kernel_gap);
  after.add(event("a", 3));  // a true duplicate
  for (const auto* book : {&before, &after}) {
    const auto& h = book->hosts().at("a b");
    CHECK(h.events == 3);
    CHECK(h.gap_count == 5);  // 2 (output_full) + 3 (seqs 2, 5, 6)
    CHECK(h.gaps_by_reason.at("output_full") == 2);
    CHECK(h.gaps_by_reason.at("sink_delivery_failed") == 3);
    CHECK(h.events + h.gap_count == 8);
    CHECK(h.complete());
  }
  CHECK(after.hosts().at("a b").duplicates == 1);
}
