#pragma once
// Code generation: plans in, BPF instructions out (through one LLVM module).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include <ebpfpub/context/process.hpp>
#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>

namespace ebpfpub::detail {

/// Why an event was not delivered; the counters map holds one u64 per plan and reason.
enum class loss_reason : std::uint32_t {
  output_full = 0,     ///< the ring or perf buffer had no room
  no_storage = 1,      ///< no in-flight entry could be had (allocation failed, map full)
  unmatched_exit = 2,  ///< an exit without its enter (tracing began mid-call, entry evicted)
  rate_limited = 3,    ///< dropped at enter by the per-process rate limit (on purpose)
};
inline constexpr std::uint32_t loss_reason_count = 4;

/// The maps the programs use, by fd, as the loader created them.
struct program_maps {
  int output_fd = -1;
  int counters_fd = -1;
  std::vector<int> storage_fd;             ///< per plan: its in-flight map
  std::vector<std::uint32_t> storage_size; ///< per plan: that map's value size
  event_map_kind storage_kind = event_map_kind::task_storage;
  /// Hash storage only: a per-CPU array whose one zeroed value seeds new entries.
  int seed_fd = -1;
  /// Summary mode (codegen/summary.hpp): per-CPU counters by plan, and errors by errno.
  int summary_fd = -1;
  int errno_fd = -1;
};

/// Byte offsets in the running kernel's structures (from its BTF) that let an exit
/// program find the new image's argv and envp after an execve.
struct exec_layout {
  bool available = false;
  std::uint32_t task_mm = 0;
  std::uint32_t arg_start = 0;
  std::uint32_t arg_end = 0;
  std::uint32_t env_start = 0;
  std::uint32_t env_end = 0;
};

/// Byte offsets in the running kernel's structures (from its BTF) that the enter programs
/// follow from the current task to the process context (process_context.cpp).
struct context_layout {
  context_fields fields;  ///< what to read; empty: no context block
  std::uint32_t task_real_parent = 0, task_tgid = 0, task_mm = 0, task_nsproxy = 0;
  std::uint32_t task_cred = 0, task_thread_pid = 0;
  std::uint32_t mm_exe_file = 0, file_inode = 0, file_dentry = 0, inode_ino = 0, inode_sb = 0;
  std::uint32_t sb_dev = 0, dentry_name = 0;
  std::uint32_t nsproxy_mnt_ns = 0, nsproxy_net_ns = 0, mnt_ns_inum = 0, net_inum = 0;
  std::uint32_t cred_user_ns = 0, user_ns_inum = 0;
  std::uint32_t pid_level = 0, pid_numbers = 0, upid_size = 0, upid_ns = 0, pid_ns_inum = 0;
};

/// The filters as the programs apply them.
struct filter_code {
  int process_map_fd = -1;  ///< hash of traced process ids; -1: every process
  /// Add the children the traced processes create (sched_process_fork/exit programs).
  bool follow_children = true;
  std::vector<std::uint32_t> user_ids;
  std::vector<std::array<char, 16>> commands;  ///< NUL-padded
  /// Only calls from the cgroup v2 `cgroup_id` or below it: its ancestor at
  /// `cgroup_level` (the root is level 0) must be it. 0: any cgroup.
  std::uint64_t cgroup_id = 0;
  std::uint32_t cgroup_level = 0;
  result_filter result = result_filter::any;
  /// The rate limit's token buckets (rate_limit.hpp); -1: no limit.
  int rate_limit_fd = -1;
  std::uint32_t rate_per_second = 0;
  std::uint32_t rate_burst = 0;  ///< resolved: never 0 when a limit is set
  // Record offsets in sched:sched_process_fork and sched:sched_process_exit.
  std::uint32_t fork_child_pid = 20;
  std::uint32_t exit_pid = 24;
  std::uint32_t exit_group_dead = 32;
};

/// Index in the counters map of the session-wide counters, after the plans' ones.
enum class global_counter : std::uint32_t {
  untracked_children = 0,  ///< children a filtered process created that the map could not hold
  excluded_self = 1,       ///< calls of the tracing process itself, dropped at enter (self_tgid)
};

struct codegen_options {
  exec_layout exec;
  context_layout context;
  filter_code filter;
  transport output = transport::ring;
  std::uint32_t self_tgid = 0;     ///< a process whose calls are never recorded (0: none)
  std::uint64_t wakeup_bytes = 0;  ///< ring: wake the reader once this much data waits
  bool keep_ir = false;            ///< keep the module's text (tracer::ir(), and tests)
  bool summary = false;            ///< count in the kernel, send nothing (codegen/summary.hpp)
};

struct program_code {
  std::string name;        ///< "enter_openat"
  std::string tracepoint;  ///< "sys_enter_openat"
  std::vector<bpf_insn> instructions;
};

struct generated_code {
  std::string ir;  ///< the optimised module, when asked for
  std::vector<program_code> programs;
};

/// Bytes of in-flight entry a plan needs: header, arguments, `context_bytes` of process
/// context and room for its `max_captures` largest captures (each whole).
std::uint32_t entry_size(const plan& p, std::uint32_t max_captures, std::uint32_t context_bytes = 0);

/// Builds the enter and exit programs of every plan in one module, compiles it with the
/// BPF back end in memory and returns each program's instructions.
expected<generated_code> generate_programs(std::span<const plan> plans, const program_maps& maps,
                                           const codegen_options& options);

}  // namespace ebpfpub::detail
