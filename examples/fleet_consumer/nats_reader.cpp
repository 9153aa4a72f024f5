// Reads a JetStream subject from its first message with an ephemeral consumer.

#include <fmt/format.h>
#include <nats/nats.h>

#include "reader.hpp"

namespace fleet_consumer {

std::string read_nats(const std::string& server, const std::string& subject,
                      const read_options& options, const on_payload& handle) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  std::string failure;
  natsStatus s = natsConnection_ConnectTo(&nc, ("nats://" + server).c_str());
  if (s != NATS_OK)
    failure = fmt::format("cannot connect to nats://{}: {}", server, natsStatus_GetText(s));
  if (failure.empty()) {
    s = natsConnection_JetStream(&js, nc, nullptr);
    if (s != NATS_OK) failure = fmt::format("no JetStream context: {}", natsStatus_GetText(s));
  }
  if (failure.empty()) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    // Everything the stream holds, no acknowledgements: the consumer only reads.
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.AckPolicy = js_AckNone;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_SubscribeSync(&sub, js, subject.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK)
      failure =
          fmt::format("cannot subscribe to {} (is there a JetStream stream for it?): {} (code {})",
                      subject, natsStatus_GetText(s), static_cast<int>(jerr));
    else
      natsSubscription_SetPendingLimits(sub, -1, -1);
  }
  if (failure.empty()) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    std::uint64_t records = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, sub, options.idle.count());
      if (s == NATS_TIMEOUT) break;
      if (s != NATS_OK) {
        failure = fmt::format("reading {}: {}", subject, natsStatus_GetText(s));
        break;
      }
      records += handle(
          std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))));
      natsMsg_Destroy(m);
      if (options.stop_after > 0 && records >= options.stop_after) break;
    }
  }
  if (sub != nullptr) {
    natsSubscription_Unsubscribe(sub);  // removes the ephemeral consumer
    natsSubscription_Destroy(sub);
  }
  if (js != nullptr) jsCtx_Destroy(js);
  if (nc != nullptr) natsConnection_Destroy(nc);
  return failure;
}

}  // namespace fleet_consumer
