

// End to end through librdkafka's mock cluster: a MOCK Kafka broker (librdkafka's
// protocol-level implementation, listening on loopback), not a real Kafka; Debian has no
// Kafka broker package. The traced child's events go through the Kafka sink's idempotent
// producer and are read back by fleet_consumer over TCP.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "sinks/traced_child.hpp"

using ebpfpub::sinks::stream;
using ebpfpub::sinks::stream_options;
using json = nlohmann::json;
namespace t = ebpfpub::test;

namespace {

// A mock cluster lives inside an rd_kafka_t of this process; its brokers listen on
// 127.0.0.1 for any client, here the sink and the fleet_consumer process.
class mock_cluster {
 public:
  explicit mock_cluster(int brokers) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // It only hosts the cluster: no warning that it has no bootstrap.servers of its own.
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) FAIL(err);
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (mc_ == nullptr) FAIL("cannot create the mock cluster");
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  rd_kafka_mock_cluster_t* get() { return mc_; }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
};

std::string kafka_topic(mock_cluster& cluster) {
  const std::string topic = "ebpfpub-" + t::random_name();
  REQUIRE(rd_kafka_mock_topic_create(cluster.get(), topic.c_str(), 3, 1) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  return topic;
}

json run_to_kafka(mock_cluster& cluster, const std::string& topic, std::uint64_t calls,
                  ebpfpub::sinks::sink_statistics& stats) {
  const std::string url = "kafka://" + cluster.bootstraps() + "/" + topic;
  auto s = stream::create(stream_options{.host_name = "kafka-" + t::random_name()});
  if (!s) FAIL(s.error().what());
  REQUIRE(s->add_sink(url));
  auto child = t::getppid_child(calls);
  t::traced_child traced(child, *s);
  traced.run();
  REQUIRE(traced.published() == calls);
  REQUIRE(s->flush(std::chrono::seconds(20)));
  stats = s->sink_stats().at(0).second;
  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 1);
  CHECK(consumed.status == 0);
  auto h = json::parse(consumed.lines[0]);
  CHECK(h["host"] == s->host().name);
  return h;
}

}  // namespace

TEST_CASE(
    "a child's 2000 getppid calls reach a topic of the mock Kafka cluster as exactly 2000 "
    "events with no gap",
    "[sinks][kafka]") {
  mock_cluster cluster(3);
  const auto topic = kafka_topic(cluster);
  ebpfpub::sinks::sink_statistics stats;
  const auto h = run_to_kafka(cluster, topic, 2000, stats);
  CHECK(stats.delivered == 2000);
  CHECK(stats.dropped == 0);
  CHECK(h["events"] == 2000);
  CHECK(h["events_by_syscall"]["getppid"] == 2000);
  CHECK(h["gap_count"] == 0);
  CHECK(h["duplicates"] == 0);
  CHECK(h["last_seq"] == 1999);
  CHECK(h["complete"] == true);
}

TEST_CASE("each Kafka message is one record keyed by the host name, as kcat reads them",
          "[sinks][kafka]") {
  mock_cluster cluster(1);
  const auto topic = kafka_topic(cluster);
  const std::string host = "keyed-" + t::random_name();
  {
    auto s = stream::create(stream_options{.host_name = host, .boot_id = "b"});
    REQUIRE(s);
    REQUIRE(s->add_sink("kafka://" + cluster.bootstraps() + "/" + topic));
    for (int i = 0; i < 20; ++i)
      s->publish_json(fmt::format(R"({{"timestamp":{},"syscall":"getppid"}})", i));
    REQUIRE(s->flush(std::chrono::seconds(20)));
  }
  // kcat: -C consume, -e exit at the end, -f key TAB value.
  const std::string command = fmt::format("kcat -b {} -t {} -C -e -q -f '%k\\t%s\\n' 2>/dev/null",
                                          cluster.bootstraps(), topic);
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::string> lines;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) lines.emplace_back(line);
  REQUIRE(::pclose(p) == 0);
  REQUIRE(lines.size() == 20);
  // One key, so one partition: the 20 messages in the order published.
  for (std::size_t seq = 0; seq < lines.size(); ++seq)
    CHECK(lines[seq] ==
          fmt::format("{}\t{{\"host\":{{\"name\":\"{}\",\"boot_id\":\"b\"}},\"seq\":{},"
                      "\"event\":{{\"timestamp\":{},\"syscall\":\"getppid\"}}}}\n",
                      host, host, seq, seq));
}

