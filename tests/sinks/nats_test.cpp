// End to end through a real nats-server with JetStream (started by each test on a free
// port): a child's known calls, traced, stamped, published with acknowledgements, read
// back by fleet_consumer, and accounted for exactly.

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sinks/nats_server.hpp"
#include "sinks/traced_child.hpp"

using ebpfpub::sinks::stream;
using ebpfpub::sinks::stream_options;
using json = nlohmann::json;
namespace t = ebpfpub::test;

namespace {

stream make_stream(std::string host) {
  auto s =
      stream::create(stream_options{.host_name = std::move(host), .boot_id = t::random_name()});
  if (!s) FAIL(s.error().what());
  return std::move(*s);
}

}  // namespace

TEST_CASE(
    "a child's 2000 getppid calls reach a JetStream subject as exactly 2000 events, in "
    "order, with no gap",
    "[sinks][nats]") {
  t::nats_server server;
  const std::string url = "nats://" + server.address() + "/ebpfpub.test." + t::random_name();
  auto s = make_stream("host-" + t::random_name());
  REQUIRE(s.add_sink(url));
  auto child = t::getppid_child(2000);
  t::traced_child traced(child, s);
  traced.run();
  REQUIRE(traced.published() == 2000);
  REQUIRE(s.flush(std::chrono::seconds(10)));
  const auto stats = s.sink_stats().at(0).second;
  CHECK(stats.delivered == 2000);
  CHECK(stats.dropped == 0);

  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 1);
  const auto h = json::parse(consumed.lines[0]);
  CHECK(h["host"] == s.host().name);
  CHECK(h["events"] == 2000);
  CHECK(h["events_by_syscall"]["getppid"] == 2000);
  CHECK(h["gap_count"] == 0);
  CHECK(h["duplicates"] == 0);
  CHECK(h["first_seq"] == 0);
  CHECK(h["last_seq"] == 1999);
  CHECK(h["complete"] == true);
  CHECK(consumed.status == 0);
}

TEST_CASE(
    "with the broker killed and restarted mid-stream, received events plus gap counts "
    "equal the calls made and no event counts twice",
    "[sinks][nats]") {
  t::nats_server server;
  const std::string url = "nats://" + server.address() + "/ebpfpub.crash." + t::random_name();
  bool overflow = false;
  std::string options = "?ack_timeout_ms=500";
  SECTION("the client's reconnect buffer bridges the outage") {}
  SECTION("a queue of 1000 records and no reconnect buffer cannot: gap records say what was lost") {
    overflow = true;
    options += "&queue=1000&reconnect_buffer_bytes=1";
  }
  auto s = make_stream("crash-" + t::random_name());
  REQUIRE(s.add_sink(url + options));
  constexpr std::uint64_t calls = 6000;
  auto child = t::getppid_child(calls, 100, std::chrono::milliseconds(5));
  t::traced_child traced(child, s);
  bool killed = false, restarted = false;
  std::chrono::steady_clock::time_point killed_at;
  traced.run([&](std::uint64_t published) {
    if (!killed && published >= calls / 4) {
      server.stop(SIGKILL);
      killed = true;
      killed_at = std::chrono::steady_clock::now();
    } else if (killed && !restarted &&
               std::chrono::steady_clock::now() - killed_at > std::chrono::milliseconds(600)) {
      server.start();
      restarted = true;
    }
  });
  REQUIRE(killed);
  if (!restarted) {
    std::this_thread::sleep_until(killed_at + std::chrono::milliseconds(600));
    server.start();
  }
  REQUIRE(traced.published() == calls);
  REQUIRE(s.flush(std::chrono::seconds(20)));
  const auto stats = s.sink_stats().at(0).second;
  INFO("delivered " << stats.delivered << " retried " << stats.retried << " dropped "
                    << stats.dropped);
  // The outage was felt: sends were repeated (and, with no buffer, records dropped).
  CHECK(stats.retried > 0);

  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 1);
  const auto h = json::parse(consumed.lines[0]);
  INFO(consumed.lines[0]);
  const auto events = h["events"].get<std::uint64_t>(), gaps = h["gap_count"].get<std::uint64_t>();
  CHECK(events + gaps == calls);
  CHECK(h["events_by_syscall"]["getppid"] == events);
  CHECK(h["complete"] == true);
  CHECK(consumed.status == 0);
  // What arrived agrees with the sink's own account.
  CHECK(gaps == stats.dropped_events);
  if (overflow) {
    CHECK(gaps > 0);
    CHECK(h["gaps"]["sink_queue_full"] == gaps);
  } else {
    CHECK(gaps == 0);
  }
}

TEST_CASE("two tracers publishing to one subject as two hosts are told apart by the consumer",
          "[sinks][nats]") {
  t::nats_server server;
  const std::string url = "nats://" + server.address() + "/ebpfpub.fleet." + t::random_name();
  const std::string tag = t::random_name(6);
  auto a = make_stream("a-" + tag);
  auto b = make_stream("b-" + tag);
  REQUIRE(a.add_sink(url));
  REQUIRE(b.add_sink(url));
  auto child_a = t::getppid_child(300);
  auto child_b = t::getppid_child(500);
  t::traced_child traced_a(child_a, a);
  t::traced_child traced_b(child_b, b);
  traced_a.run();
  traced_b.run();
  REQUIRE(a.flush(std::chrono::seconds(10)));
  REQUIRE(b.flush(std::chrono::seconds(10)));

  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 2);
  std::map<std::string, json> hosts;
  for (const auto& line : consumed.lines) {
    auto h = json::parse(line);
    hosts[h["host"].get<std::string>()] = h;
  }
  REQUIRE(hosts.count("a-" + tag) == 1);
  REQUIRE(hosts.count("b-" + tag) == 1);
  CHECK(hosts["a-" + tag]["events"] == 300);
  CHECK(hosts["a-" + tag]["last_seq"] == 299);
  CHECK(hosts["b-" + tag]["events"] == 500);
  CHECK(hosts["b-" + tag]["last_seq"] == 499);
  CHECK(hosts["a-" + tag]["boot_id"] != hosts["b-" + tag]["boot_id"]);
  for (auto& [name, h] : hosts) {
    CHECK(h["complete"] == true);
    CHECK(h["gap_count"] == 0);
  }
  CHECK(consumed.status == 0);
}

TEST_CASE(
    "fleet_consumer names the missing sequence numbers and exits 1 when a host's stream "
    "has a hole",
    "[sinks]") {
  t::scratch_dir dir;
  const auto path = dir.path / "hole.jsonl";
  {
    std::ofstream out(path);
    for (int seq : {0, 1, 4})
      out << R"({"host":{"name":"h","boot_id":"b"},"seq":)" << seq
          << R"(,"event":{"timestamp":1,"syscall":"getppid"}})" << '\n';
  }
  const auto consumed = t::run_consumer("file://" + path.string());
  CHECK(consumed.status == 1);
  REQUIRE(consumed.lines.size() == 1);
  const auto h = json::parse(consumed.lines[0]);
  CHECK(h["complete"] == false);
  CHECK(h["missing"] == json::parse("[[2,3]]"));
  CHECK(h["events"] == 3);
}
