#pragma once
/// \file
/// Paths of open files, by identity. The programs can tell which file an fd is (its device
/// and inode, read from the task's fd table) but not cheaply its path; user space keeps
/// the paths it has seen: from opens it traced, and at start from every process's
/// /proc/PID/fd. Each path says where it came from and whether it may be stale.
///
///     ebpfpub::path_cache paths;
///     paths.seed_from_proc();                                  // what is open right now
///     paths.remember(identity, "/etc/hosts", path_origin::traced_open);
///     if (auto p = paths.find(identity)) use(p->path, p->stale);

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <ebpfpub/context/cgroup.hpp>
#include <ebpfpub/error.hpp>

namespace ebpfpub {

/// Which file: its device (as stat(2)'s st_dev) and inode number.
struct file_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  /// From the kernel's own encoding of a device (super_block->s_dev: major << 20 | minor),
  /// as a program reads it, to stat(2)'s.
  static file_identity from_kernel(std::uint32_t s_dev, std::uint64_t inode) noexcept;
  friend bool operator==(const file_identity&, const file_identity&) = default;
};

enum class path_origin : std::uint8_t {
  traced_open,  ///< an open the tracer saw succeed
  proc_fd,      ///< /proc/PID/fd when the cache was seeded
};

struct known_path {
  std::string path;
  path_origin origin = path_origin::traced_open;
  /// The path may no longer name this file: it was deleted ("(deleted)" in /proc), or, when
  /// checked, the path now names another file (renamed or replaced since).
  bool stale = false;
  friend bool operator==(const known_path&, const known_path&) = default;
};

class path_cache {
 public:
  struct options {
    std::size_t capacity = 65536;
  };
  path_cache();
  explicit path_cache(options o);
  path_cache(path_cache&&) noexcept;
  path_cache& operator=(path_cache&&) noexcept;
  ~path_cache();

  /// Keeps `path` for the file; the newest path of a file wins.
  void remember(file_identity file, std::string path, path_origin origin);
  /// The path last seen for the file; with `verify`, stat(2)s it and sets `stale` when it
  /// no longer names the same file.
  std::optional<known_path> find(file_identity file, bool verify = false);

  /// Adds every open file of every process (/proc/PID/fd: reading other users' needs root
  /// or CAP_SYS_PTRACE; those it may not read are skipped and counted). Returns how many
  /// files it added.
  std::size_t seed_from_proc();
  /// Processes whose fds seed_from_proc() could not read.
  std::uint64_t unreadable_processes() const noexcept;

  cache_statistics stats() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace ebpfpub
