#include "session/statistics.hpp"

#include <algorithm>
#include <cstring>

#include <bpf/bpf.h>

#include "codegen/codegen.hpp"
#include "codegen/rate_bucket.hpp"
#include "kernel/kernel.hpp"
#include "session/fd_paths.hpp"

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

std::uint64_t statistics::filtered() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.filtered;
  return n;
}

std::uint64_t statistics::rate_limited() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.rate_limited;
  return n;
}

namespace detail {
namespace {

std::vector<rate_limited_process> read_buckets(int fd, const std::vector<plan>& plans) {
  std::vector<rate_limited_process> out;
  std::uint64_t key = 0;
  std::uint64_t next = 0;
  rate_bucket bucket{};
  // Bounded by the map's size: a bucket evicted during the walk makes get_next_key
  // start again from the first key.
  const std::uint64_t* previous = nullptr;
  for (std::uint32_t i = 0; i < rate_limit_entries && bpf_map_get_next_key(fd, previous, &next) == 0; ++i) {
    previous = &key;
    key = next;
    if (bpf_map_lookup_elem(fd, &key, &bucket) != 0 || bucket.dropped == 0) continue;
    const auto index = static_cast<std::size_t>(key & 0xffff);
    if (index >= plans.size()) continue;
    out.push_back({static_cast<std::uint32_t>(key >> 32), plans[index].syscall.name, bucket.dropped});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.process_id < b.process_id;
  });
  return out;
}

}  // namespace

void deliveries::add(plan p, handler h) {
  counts_.push_back({p.syscall.name});
  plans_.push_back(std::move(p));
  handlers_.push_back(std::move(h));
}

path_cache& deliveries::keep_paths(std::size_t capacity) {
  paths_ = std::make_unique<path_cache>(path_cache::options{capacity});
  return *paths_;
}

void deliveries::resolve_context(bool on) {
  if (on && !resolver_) resolver_ = std::make_unique<process_resolver>();
  if (!on) resolver_.reset();
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
  if (paths_) {
    learn_opened_path(*r, *paths_);
    r->attach_paths(paths_.get());
  }
  if (resolver_ && !r->header().context.fields.empty()) resolver_->resolve(*r);
  handlers_[index](*r);
}

statistics deliveries::stats(int counters_fd, int rate_limit_fd) const {
  statistics s;
  s.by_syscall = counts_;
  s.lost_unattributed = lost_unattributed_;
  s.perf_reported_lost = perf_reported_lost_;
  if (resolver_) {
    s.executable_cache = resolver_->executables();
    s.cgroup_cache = resolver_->cgroups();
  }
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
    out.rate_limited = at(loss_reason::rate_limited);
    out.filtered = at(loss_reason::filtered);
  }
  if (rate_limit_fd >= 0) s.rate_limited_processes = read_buckets(rate_limit_fd, plans_);
  return s;
}

}  // namespace detail
}  // namespace ebpfpub
