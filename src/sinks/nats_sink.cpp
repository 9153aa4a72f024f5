// nats://host:port/subject: JetStream, asynchronous publish with acknowledgements.
// Records travel in batches (several whole records per message, one per line): one
// acknowledgement per batch is what lets a single core reach hundreds of thousands of
// records a second (measured in benchmarks/sinks); each batch carries a Nats-Msg-Id so a
// resend after a lost acknowledgement is stored once by the server.

#include <fmt/format.h>
#include <nats/nats.h>

#include <mutex>
#include <thread>
#include <unordered_map>

#include "sinks/transport.hpp"

namespace ebpfpub::sinks::detail {
namespace {

std::string nats_text(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr && *last != '\0' ? last : natsStatus_GetText(s);
}

class nats_transport final : public transport {
 public:
  nats_transport(std::string subject, std::size_t batch_bytes, int reconnect_buffer,
                 sink_options options)
      : subject_(std::move(subject)),
        batch_bytes_(batch_bytes),
        reconnect_buffer_(reconnect_buffer),
        options_(options) {}

  ~nats_transport() override {
    if (nc_ != nullptr) natsConnection_Close(nc_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
    for (auto* m : resend_) natsMsg_Destroy(m);
  }

  expected<void> connect(const std::string& server, const std::string& stream_name,
                         std::string_view url) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, ("nats://" + server).c_str());
    // Reconnect for ever, quickly; what is published meanwhile waits in the client's
    // reconnect buffer, then in our queue, and what does not fit becomes a gap record.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts, reconnect_buffer_);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    // Our messages are batches already: write each at once rather than let the client's
    // flusher wait to gather more (that wait showed as milliseconds of latency).
    if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK)
      return error(errc::system, fmt::format("sink {}: cannot connect to {}: {}; is nats-server "
                                             "running there (with JetStream: -js)?",
                                             url, server, nats_text(s)));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = options_.ack_timeout.count();
    jo.PublishAsync.AckHandler = &nats_transport::on_ack;
    jo.PublishAsync.AckHandlerClosure = this;
    // At most this many batches unacknowledged (each up to batch_bytes).
    jo.PublishAsync.MaxPending = 256;
    jo.PublishAsync.StallWait = 50;
    s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK)
      return error(errc::system,
                   fmt::format("sink {}: no JetStream context: {}", url, nats_text(s)));

