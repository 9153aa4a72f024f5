#pragma once
/// \file
/// Which process made a call, beyond its pid: the executable, the parent, the cgroup (and
/// the container it names) and the namespaces. The programs read these from the calling
/// task at enter (`tracer_options::context` says which); the library resolves the
/// numbers into paths and a container in user space, through bounded caches.
///
///     ebpfpub::tracer_options o;
///     o.context = ebpfpub::context_field::executable | ebpfpub::context_field::container;
///     ... e.header.context.executable->path, e.header.context.cgroup->container->id

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <ebpfpub/context/cgroup.hpp>

namespace ebpfpub {

/// One kind of process context an event can carry.
enum class context_field : std::uint32_t {
  executable = 1u << 0,  ///< the executable file (mm->exe_file): device, inode, name, path
  parent = 1u << 1,      ///< the parent's process id (real_parent->tgid)
  cgroup = 1u << 2,      ///< the cgroup v2 id (bpf_get_current_cgroup_id) and its path
  container = 1u << 3,   ///< the cgroup, and the container its path names
  namespaces = 1u << 4,  ///< the mount, pid, net and user namespaces' inode numbers
};

/// A set of `context_field`s; empty: events carry no context (and the programs read none).
class context_fields {
 public:
  constexpr context_fields() = default;
  constexpr context_fields(context_field f) : bits_(static_cast<std::uint32_t>(f)) {}
  static constexpr context_fields all() { return from_bits(all_bits); }
  /// The set whose bits are `bits`; unknown bits are dropped.
  static constexpr context_fields from_bits(std::uint32_t bits) {
    context_fields f;
    f.bits_ = bits & all_bits;
    return f;
  }
  constexpr bool has(context_field f) const { return (bits_ & static_cast<std::uint32_t>(f)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint32_t bits() const { return bits_; }
  /// Whether the kernel reads the cgroup id (for `cgroup` or `container`).
  constexpr bool wants_cgroup_id() const {
    return has(context_field::cgroup) || has(context_field::container);
  }
  friend constexpr context_fields operator|(context_fields a, context_fields b) {
    return from_bits(a.bits_ | b.bits_);
  }
  context_fields& operator|=(context_fields other) { return *this = *this | other; }
  friend constexpr bool operator==(context_fields, context_fields) = default;

 private:
  static constexpr std::uint32_t all_bits = 0x1f;
  std::uint32_t bits_ = 0;
};

constexpr context_fields operator|(context_field a, context_field b) {
  return context_fields(a) | context_fields(b);
}

/// The executable a process runs, shared by every event of that file.
struct executable_file {
  std::uint64_t device = 0;  ///< as stat(2) gives it (st_dev)
  std::uint64_t inode = 0;
  std::string name;  ///< the file's name as the kernel read it (its dentry: no directory)
  /// Absolute path from /proc/PID/exe, read on the first event of this (device, inode)
  /// and checked against them; empty when the process was gone before it could be read
  /// (a short-lived process: `name` is then all there is).
  std::string path;
};

/// A cgroup v2 and the container its path names, shared by every event in that cgroup.
struct cgroup_info {
  std::uint64_t id = 0;
  std::string path;  ///< relative to the cgroup2 root ("/" for the root); empty: unresolved
  std::optional<container_info> container;  ///< with context_field::container, when named
};

/// The namespaces of the calling task, as the inode numbers `stat -L /proc/PID/ns/*` gives.
struct namespace_ids {
  std::uint32_t mount = 0;
  std::uint32_t pid = 0;  ///< the task's active pid namespace (where its pid is defined)
  std::uint32_t network = 0;
  std::uint32_t user = 0;
  friend bool operator==(const namespace_ids&, const namespace_ids&) = default;
};

/// What the kernel recorded about the calling process; only the `fields` selected carry
/// values (the others are zero or null).
struct process_context {
  context_fields fields;
  std::uint32_t parent_process_id = 0;
  std::uint64_t cgroup_id = 0;
  namespace_ids namespaces;
  std::uint64_t executable_device = 0;  ///< as stat(2) gives it
  std::uint64_t executable_inode = 0;
  /// Resolved by the library (null in a record parsed outside a tracer).
  std::shared_ptr<const executable_file> executable;
  /// Resolved by the library; its path is empty when the cgroup was gone already.
  std::shared_ptr<const cgroup_info> cgroup;
};

}  // namespace ebpfpub
