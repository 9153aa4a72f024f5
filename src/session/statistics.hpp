#pragma once
// What happened to every call: records delivered to their handlers (counted here, in
// user space) and calls the programs could not send (counted by them, in the counters
// map). stats() joins the two.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <ebpfpub/context/paths.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/record.hpp>
#include <ebpfpub/tracer.hpp>

#include "context/process_resolver.hpp"

namespace ebpfpub::detail {

/// The traced plans, their handlers, and the user-space counts of what reached them.
class deliveries {
 public:
  using handler = std::function<void(const record_view&)>;

  void add(plan p, handler h);
  /// Whether records' process context is resolved (executable and cgroup paths) before
  /// handlers see them.
  void resolve_context(bool on);
  const std::vector<plan>& plans() const { return plans_; }

  /// Keeps a path cache of `capacity` paths: the opens delivered feed it and fd
  /// identities take their paths from it.
  path_cache& keep_paths(std::size_t capacity);
  const path_cache* paths() const { return paths_.get(); }

  /// Checks one record and hands it to its plan's handler, or counts it malformed.
  void deliver(std::span<const std::uint8_t> bytes);
  /// A perf sample too short for the size it announces.
  void malformed_sample() { ++lost_unattributed_; }
  /// What a perf buffer reported lost (the programs counted the same drops).
  void perf_lost(std::uint64_t n) { perf_reported_lost_ += n; }

  /// Records delivered since the last reset_delivered().
  std::size_t delivered() const { return delivered_now_; }
  void reset_delivered() { delivered_now_ = 0; }

  /// These counts, with the programs' own from `counters_fd` (-1: none yet) and, with a
  /// rate limit, the buckets' counts by process from `rate_limit_fd`.
  statistics stats(int counters_fd, int rate_limit_fd = -1) const;

 private:
  std::vector<plan> plans_;
  std::vector<handler> handlers_;
  std::unique_ptr<path_cache> paths_;
  std::vector<syscall_statistics> counts_;
  std::uint64_t lost_unattributed_ = 0;
  std::uint64_t perf_reported_lost_ = 0;
  std::size_t delivered_now_ = 0;
  std::unique_ptr<process_resolver> resolver_;
};

}  // namespace ebpfpub::detail
