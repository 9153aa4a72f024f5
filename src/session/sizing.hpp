#pragma once
// How big every map of a session is. One function computes it from the plans and the
// resource options; memory() reports it and the map creation uses it, so the two cannot
// drift apart.

#include <cstdint>
#include <span>
#include <vector>

#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>

namespace ebpfpub::detail {

struct map_sizes {
  /// Value size of the storage map shared by every plan without private storage; 0 when
  /// every plan has its own.
  std::uint32_t shared_entry = 0;
  /// Per plan: the value size of the storage map it uses (shared or its own).
  std::vector<std::uint32_t> entry;
  /// Per plan: its own largest record (its ring slot when exit writes into one).
  std::vector<std::uint32_t> record;
  /// The largest entry of any storage map (the hash storage's seed value).
  std::uint32_t largest_entry = 0;
  /// Storage maps in all: the shared one (when used) and one per private plan.
  std::uint32_t storage_maps = 0;
  /// Header and argument slots of the plan that has the most arguments.
  std::uint32_t largest_fixed_part = 0;
  /// Slots of the per-CPU counters map: one per plan and loss reason, then the globals.
  std::uint32_t counter_slots = 0;
  /// Bytes of the ring buffer map, or of one CPU's perf buffer.
  std::uint64_t output_map = 0;
  /// Bytes of output in all: the ring, or every CPU's perf buffer.
  std::uint64_t output_total = 0;
};

/// Session-wide counters come after the per-plan ones in the counters map.
inline constexpr std::uint32_t global_counter_slots = 2;

/// The sizes of `plans` under `resources`, each entry with `context_bytes` more for the
/// process context block (0: none). Pure: no kernel object is created.
map_sizes size_maps(std::span<const plan> plans, const resource_options& resources,
                    std::uint32_t context_bytes = 0);

/// Whether every storage entry fits the kernel's limit; the error names the plan, the
/// entry size and the resource fields that lower it.
expected<void> check_sizes(std::span<const plan> plans, const map_sizes& sizes,
                           const resource_options& resources);

/// What the maps will hold, from the sizes alone (memory_usage::measured stays false).
memory_usage planned_memory(std::span<const plan> plans, const map_sizes& sizes,
                            const resource_options& resources);

}  // namespace ebpfpub::detail
