#pragma once
// What the library adds in user space to the process context the programs recorded: the
// executable's path and the cgroup's path and container, each from a bounded cache.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include <ebpfpub/context/cgroup.hpp>
#include <ebpfpub/event.hpp>

#include "context/lru.hpp"

namespace ebpfpub::detail {

struct identity_hash {
  std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& k) const noexcept {
    return std::hash<std::uint64_t>()(k.first * 0x9e3779b97f4a7c15ull ^ k.second);
  }
};

class process_resolver {
 public:
  /// Caches of `capacity` executables and as many cgroups.
  explicit process_resolver(std::size_t capacity = 4096);

  /// Fills r.context()'s executable and cgroup from the caches (reading /proc/PID/exe
  /// and the cgroup2 hierarchy on a miss).
  void resolve(record_view& r);

  cache_statistics executables() const { return executables_.stats(); }
  cache_statistics cgroups() const { return cgroups_.stats(); }

 private:
  std::shared_ptr<const executable_file> executable(const record_view& r);
  std::shared_ptr<const cgroup_info> cgroup(std::uint64_t id, bool with_container);

  using identity = std::pair<std::uint64_t, std::uint64_t>;
  lru_cache<identity, std::shared_ptr<const executable_file>, identity_hash> executables_;
  lru_cache<std::uint64_t, std::shared_ptr<const cgroup_info>> cgroups_;
  std::optional<cgroup_resolver> cgroup_paths_;
  bool cgroup_paths_tried_ = false;
};

}  // namespace ebpfpub::detail
