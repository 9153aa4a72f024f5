#pragma once
// Every map of a session, created together or not at all: create() builds into a local
// object and hands it over only whole, so an error part-way closes what was made.

#include <cstdint>
#include <span>
#include <vector>

#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/tracefs.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "session/kernel_facts.hpp"
#include "session/sizing.hpp"
#include "session/test_faults.hpp"

namespace ebpfpub::detail {

class session_maps {
 public:
  /// Looks up the tracepoints, then creates the storage, counters, output and (with a
  /// process filter) process maps that `sizes` describe.
  static expected<session_maps> create(std::span<const plan> plans, const map_sizes& sizes,
                                       const resource_options& resources,
                                       const filter_options& filter, const tracefs& fs,
                                       injected_faults& faults);

  /// The maps by fd, as the programs embed them.
  const program_maps& programs() const { return programs_; }
  const filter_code& filter() const { return filter_; }
  const tracepoint_ids& tracepoints() const { return ids_; }
  int counters_fd() const { return counters_.fd.get(); }
  int output_fd() const { return output_.fd.get(); }
  /// The rate limit's buckets (codegen/rate_limit.hpp), or -1 without a limit.
  int rate_limit_fd() const { return rate_limit_.fd ? rate_limit_.fd.get() : -1; }

  /// Adds `pid` to the process filter's map.
  expected<void> add_process(std::uint32_t pid) const;

  /// The kernel's own accounting of the storage maps, the output and the counters.
  void measure(memory_usage& m, transport output) const;

 private:
  std::vector<map> storage_;  // the shared map first (when used), private maps, the seed
  map counters_;
  map output_;
  map processes_;
  map rate_limit_;
  program_maps programs_;
  filter_code filter_;
  tracepoint_ids ids_;
};

/// `roots` and every process below them now, from /proc/*/stat's parent ids.
std::vector<std::uint32_t> with_descendants(const std::vector<std::uint32_t>& roots);

}  // namespace ebpfpub::detail