    // The stream is created when absent: file storage, so a restarted server keeps it.
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {subject_.c_str()};
    cfg.Name = stream_name.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    if (s != NATS_OK && jerr != JSStreamNameExistErr && jerr != JSStreamSubjectOverlapErr)
      return error(
          errc::system,
          fmt::format("sink {}: cannot create JetStream stream {} for subject {}: {} (code "
                      "{}); is JetStream enabled on the server (nats-server -js)?",
                      url, stream_name, subject_, nats_text(s), static_cast<int>(jerr)));
    return {};
  }

  void bind(const host_identity& host) override {
    id_prefix_ = fmt::format("{}/{}/", host.name, host.boot_id);
  }

  void send(std::vector<outgoing_record>& batch, const std::atomic<bool>& stopping) override {
    std::size_t i = 0;
    while (i < batch.size()) {
      payload_.clear();
      flight f;
      for (; i < batch.size(); ++i) {
        if (!f.records.empty() && payload_.size() + batch[i].json.size() + 1 > batch_bytes_) break;
        payload_ += batch[i].json;
        payload_ += '\n';
        f.records.push_back(lost_span::of(batch[i]));
      }
      natsMsg* m = nullptr;
      if (natsMsg_Create(&m, subject_.c_str(), nullptr, payload_.data(),
                         static_cast<int>(payload_.size())) != NATS_OK) {
        give_up(f);
        continue;
      }
      const auto id =
          fmt::format("{}{}-{}", id_prefix_, f.records.front().last, f.records.back().last);
      natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
      {
        std::lock_guard lock(mutex_);
        flight_.emplace(m, std::move(f));
      }
      publish(m, stopping);
    }
  }

  void service() override {
    std::vector<natsMsg*> again;
    {
      std::lock_guard lock(mutex_);
      again.swap(resend_);
    }
    static const std::atomic<bool> not_stopping = false;
    for (auto* m : again) publish(m, not_stopping);
  }

  std::size_t pending() const override {
    std::lock_guard lock(mutex_);
    return flight_.size();
  }

  void abandon() override {
    std::unordered_map<natsMsg*, flight> left;
    {
      std::lock_guard lock(mutex_);
      left.swap(flight_);
      for (auto* m : resend_) natsMsg_Destroy(m);
      resend_.clear();
    }
    for (auto& [m, f] : left) give_up(f);
  }

 private:
  struct flight {
    std::vector<lost_span> records;  // one per record, in seq order
    unsigned attempts = 0;
  };

  // Hands a registered message to the client; while the client has no room (server
  // away, reconnect buffer full, MaxPending batches unacknowledged) waits on this thread.
  void publish(natsMsg* m, const std::atomic<bool>& stopping) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options_.ack_timeout.count();
    for (;;) {
      natsMsg* owned = m;
      const natsStatus s = js_PublishMsgAsync(js_, &owned, &po);
      if (s == NATS_OK) return;  // the client owns it; on_ack reports
      if (stopping) break;
      log_->retried(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    flight f;
    {
      std::lock_guard lock(mutex_);
      auto it = flight_.find(m);
      f = std::move(it->second);
      flight_.erase(it);
    }
    natsMsg_Destroy(m);
    give_up(f);
  }

  void give_up(const flight& f) {
    for (const auto& span : f.records) log_->lost(span, "sink_delivery_failed");
  }

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<nats_transport*>(closure);
    std::unique_lock lock(self->mutex_);
    auto it = self->flight_.find(msg);
    if (it == self->flight_.end()) {  // abandoned at close
      lock.unlock();
      natsMsg_Destroy(msg);
      return;
    }
    if (pa != nullptr || pae == nullptr) {
      const auto n = it->second.records.size();
      self->flight_.erase(it);
      lock.unlock();
      natsMsg_Destroy(msg);
      self->log_->delivered(n);
      self->log_->wake();
      return;
    }
    if (it->second.attempts < self->options_.retries) {
      // Resent from the sink's thread: publishing here, on the client's thread that
      // delivers acknowledgements, could wait for an acknowledgement it must deliver.
      ++it->second.attempts;
      self->resend_.push_back(msg);
      lock.unlock();
      self->log_->retried(1);
      self->log_->wake();
      return;
    }
    flight f = std::move(it->second);
    self->flight_.erase(it);
    lock.unlock();
    natsMsg_Destroy(msg);
    self->give_up(f);
  }

  std::string subject_;
  std::size_t batch_bytes_;
  int reconnect_buffer_;
  sink_options options_;
  std::string id_prefix_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::string payload_;
  mutable std::mutex mutex_;
  std::unordered_map<natsMsg*, flight> flight_;
  std::vector<natsMsg*> resend_;
};

}  // namespace

expected<std::unique_ptr<transport>> open_nats(const url_parts& u, std::string_view url,
                                               const sink_options& options) {
  if (u.authority.empty() || u.path.empty())
    return error(errc::invalid_argument,
                 fmt::format("sink URL '{}': expected nats://host:port/subject", url));
  auto batch = query_number(u, "batch_bytes", 64 * 1024, url);
  if (!batch) return batch.error();
  // What the client holds while it reconnects (0 would mean libnats's default, 8 MiB).
  auto reconnect = query_number(u, "reconnect_buffer_bytes", 64 << 20, url);
  if (!reconnect) return reconnect.error();
  if (*reconnect == 0 || *reconnect > (1u << 30))
    return error(errc::invalid_argument,
                 fmt::format("sink URL '{}': reconnect_buffer_bytes must be 1 to 2^30", url));
  std::string stream_name = "EBPFPUB_";
  if (auto it = u.query.find("stream"); it != u.query.end()) {
    stream_name = it->second;
  } else {
    for (const char c : u.path)
      stream_name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  auto t = std::make_unique<nats_transport>(u.path, *batch, static_cast<int>(*reconnect), options);
  if (auto ok = t->connect(u.authority, stream_name, url); !ok) return ok.error();
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace ebpfpub::sinks::detail