TEST_CASE(
    "produce requests refused by the mock Kafka cluster are retried by the idempotent "
    "producer: every event once, none twice",
    "[sinks][kafka]") {
  mock_cluster cluster(3);
  const auto topic = kafka_topic(cluster);
  // ApiKey 0 is Produce: the next five produce requests fail with retriable errors.
  rd_kafka_mock_push_request_errors(
      cluster.get(), 0, 5, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  ebpfpub::sinks::sink_statistics stats;
  const auto h = run_to_kafka(cluster, topic, 1500, stats);
  CHECK(stats.delivered == 1500);
  CHECK(stats.dropped == 0);
  CHECK(h["events"] == 1500);
  CHECK(h["duplicates"] == 0);
  CHECK(h["gap_count"] == 0);
  CHECK(h["complete"] == true);
}

TEST_CASE(
    "with the mock Kafka leader stalled mid-stream, received events plus gap "
    "counts equal the calls made",
    "[sinks][kafka]") {
  mock_cluster cluster(3);
  const auto topic = kafka_topic(cluster);
  // Every partition led by broker 1, so the test knows which broker to stall.
  for (int p = 0; p < 3; ++p)
    REQUIRE(rd_kafka_mock_partition_set_leader(cluster.get(), topic.c_str(), p, 1) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::string options;
  bool expect_gaps = false;
  // Broker 1 stalls for a second: every request waits 1 s for its answer. (Killing it is
  // not possible here: librdkafka 2.0.2's mock aborts on rd_kafka_mock_broker_set_down.)
  const auto fault = [&] { rd_kafka_mock_broker_set_rtt(cluster.get(), 1, 1000); };
  const auto heal = [&] { rd_kafka_mock_broker_set_rtt(cluster.get(), 1, 0); };
  SECTION("stalled 1 s with the default timeouts: delivered late, nothing lost") {}
  SECTION(
      "stalled 1 s with a 200 ms delivery timeout: what the producer gives up arrives as "
      "sink_delivery_failed gaps") {
    options = "?ack_timeout_ms=100&retries=1";  // message.timeout.ms = 200
    expect_gaps = true;
  }
  const std::string url = "kafka://" + cluster.bootstraps() + "/" + topic;
  auto s = stream::create(stream_options{.host_name = "fault-" + t::random_name()});
  REQUIRE(s);
  REQUIRE(s->add_sink(url + options));
  constexpr std::uint64_t calls = 4000;
  auto child = t::getppid_child(calls, 100, std::chrono::milliseconds(5));
  t::traced_child traced(child, *s);
  bool faulted = false, healed = false;
  std::chrono::steady_clock::time_point fault_at;
  traced.run([&](std::uint64_t published) {
    if (!faulted && published >= calls / 4) {
      fault();
      faulted = true;
      fault_at = std::chrono::steady_clock::now();
    } else if (faulted && !healed &&
               std::chrono::steady_clock::now() - fault_at > std::chrono::milliseconds(1000)) {
      heal();
      healed = true;
    }
  });
  REQUIRE(faulted);
  if (!healed) {
    std::this_thread::sleep_until(fault_at + std::chrono::milliseconds(1000));
    heal();
  }
  REQUIRE(s->flush(std::chrono::seconds(30)));
  const auto stats = s->sink_stats().at(0).second;
  INFO("delivered " << stats.delivered << " dropped " << stats.dropped);

  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 1);
  INFO(consumed.lines[0]);
  const auto h = json::parse(consumed.lines[0]);
  const auto events = h["events"].get<std::uint64_t>(), gaps = h["gap_count"].get<std::uint64_t>();
  CHECK(events + gaps == calls);
  CHECK(h["complete"] == true);
  CHECK(consumed.status == 0);
  if (expect_gaps) {
    CHECK(stats.dropped > 0);
    CHECK(gaps > 0);
    CHECK(h["gaps"]["sink_delivery_failed"] == gaps);
  } else {
    CHECK(stats.dropped == 0);
    CHECK(gaps == 0);
    CHECK(h["duplicates"] == 0);
  }
}

TEST_CASE(
    "a gap record that the mock Kafka cluster refuses in turn is replaced by one over the "
    "same records: the consumer accounts for every seq once",
    "[sinks][kafka]") {
  mock_cluster cluster(1);
  const auto topic = kafka_topic(cluster);
  const std::string url = "kafka://" + cluster.bootstraps() + "/" + topic;
  auto s = stream::create(stream_options{.host_name = "regap-" + t::random_name()});
  REQUIRE(s);
  REQUIRE(s->add_sink(url + "?retries=1"));
  for (int i = 0; i < 10; ++i)
    s->publish_json(fmt::format(R"({{"timestamp":{},"syscall":"getppid"}})", i));
  REQUIRE(s->flush(std::chrono::seconds(20)));
  // ApiKey 0 is Produce. The next two produce requests fail for good: the first carries
  // records 10-19, the second the gap record that replaces them. The third, with the gap
  // record for that gap record, goes through; it must cover 10-19, not its own seq alone.
  rd_kafka_mock_push_request_errors(cluster.get(), 0, 2, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  for (int i = 10; i < 20; ++i)
    s->publish_json(fmt::format(R"({{"timestamp":{},"syscall":"getppid"}})", i));
  REQUIRE(s->flush(std::chrono::seconds(20)));
  const auto stats = s->sink_stats().at(0).second;
  CHECK(stats.delivered == 11);  // records 0-9 and the last gap record
  CHECK(stats.dropped == 10);  // records 10-19
  CHECK(stats.dropped_events == 10);
  CHECK(stats.gap_records == 2);
  CHECK(stats.gap_records_lost == 1);

  const auto consumed = t::run_consumer(url);
  REQUIRE(consumed.lines.size() == 1);
  INFO(consumed.lines[0]);
  const auto h = json::parse(consumed.lines[0]);
  CHECK(h["events"] == 10);
  CHECK(h["gap_count"] == 10);
  CHECK(h["gaps"]["sink_delivery_failed"] == 10);
  CHECK(h["last_seq"] == 19);
  CHECK(h["complete"] == true);
}
