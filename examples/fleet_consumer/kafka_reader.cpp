// Reads every partition of a Kafka topic from its beginning (assigned, not a group: the
// consumer reads all of it, every time, without a rebalance).

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <memory>

#include "reader.hpp"

namespace fleet_consumer {

std::string read_kafka(const std::string& brokers, const std::string& topic,
                       const read_options& options, const on_payload& handle) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", brokers},
      {"group.id", fmt::format("fleet_consumer_{}", ::getpid())},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "false"},
  };
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return fmt::format("{}={}: {}", k, v, err);
    }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return fmt::format("cannot create a Kafka consumer: {}", err);
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> owner(rk, &rd_kafka_destroy);
  rd_kafka_poll_set_consumer(rk);

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  // The topic's partitions (the metadata may take a moment while brokers come up).
  int partitions = 0;
  while (partitions == 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        partitions = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
  }
  if (partitions == 0) return fmt::format("topic {} not found on {}", topic, brokers);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const auto assigned = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("cannot read {}: {}", topic, rd_kafka_err2str(assigned));

  std::string failure;
  std::uint64_t records = 0;
  auto last = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) {
      if (std::chrono::steady_clock::now() - last >= options.idle) break;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      records += handle(std::string_view(static_cast<const char*>(m->payload), m->len));
      last = std::chrono::steady_clock::now();
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      failure = fmt::format("reading {}: {}", topic, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    if (!failure.empty() || (options.stop_after > 0 && records >= options.stop_after)) break;
  }
  rd_kafka_consumer_close(rk);
  return failure;
}

}  // namespace fleet_consumer
