#include "session/sizing.hpp"

#include <algorithm>
#include <bit>

#include <unistd.h>

#include <fmt/format.h>

#include <ebpfpub/record.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"

namespace ebpfpub::detail {
namespace {

// Task storage values stay below 64 KiB (the kernel's limit for local storage); hash
// entries are held to the same, so both storage kinds take the same plans.
constexpr std::uint32_t max_entry = 60 * 1024;

}  // namespace

map_sizes size_maps(std::span<const plan> plans, const resource_options& resources,
                    std::uint32_t context_bytes) {
  map_sizes s;
  std::uint32_t largest_private = 0;
  for (const auto& p : plans) {
    const auto size = entry_size(p, resources.buffer_count, context_bytes);
    if (p.private_storage) {
      largest_private = std::max(largest_private, size);
      ++s.storage_maps;
    } else {
      s.shared_entry = std::max(s.shared_entry, size);
    }
    s.largest_fixed_part =
        std::max(s.largest_fixed_part,
                 record::header_size + 8 * static_cast<std::uint32_t>(p.syscall.arguments.size()) +
                     context_bytes);
  }
  if (s.shared_entry > 0) ++s.storage_maps;
  for (const auto& p : plans) {
    const auto own = entry_size(p, resources.buffer_count, context_bytes);
    s.entry.push_back(p.private_storage ? own : s.shared_entry);
    s.record.push_back(own);
  }
  s.largest_entry = std::max(s.shared_entry, largest_private);
  s.counter_slots = static_cast<std::uint32_t>(plans.size()) * loss_reason_count + global_counter_slots;

  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t per_cpu = page << resources.output_pages_log2;
  if (resources.output == transport::perf) {
    s.output_map = per_cpu;
    s.output_total = per_cpu * possible_cpus();
  } else {
    // The ring gets what all CPUs' perf buffers would have, as a power of two.
    s.output_map = std::bit_ceil(per_cpu * possible_cpus());
    s.output_total = s.output_map;
  }
  return s;
}

expected<void> check_sizes(std::span<const plan> plans, const map_sizes& sizes,
                           const resource_options& resources) {
  auto check = [&](std::uint32_t size, std::string_view who) -> expected<void> {
    if (size <= max_entry) return {};
    return error(errc::exhausted,
                 fmt::format("in-flight entry of {} bytes for {} is over the kernel's {}-byte "
                             "limit for task storage; lower resources.buffer_size ({}) or "
                             "resources.buffer_count ({})",
                             size, who, max_entry, resources.buffer_size, resources.buffer_count));
  };
  if (sizes.shared_entry > 0)
    if (auto ok = check(sizes.shared_entry, "the shared storage"); !ok) return ok;
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (plans[i].private_storage)
      if (auto ok = check(sizes.entry[i], plans[i].syscall.name); !ok) return ok;
  return {};
}

memory_usage planned_memory(std::span<const plan> plans, const map_sizes& sizes,
                            const resource_options& resources) {
  memory_usage m;
  m.entry_bytes = sizes.largest_entry;
  if (resources.event_map == event_map_kind::hash) {
    // Preallocated: every entry of every storage map, and the per-CPU seed value.
    m.entries = resources.event_map_size;
    m.event_map_bytes = std::uint64_t{resources.event_map_size} * m.entry_bytes * sizes.storage_maps +
                        std::uint64_t{m.entry_bytes} * possible_cpus();
  }
  m.buffer_storage_bytes = m.entry_bytes > sizes.largest_fixed_part ? m.entry_bytes - sizes.largest_fixed_part : 0;
  m.output_bytes = sizes.output_total;
  m.counters_bytes = std::uint64_t{8} * plans.size() * loss_reason_count * possible_cpus();
  return m;
}

}  // namespace ebpfpub::detail
