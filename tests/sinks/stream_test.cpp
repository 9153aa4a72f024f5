// The stream's records: host stamp, consecutive sequence numbers, kernel-side losses as
// gap records, and a full sink queue turned into one gap record that replaces exactly
// the sequence numbers it lost.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <ebpfpub/sinks/ledger.hpp>
#include <ebpfpub/sinks/stream.hpp>
#include <fstream>
#include <mutex>

#include "sinks/transport.hpp"
#include "support/child.hpp"

using ebpfpub::sinks::stream;
using ebpfpub::sinks::stream_options;
namespace t = ebpfpub::test;

namespace {

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

stream test_stream() {
  auto s = stream::create(stream_options{.host_name = "h1", .boot_id = "b1"});
  REQUIRE(s);
  return std::move(*s);
}

ebpfpub::statistics lost(std::uint64_t output_full, std::uint64_t no_storage) {
  ebpfpub::statistics st;
  ebpfpub::syscall_statistics s;
  s.syscall = "openat";
  s.lost_output_full = output_full;
  s.lost_no_storage = no_storage;
  st.by_syscall.push_back(s);
  return st;
}

// A transport that holds its first send until released, so a test can fill the queue.
class gated_transport final : public ebpfpub::sinks::detail::transport {
 public:
  struct gate {
    std::mutex m;
    std::condition_variable cv;
    bool entered = false, open = false;
    std::vector<std::string> sent;
  };
  explicit gated_transport(gate& g) : g_(g) {}
  void send(std::vector<ebpfpub::sinks::outgoing_record>& batch,
            const std::atomic<bool>&) override {
    std::unique_lock lock(g_.m);
    g_.entered = true;
    g_.cv.notify_all();
    g_.cv.wait(lock, [&] { return g_.open; });
    for (auto& r : batch) g_.sent.push_back(r.json);
    log_->delivered(batch.size());
  }

 private:
  gate& g_;
};

}  // namespace

TEST_CASE(
    "a stream stamps host and boot id, numbers records from 0, and turns each growth of "
    "a loss counter into one gap record",
    "[sinks]") {
  t::scratch_dir dir;
  auto s = test_stream();
  REQUIRE(s.add_sink("file://" + (dir.path / "out.jsonl").string()));
  s.publish_json(R"({"n":0})");
  s.publish_json(R"({"n":1})");
  s.account(lost(5, 0));
  s.account(lost(5, 0));  // unchanged counters: nothing new
  s.publish_json(R"({"n":2})");
  s.account(lost(7, 1));
  REQUIRE(s.flush(std::chrono::seconds(5)));
  const std::vector<std::string> expected = {
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":0,"event":{"n":0}})",
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":1,"event":{"n":1}})",
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":2,"gap":{"count":5,"reason":"output_full","syscall":"openat"}})",
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":3,"event":{"n":2}})",
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":4,"gap":{"count":2,"reason":"output_full","syscall":"openat"}})",
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":5,"gap":{"count":1,"reason":"no_storage","syscall":"openat"}})",
  };
  CHECK(lines_of(dir.path / "out.jsonl") == expected);
  CHECK(s.stats().events == 3);
  CHECK(s.stats().gap_records == 3);
  CHECK(s.stats().gap_events == 8);
  CHECK(s.sink_stats().at(0).second.delivered == 6);
}

TEST_CASE(
    "records that do not fit a sink's queue become one gap record that takes the seq of "
    "the last one lost and names the first",
    "[sinks]") {
  gated_transport::gate g;
  ebpfpub::sinks::sink_options options;
  options.queue_records = 4;
  auto sink = std::make_unique<ebpfpub::sinks::sink>("test://gated", options,
                                                     std::make_unique<gated_transport>(g));
  auto* raw = sink.get();
  auto s = test_stream();
  s.add_sink(std::move(sink));
  s.publish_json(R"({"timestamp":0,"syscall":"x"})");
  {
    // The sink's thread took record 0 and waits in send(): the queue is empty again.
    std::unique_lock lock(g.m);
    g.cv.wait(lock, [&] { return g.entered; });
  }
  for (int n = 1; n <= 9; ++n)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"x"}})", n));  // 1-4 fit, 5-9 do not
  s.account(lost(3, 0));                                                    // seq 10, lost too
  {
    std::lock_guard lock(g.m);
    g.open = true;
  }
  g.cv.notify_all();
  REQUIRE(s.flush(std::chrono::seconds(5)));
  REQUIRE(g.sent.size() == 6);
  CHECK(g.sent[4] ==
        R"({"host":{"name":"h1","boot_id":"b1"},"seq":4,"event":{"timestamp":4,"syscall":"x"}})");
  // Five events and a gap record of three calls were dropped: eight calls in all.
  CHECK(
      g.sent[5] ==
      R"({"host":{"name":"h1","boot_id":"b1"},"seq":10,"gap":{"count":8,"reason":"sink_queue_full","seq_first":5,"records":6}})");
  const auto st = raw->stats();
  CHECK(st.offered == 11);
  CHECK(st.delivered == 6);
  CHECK(st.dropped == 6);
  CHECK(st.dropped_events == 8);
  CHECK(st.gap_records == 1);

  // A consumer sees every seq accounted for, and received + gaps == calls made (10 + 3).
  ebpfpub::sinks::ledger book;
  for (const auto& line : g.sent) book.add(line);
  const auto& h = book.hosts().at("h1 b1");
  CHECK(h.complete());
  CHECK(h.events + h.gap_count == 13);
}

TEST_CASE("sink URLs that cannot work are refused with the reason", "[sinks]") {
  using ebpfpub::sinks::sink;
  auto unknown = sink::open("ftp://host/x");
  REQUIRE(!unknown);
  CHECK(unknown.error().message() ==
        "sink ftp://host/x: unknown scheme 'ftp'; use file://, nats:// or kafka://");
  auto number = sink::open("file:///tmp/x.jsonl?queue=many");
  REQUIRE(!number);
  CHECK(number.error().message() ==
        "sink URL 'file:///tmp/x.jsonl?queue=many': queue=many is not a non-negative integer");
  auto no_path = sink::open("nats://127.0.0.1:1");
  REQUIRE(!no_path);
  CHECK(no_path.error().message().find("no path") != std::string::npos);
  auto closed = sink::open("nats://127.0.0.1:1/subject");
  REQUIRE(!closed);
  CHECK(closed.error().message().find("cannot connect to 127.0.0.1:1") != std::string::npos);
}
