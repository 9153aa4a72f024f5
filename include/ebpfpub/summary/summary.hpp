#pragma once
/// \file
/// Summary mode: the programs count every traced call in the kernel (per-CPU maps) and
/// send nothing; `tracer::summary()` sums what they counted so far. Set
/// `tracer_options::summary` to ask for it.
///
///     ebpfpub::tracer_options options;
///     options.summary = true;
///     auto tracer = ebpfpub::tracer::create(options);
///     tracer->trace("openat", [](const ebpfpub::dynamic_event&) {});  // never called
///     tracer->start();
///     ...
///     auto s = tracer->summary();  // calls, errors, durations, histogram, per syscall

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ebpfpub {

/// Buckets of the latency histogram: bucket 0 holds durations of 0 ns, bucket i
/// (1..62) those in [2^(i-1), 2^i) ns, bucket 63 everything from 2^62 ns on.
inline constexpr std::size_t summary_buckets = 64;

/// The lowest duration (ns) bucket `i` holds.
std::uint64_t bucket_low(std::size_t i);
/// One past the highest duration (ns) bucket `i` holds (UINT64_MAX for the last one).
std::uint64_t bucket_high(std::size_t i);
/// The bucket a duration of `ns` falls in.
std::size_t bucket_of(std::uint64_t ns);

/// What the kernel counted for one traced syscall since start().
struct syscall_summary {
  std::string name;
  std::uint64_t calls = 0;   ///< calls that passed the filters (exit/exit_group: at enter)
  std::uint64_t errors = 0;  ///< calls that returned a negative value
  /// errno (positive: 2 for ENOENT) -> calls that failed with it. Their sum is `errors`
  /// minus `errors_unattributed`.
  std::map<int, std::uint64_t> errors_by_errno;
  /// Failed calls whose errno the per-errno map had no room for (it holds
  /// `summary_report::errno_slots` {syscall, errno} pairs): counted in `errors`, not by errno.
  std::uint64_t errors_unattributed = 0;
  /// Durations, enter to exit, in ns, of the calls that have one (exit and exit_group
  /// have none: their `calls` count, their histogram stays empty).
  std::uint64_t total_ns = 0;
  std::uint64_t min_ns = 0;  ///< 0 when no call was timed
  std::uint64_t max_ns = 0;
  std::array<std::uint64_t, summary_buckets> histogram{};

  /// Calls with a duration: the histogram's sum.
  std::uint64_t timed_calls() const;
  /// The duration (ns) below which `percent` % of the timed calls fall, estimated from
  /// the histogram: the bucket holding that rank, linearly within it, then clamped to
  /// [min_ns, max_ns]. 0 when no call was timed. `percent` is clamped to [0, 100].
  std::uint64_t percentile(double percent) const;
};

struct summary_report {
  /// One per traced syscall, in the order they were traced (zeros included).
  std::vector<syscall_summary> by_syscall;
  /// Size of the kernel's per-errno map ({syscall, errno} pairs it can hold).
  static constexpr std::uint32_t errno_slots = 4096;
};

}  // namespace ebpfpub
