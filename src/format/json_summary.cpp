// The closing summary line of ebpftracer --format json. Apart from json.cpp because it
// needs the tracer's statistics (and so the tracer), which the decoder's fuzzer lacks.
#include <ebpfpub/format/escape.hpp>
#include <ebpfpub/format/json.hpp>

#include "writers.hpp"

namespace ebpfpub {
namespace {

template <std::size_t N>
void raw(fmt::memory_buffer& out, const char (&s)[N]) {
  detail::put_literal(out, s);
}

template <typename T>
void number(fmt::memory_buffer& out, T v) {
  detail::put_number(out, v);
}

}  // namespace

void append_json_summary(fmt::memory_buffer& out, const statistics& stats) {
  raw(out, "{\"summary\":{\"events\":");
  number(out, stats.events());
  raw(out, ",\"lost\":");
  number(out, stats.lost());
  raw(out, ",\"probe_errors\":");
  number(out, stats.probe_errors());
  // Only with a rate limit that dropped something: summaries without one stay as they were.
  if (stats.rate_limited() != 0) {
    raw(out, ",\"rate_limited\":");
    number(out, stats.rate_limited());
    raw(out, ",\"rate_limited_processes\":[");
    const auto& top = stats.rate_limited_processes;
    for (std::size_t i = 0; i < top.size() && i < 10; ++i) {
      if (i > 0) out.push_back(',');
      raw(out, "{\"process_id\":");
      number(out, top[i].process_id);
      raw(out, ",\"syscall\":");
      append_json_string(out, top[i].syscall);
      raw(out, ",\"count\":");
      number(out, top[i].count);
      out.push_back('}');
    }
    out.push_back(']');
  }
  // Likewise only when a filter expression rejected something.
  if (stats.filtered() != 0) {
    raw(out, ",\"filtered\":");
    number(out, stats.filtered());
  }
  raw(out, ",\"by_syscall\":{");
  for (std::size_t i = 0; i < stats.by_syscall.size(); ++i) {
    const auto& s = stats.by_syscall[i];
    if (i > 0) out.push_back(',');
    append_json_string(out, s.syscall);
    raw(out, ":{\"events\":");
    number(out, s.events);
    raw(out, ",\"lost\":");
    number(out, s.lost());
    if (s.rate_limited != 0) {
      raw(out, ",\"rate_limited\":");
      number(out, s.rate_limited);
    }
    if (s.filtered != 0) {
      raw(out, ",\"filtered\":");
      number(out, s.filtered);
    }
    out.push_back('}');
  }
  raw(out, "}}}");
}

}  // namespace ebpfpub
