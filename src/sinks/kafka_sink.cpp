// kafka://host:port[,host:port]/topic: librdkafka's idempotent producer, one record per
// message keyed by the host name (one host's records stay in one partition, in order),
// and a delivery report for each.

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <mutex>

#include "sinks/transport.hpp"

namespace ebpfpub::sinks::detail {
namespace {

// The opaque of each message: what its delivery report settles.
struct delivery {
  lost_span span;
};

class kafka_transport final : public transport {
 public:
  ~kafka_transport() override {
    if (rk_ != nullptr) {
      rd_kafka_flush(rk_, 1000);
      if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
      rd_kafka_destroy(rk_);  // reports the rest as failed deliveries (on_delivery)
    }
  }

  expected<void> create(const url_parts& u, std::string_view url, const sink_options& options) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const auto set = [&](const std::string& key, const std::string& value) -> expected<void> {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
        return error(errc::invalid_argument,
                     fmt::format("sink {}: {}={}: {}", url, key, value, err));
      return {};
    };
    std::vector<std::pair<std::string, std::string>> settings = {
        {"bootstrap.servers", u.authority},
        // Idempotence: a retried produce is written once and in order per partition.
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        {"message.send.max.retries", std::to_string(options.retries)},
        {"retry.backoff.ms", "100"},
        {"message.timeout.ms", std::to_string(options.ack_timeout.count() * (options.retries + 1))},
    };
    // Any other query key is a librdkafka property (docs/sinks.md).
    for (const auto& [k, v] : u.query)
      if (k != "queue" && k != "retries" && k != "ack_timeout_ms") settings.emplace_back(k, v);
    for (const auto& [k, v] : settings) {
      if (auto ok = set(k, v); !ok) {
        rd_kafka_conf_destroy(conf);
        return ok;
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &kafka_transport::on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return error(errc::system,
                   fmt::format("sink {}: cannot create the Kafka producer: {}", url, err));
    }
    topic_ = rd_kafka_topic_new(rk_, u.path.c_str(), nullptr);
    if (topic_ == nullptr)
      return error(errc::system, fmt::format("sink {}: topic {}: {}", url, u.path,
                                             rd_kafka_err2str(rd_kafka_last_error())));
    return {};
  }

  void bind(const host_identity& host) override { key_ = host.name; }

  void send(std::vector<outgoing_record>& batch, const std::atomic<bool>& stopping) override {
    for (auto& r : batch) {
      auto* d = new delivery{lost_span::of(r)};
      for (;;) {
        const int rc = rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                        r.json.data(), r.json.size(), key_.data(), key_.size(), d);
        if (rc == 0) {
          ++pending_;
          break;
        }
        const auto e = rd_kafka_last_error();
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping) {
          // The client's own queue is full: serve delivery reports, then try again.
          log_->retried(1);
          rd_kafka_poll(rk_, 10);
          continue;
        }
        log_->lost(d->span, "sink_delivery_failed");
        delete d;
        break;
      }
    }
    rd_kafka_poll(rk_, 0);
  }

  void service() override { rd_kafka_poll(rk_, 0); }

  std::size_t pending() const override { return pending_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<kafka_transport*>(opaque);
    auto* d = static_cast<delivery*>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      self->log_->delivered(1);
    else
      self->log_->lost(d->span, "sink_delivery_failed");
    delete d;
    --self->pending_;
    self->log_->wake();
  }

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  std::string key_;
  // Delivery reports run inside rd_kafka_poll/flush, on the sink's thread; pending() is
  // read by flush() on the caller's.
  std::atomic<std::size_t> pending_ = 0;
};

}  // namespace

expected<std::unique_ptr<transport>> open_kafka(const url_parts& u, std::string_view url,
                                                const sink_options& options) {
  if (u.authority.empty() || u.path.empty())
    return error(errc::invalid_argument,
                 fmt::format("sink URL '{}': expected kafka://host:port[,host:port]/topic", url));
  auto t = std::make_unique<kafka_transport>();
  if (auto ok = t->create(u, url, options); !ok) return ok.error();
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace ebpfpub::sinks::detail
