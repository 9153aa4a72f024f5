#include "fleet.hpp"

#include <optional>

#include <fmt/format.h>

#ifdef EBPFTRACER_WITH_SINKS
#include <ebpfpub/sinks/stream.hpp>
#endif

namespace ebpftracer {

struct fleet::state {
#ifdef EBPFTRACER_WITH_SINKS
  std::optional<ebpfpub::sinks::stream> stream;
#endif
  fmt::memory_buffer json;
};

fleet::fleet() : state_(std::make_unique<state>()) {}
fleet::fleet(fleet&&) noexcept = default;
fleet& fleet::operator=(fleet&&) noexcept = default;
fleet::~fleet() = default;

ebpfpub::expected<fleet> fleet::open(const std::vector<std::string>& urls) {
  fleet f;
  if (urls.empty()) return f;
#ifdef EBPFTRACER_WITH_SINKS
  auto s = ebpfpub::sinks::stream::create();
  if (!s) return s.error();
  for (const auto& url : urls)
    if (auto ok = s->add_sink(url); !ok)
      return ebpfpub::error(ok.error().code(), fmt::format("--sink {}: {}", url, ok.error().message()));
  f.state_->stream.emplace(std::move(*s));
  return f;
#else
  return ebpfpub::error(ebpfpub::errc::unsupported,
                        "--sink: this ebpftracer was built without the sinks library "
                        "(configure with -DEBPFPUB_BUILD_SINKS=ON and libnats-dev, librdkafka-dev)");
#endif
}

bool fleet::active() const noexcept {
#ifdef EBPFTRACER_WITH_SINKS
  return state_->stream.has_value();
#else
  return false;
#endif
}

void fleet::publish([[maybe_unused]] const ebpfpub::dynamic_event& e, [[maybe_unused]] bool raw) {
#ifdef EBPFTRACER_WITH_SINKS
  if (!state_->stream) return;
  auto& json = state_->json;
  json.clear();
  ebpfpub::append_json(json, e, raw ? ebpfpub::json_style::numbers : ebpfpub::json_style::names);
  state_->stream->publish_json(std::string_view(json.data(), json.size()));
#endif
}

void fleet::account([[maybe_unused]] const ebpfpub::statistics& stats) {
#ifdef EBPFTRACER_WITH_SINKS
  if (state_->stream) state_->stream->account(stats);
#endif
}

void fleet::reopen() {
#ifdef EBPFTRACER_WITH_SINKS
  if (state_->stream) state_->stream->reopen();
#endif
}

void fleet::finish([[maybe_unused]] const ebpfpub::statistics& stats,
                   [[maybe_unused]] std::chrono::milliseconds timeout) {
#ifdef EBPFTRACER_WITH_SINKS
  if (!state_->stream) return;
  state_->stream->account(stats);
  if (auto ok = state_->stream->flush(timeout); !ok) fmt::print(stderr, "ebpftracer: {}\n", ok.error().what());
  for (const auto& [url, st] : state_->stream->sink_stats())
    fmt::print(stderr, "  sink {}: {} delivered, {} retried, {} dropped ({} calls), {} gap records lost and resent\n",
               url, st.delivered, st.retried, st.dropped, st.dropped_events, st.gap_records_lost);
#endif
}

}  // namespace ebpftracer
