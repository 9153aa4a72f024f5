#pragma once
/// \file
/// Which container made a call: a cgroup id (what the kernel's bpf_get_current_cgroup_id()
/// gives, the id of the thread's cgroup v2) resolved to its path in the cgroup2 file system,
/// and that path to a container runtime and id.
///
///     auto cgroups = ebpfpub::cgroup_resolver::create();          // finds the cgroup2 mount
///     auto path = cgroups->path_of(event_cgroup_id);               // "/system.slice/docker-<id>.scope"
///     auto c = ebpfpub::container_of(*path);                       // {runtime: "docker", id: "<id>"}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <ebpfpub/error.hpp>

namespace ebpfpub {

namespace detail {
struct cgroup_state;
}

/// A container, as its cgroup path names it.
struct container_info {
  std::string runtime;  ///< "docker", "containerd", "cri-o", "podman", "lxc"
  std::string id;       ///< the runtime's id (64 hex digits for docker, containerd, cri-o, podman)
  std::string pod_uid;  ///< Kubernetes pod uid when the path is under kubepods, else empty
  friend bool operator==(const container_info&, const container_info&) = default;
};

/// The container a cgroup path belongs to (its innermost container component), or nullopt
/// for a path outside any container (a system service, a user session, the root).
/// Recognised: docker (`/docker/<id>`, `docker-<id>.scope`), containerd with CRI
/// (`cri-containerd-<id>.scope`, `/kubepods/.../pod<uid>/<id>`), CRI-O (`crio-<id>.scope`,
/// `crio-<id>`), podman (`libpod-<id>.scope`; its `libpod-conmon-` monitor is not the
/// container) and LXC (`/lxc/<name>`, `lxc.payload.<name>`).
std::optional<container_info> container_of(std::string_view cgroup_path);

/// Counters of a bounded cache.
struct cache_statistics {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;  ///< entries dropped to stay within capacity
  std::uint64_t failures = 0;   ///< ids that resolved to no cgroup (removed since)
  std::size_t size = 0;
  std::size_t capacity = 0;
};

/// Resolves cgroup ids to paths, with a bounded LRU cache.
class cgroup_resolver {
 public:
  struct options {
    /// The cgroup2 mount; empty: found in /proc/self/mountinfo (the unified hierarchy,
    /// at /sys/fs/cgroup or /sys/fs/cgroup/unified on hybrid systems).
    std::string mount_point;
    std::size_t capacity = 4096;
    /// Open cgroups by their id (a kernfs file handle). Off: always walk the hierarchy
    /// (what happens anyway without CAP_DAC_READ_SEARCH).
    bool by_handle = true;
  };

  /// Finds and opens the cgroup2 mount; an error names what is missing.
  static expected<cgroup_resolver> create(options o);
  static expected<cgroup_resolver> create() { return create(options{}); }

  cgroup_resolver(cgroup_resolver&&) noexcept;
  cgroup_resolver& operator=(cgroup_resolver&&) noexcept;
  ~cgroup_resolver();

  /// The cgroup's path relative to the cgroup2 root ("/" for the root itself). Opens the
  /// cgroup by its id (a kernfs file handle: needs CAP_DAC_READ_SEARCH) and falls back to a
  /// walk of the hierarchy; an id whose cgroup is gone is an error.
  expected<std::string> path_of(std::uint64_t cgroup_id);

  /// The id of the cgroup at `path` (relative to the root, or absolute under the mount):
  /// the directory's inode number, which is what the kernel reports.
  expected<std::uint64_t> id_of(std::string_view path) const;

  const std::string& mount_point() const noexcept;
  cache_statistics stats() const noexcept;

 private:
  explicit cgroup_resolver(std::unique_ptr<detail::cgroup_state> state);
  std::unique_ptr<detail::cgroup_state> state_;
};

}  // namespace ebpfpub
