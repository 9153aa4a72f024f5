#include "session/statistics.hpp"

#include <algorithm>
#include <cstring>

#include <bpf/bpf.h>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"

namespace ebpfpub {

std::uint64_t statistics::events() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.events;
  return n;
}
std::uint64_t statistics::lost() const {
  std::uint64_t n = lost_unattributed;
  for (const auto& s : by_syscall) n += s.lost();
  return n;
}
std::uint64_t statistics::probe_errors() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.probe_errors;
  return n;
}

namespace detail {

void deliveries::add(plan p, handler h) {
  counts_.push_back({p.syscall.name});
  plans_.push_back(std::move(p));
  handlers_.push_back(std::move(h));
}

void deliveries::deliver(std::span<const std::uint8_t> bytes) {
  auto r = record_view::parse(bytes, plans_);
  if (!r) {
    // The plan index is the only thing to attribute it by, when it is in range.
    std::uint16_t index = 0;
    if (bytes.size() >= 6) std::memcpy(&index, bytes.data() + 4, 2);
    if (index < counts_.size()) ++counts_[index].lost_malformed;
    else ++lost_unattributed_;
    return;
  }
  const auto index = static_cast<std::size_t>(&r->plan() - plans_.data());
  auto& s = counts_[index];
  ++s.events;
  if (r->header().probe_error) ++s.probe_errors;
  ++delivered_now_;
  handlers_[index](*r);
}

statistics deliveries::stats(int counters_fd) const {
  statistics s;
  s.by_syscall = counts_;
  s.lost_unattributed = lost_unattributed_;
  s.perf_reported_lost = perf_reported_lost_;
  if (counters_fd < 0) return s;
  std::vector<std::uint64_t> values(possible_cpus());
  auto read = [&](std::uint32_t key) {
    std::fill(values.begin(), values.end(), 0);
    std::uint64_t sum = 0;
    if (bpf_map_lookup_elem(counters_fd, &key, values.data()) == 0)
      for (auto v : values) sum += v;
    return sum;
  };
  const auto base = static_cast<std::uint32_t>(plans_.size()) * loss_reason_count;
  s.untracked_children = read(base + static_cast<std::uint32_t>(global_counter::untracked_children));
  s.excluded_self = read(base + static_cast<std::uint32_t>(global_counter::excluded_self));
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    auto& out = s.by_syscall[i];
    const auto at = [&](loss_reason reason) {
      return read(static_cast<std::uint32_t>(i) * loss_reason_count + static_cast<std::uint32_t>(reason));
    };
    out.lost_output_full = at(loss_reason::output_full);
    out.lost_no_storage = at(loss_reason::no_storage);
    out.unmatched_exits = at(loss_reason::unmatched_exit);
  }
  return s;
}

}  // namespace detail
}  // namespace ebpfpub
