#pragma once
// The rate limit's bucket as its map holds it: written by the programs
// (rate_limit.cpp), read by the statistics.

#include <cstddef>
#include <cstdint>

namespace ebpfpub::detail {

/// One bucket: the map's value, as the programs and the statistics read it.
struct rate_bucket {
  /// Credit left, in token units (one call costs `rate_token_units`).
  std::uint64_t tokens;
  std::uint64_t last_ns;  ///< bpf_ktime_get_ns() of the last refill
  std::uint64_t dropped;  ///< calls this bucket dropped (what the tracer reports by process)
  /// Dropped calls whose exit is still to come: their exit program finds no in-flight
  /// entry and must not count it as an unmatched exit.
  std::uint64_t pending_exits;
};
static_assert(sizeof(rate_bucket) == 32);

/// One token is one second's worth of nanoseconds, so a refill is elapsed_ns * rate
/// units: integer and exact for any rate.
inline constexpr std::uint64_t rate_token_units = 1'000'000'000;

/// Buckets of {process, syscall} the map holds; the least recently used goes when it is
/// full (its process's count with it; the per-syscall totals are in the counters map).
inline constexpr std::uint32_t rate_limit_entries = 1 << 13;

}  // namespace ebpfpub::detail
