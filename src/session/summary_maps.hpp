#pragma once
// Summary mode's maps (tracer_options::summary): the per-CPU counters of every plan and
// the per-CPU errors-by-errno hash, created with the session's other maps and read back
// into an ebpfpub::summary_report, summing the CPUs.

#include <cstdint>
#include <span>

#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/summary/summary.hpp>

#include "kernel/kernel.hpp"
#include "session/test_faults.hpp"

namespace ebpfpub::detail {

class summary_maps {
 public:
  /// One counters value per plan, and the errno map of `errno_slots` pairs (fewer only
  /// in tests, to fill it).
  static expected<summary_maps> create(std::size_t plans, injected_faults& faults,
                                       std::uint32_t errno_slots = summary_report::errno_slots);

  int counters_fd() const { return counters_.fd.get(); }
  int errno_fd() const { return errnos_.fd.get(); }

  /// What the programs counted so far, every CPU summed, in the order of `plans`.
  expected<summary_report> read(std::span<const plan> plans) const;

  /// The kernel's accounting of both maps (memlock).
  std::uint64_t measured_bytes() const;
  /// The data both maps hold for `plans` plans: what memory() reports before prepare().
  static std::uint64_t planned_bytes(std::size_t plans);

 private:
  map counters_;
  map errnos_;
  std::uint32_t errno_slots_ = 0;
};

}  // namespace ebpfpub::detail
