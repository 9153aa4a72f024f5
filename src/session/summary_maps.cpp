#include "session/summary_maps.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <bpf/bpf.h>
#include <fmt/format.h>

#include "codegen/summary.hpp"

namespace ebpfpub::detail {
namespace {

static_assert(summary_value::size == 48 + 8 * summary_buckets, "the kernel's histogram is summary.hpp's");

expected<map> create_map(injected_faults& faults, bpf_map_type type, const char* name, std::uint32_t key_size,
                         std::uint32_t value_size, std::uint32_t entries) {
  if (faults.fail_next(injected_faults::kind::map)) return injected_faults::rejected_map(name);
  const int fd = bpf_map_create(type, name, key_size, value_size, entries, nullptr);
  if (fd < 0)
    return error::from_errno(errno, fmt::format("creating summary map {} ({} entries of {} bytes per CPU)",
                                                name, entries, value_size));
  return map{unique_fd(fd), name, map_memory(fd)};
}

std::uint64_t u64_at(const std::uint8_t* value, std::uint32_t offset) {
  std::uint64_t n = 0;
  std::memcpy(&n, value + offset, sizeof n);
  return n;
}

}  // namespace

expected<summary_maps> summary_maps::create(std::size_t plans, injected_faults& faults,
                                            std::uint32_t errno_slots) {
  summary_maps s;
  s.errno_slots_ = errno_slots;
  auto counters = create_map(faults, BPF_MAP_TYPE_PERCPU_ARRAY, "ebpfpub_summary", 4, summary_value::size,
                             static_cast<std::uint32_t>(std::max<std::size_t>(plans, 1)));
  if (!counters) return counters.error();
  s.counters_ = std::move(*counters);
  // Preallocated: tracepoint programs insert into it, and a full map fails the insert
  // (counted as errors_unattributed) instead of allocating.
  auto errnos = create_map(faults, BPF_MAP_TYPE_PERCPU_HASH, "ebpfpub_errnos", sizeof(errno_key), 8,
                           errno_slots);
  if (!errnos) return errnos.error();
  s.errnos_ = std::move(*errnos);
  return s;
}

expected<summary_report> summary_maps::read(std::span<const plan> plans) const {
  const auto cpus = possible_cpus();
  summary_report out;
  std::vector<std::uint8_t> values(std::size_t{summary_value::size} * cpus);
  for (std::uint32_t i = 0; i < plans.size(); ++i) {
    auto& row = out.by_syscall.emplace_back();
    row.name = plans[i].syscall.name;
    if (bpf_map_lookup_elem(counters_fd(), &i, values.data()) != 0)
      return error::from_errno(errno, fmt::format("reading the summary counters of {}", row.name));
    std::uint64_t min_complement = 0;
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) {
      const auto* v = values.data() + std::size_t{summary_value::size} * cpu;
      row.calls += u64_at(v, summary_value::calls);
      row.errors += u64_at(v, summary_value::errors);
      row.errors_unattributed += u64_at(v, summary_value::errors_unattributed);
      row.total_ns += u64_at(v, summary_value::total_ns);
      min_complement = std::max(min_complement, u64_at(v, summary_value::min_complement));
      row.max_ns = std::max(row.max_ns, u64_at(v, summary_value::max_ns));
      for (std::size_t b = 0; b < summary_buckets; ++b)
        row.histogram[b] += u64_at(v, summary_value::histogram + 8 * static_cast<std::uint32_t>(b));
    }
    row.min_ns = min_complement == 0 ? 0 : ~min_complement;
  }

  std::vector<std::uint64_t> counts(cpus);
  errno_key key{};
  errno_key next{};
  const errno_key* previous = nullptr;
  // Bounded by the map's size: programs only add keys, never delete, so the walk ends.
  for (std::uint32_t n = 0; n < errno_slots_ && bpf_map_get_next_key(errno_fd(), previous, &next) == 0; ++n) {
    key = next;
    previous = &key;
    if (bpf_map_lookup_elem(errno_fd(), &key, counts.data()) != 0) continue;
    if (key.index >= out.by_syscall.size()) continue;
    std::uint64_t sum = 0;
    for (auto c : counts) sum += c;
    if (sum != 0) out.by_syscall[key.index].errors_by_errno[static_cast<int>(key.error)] += sum;
  }
  return out;
}

std::uint64_t summary_maps::measured_bytes() const {
  return map_memory(counters_fd()) + map_memory(errno_fd());
}

std::uint64_t summary_maps::planned_bytes(std::size_t plans) {
  const std::uint64_t cpus = possible_cpus();
  return std::uint64_t{summary_value::size} * std::max<std::size_t>(plans, 1) * cpus +
         std::uint64_t{summary_report::errno_slots} * (sizeof(errno_key) + 8 * cpus);
}

}  // namespace ebpfpub::detail
