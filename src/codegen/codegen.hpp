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
#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>

#include "kernel/kernel.hpp"

namespace ebpfpub::detail {

/// Why an event was not delivered; the counters map holds one u64 per plan and reason.
enum class loss_reason : std::uint32_t {
  output_full = 0,     ///< the ring or perf buffer had no room
  no_storage = 1,      ///< no in-flight entry could be had (allocation failed, map full)
  unmatched_exit = 2,  ///< an exit without its enter (tracing began mid-call, entry evicted)
  rate_limited = 3,    ///< dropped at enter by the per-process rate limit (on purpose)
  filtered = 4,        ///< rejected by the plan's filter expression (on purpose)
};
inline constexpr std::uint32_t loss_reason_count = 5;

/// The maps the programs use, by fd, as the loader created them.
struct program_maps {
  int output_fd = -1;
  int counters_fd = -1;
  std::vector<int> storage_fd;             ///< per plan: its in-flight map
  std::vector<std::uint32_t> storage_size; ///< per plan: that map's value size
  /// Per plan: its own largest record (its entry_size(); a shared map's values may be
  /// larger), the size of the ring slot its exit program reserves.
  std::vector<std::uint32_t> record_size;
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

/// Byte offsets in the running kernel's structures (from its BTF) that lead from the
/// current task to the file an fd names and to what it is (capture_op::fd_identity).
/// Socket fields are offsets in struct sock (its __sk_common included).
struct fd_layout {
  bool needed = false;
  std::uint32_t task_files = 0;        // task_struct.files
  std::uint32_t files_fdt = 0;         // files_struct.fdt
  std::uint32_t fdt_max_fds = 0;       // fdtable.max_fds
  std::uint32_t fdt_fd = 0;            // fdtable.fd
  std::uint32_t file_inode = 0;        // file.f_inode
  std::uint32_t file_flags = 0;        // file.f_flags
  std::uint32_t file_private = 0;      // file.private_data
  std::uint32_t file_dentry = 0;       // file.f_path + path.dentry
  std::uint32_t dentry_name = 0;       // dentry.d_name + qstr.name
  /// dentry.d_shortname (d_iname before Linux 6.14): where a short name is kept inline;
  /// 0 when the kernel has neither.
  std::uint32_t dentry_inline_name = 0;
  std::uint32_t inode_ino = 0;         // inode.i_ino
  std::uint32_t inode_mode = 0;        // inode.i_mode
  std::uint32_t inode_sb = 0;          // inode.i_sb
  std::uint32_t sb_dev = 0;            // super_block.s_dev
  std::uint32_t socket_sk = 0;         // socket.sk
  std::uint32_t sk_family = 0;         // skc_family
  std::uint32_t sk_type = 0;           // sock.sk_type
  std::uint32_t sk_protocol = 0;       // sock.sk_protocol
  std::uint32_t sk_rcv_saddr = 0;      // skc_rcv_saddr
  std::uint32_t sk_daddr = 0;          // skc_daddr
  std::uint32_t sk_num = 0;            // skc_num
  std::uint32_t sk_dport = 0;          // skc_dport
  std::uint32_t sk_v6_rcv_saddr = 0;   // skc_v6_rcv_saddr
  std::uint32_t sk_v6_daddr = 0;       // skc_v6_daddr
  std::uint32_t unix_addr = 0;         // unix_sock.addr
  std::uint32_t unix_peer = 0;         // unix_sock.peer
  std::uint32_t unix_address_len = 0;  // unix_address.len
  std::uint32_t unix_address_name = 0; // unix_address.name (a struct sockaddr_un)
  /// BTF ids of the kfunc bpf_rdonly_cast and of struct file, when this kernel lets
  /// bpf_rdonly_cast make untyped memory readable (Linux 6.16 on): the slot fd[fd] and the
  /// file behind it are then read with typed loads. 0: helper calls instead.
  std::uint32_t rdonly_cast = 0;
  std::uint32_t file_type = 0;
};

/// Byte offsets in the running kernel's structures (from its BTF) that lead from the
/// current task to a path's base directory (its cwd, or a directory fd's file) and up
/// its dentries and mounts to its root (capture_op::base_directory, captures/path_walk.cpp).
struct path_layout {
  bool needed = false;
  std::uint32_t task_fs = 0;           // task_struct.fs
  std::uint32_t fs_pwd = 0;            // fs_struct.pwd (a struct path)
  std::uint32_t fs_root = 0;           // fs_struct.root
  std::uint32_t path_mnt = 0;          // path.mnt (a struct vfsmount *)
  std::uint32_t path_dentry = 0;       // path.dentry
  std::uint32_t dentry_parent = 0;     // dentry.d_parent
  std::uint32_t dentry_name = 0;       // dentry.d_name + qstr.name
  std::uint32_t dentry_name_len = 0;   // dentry.d_name + qstr.len
  std::uint32_t dentry_hash_pprev = 0; // dentry.d_hash + hlist_bl_node.pprev (NULL: unhashed)
  std::uint32_t vfsmount_root = 0;     // vfsmount.mnt_root
  std::uint32_t mount_mnt = 0;         // mount.mnt: the vfsmount embedded in its struct mount
  std::uint32_t mount_parent = 0;      // mount.mnt_parent
  std::uint32_t mount_mountpoint = 0;  // mount.mnt_mountpoint
  std::uint32_t task_files = 0;        // task_struct.files
  std::uint32_t files_fdt = 0;         // files_struct.fdt
  std::uint32_t fdt_max_fds = 0;       // fdtable.max_fds
  std::uint32_t fdt_fd = 0;            // fdtable.fd
  std::uint32_t file_path = 0;         // file.f_path
};

/// Byte offsets in the running kernel's structures (from its BTF) that the enter programs
/// follow from the current task to the process context (process_context.cpp).
struct context_layout {
  context_fields fields;  ///< what to read; empty: no context block
  std::uint32_t task_real_parent = 0, task_tgid = 0, task_mm = 0, task_nsproxy = 0;
  std::uint32_t task_cred = 0, task_thread_pid = 0;
  std::uint32_t mm_exe_file = 0, file_inode = 0, file_dentry = 0, inode_ino = 0, inode_sb = 0;
  std::uint32_t sb_dev = 0, dentry_name = 0;
  /// dentry.d_shortname (d_iname before Linux 6.14), where a short name is kept inline;
  /// 0 when the kernel has neither: the name is then read through d_name.name.
  std::uint32_t dentry_inline_name = 0;
  std::uint32_t nsproxy_mnt_ns = 0, nsproxy_net_ns = 0, mnt_ns_inum = 0, net_inum = 0;
  std::uint32_t cred_user_ns = 0, user_ns_inum = 0;
  std::uint32_t pid_level = 0, pid_numbers = 0, upid_size = 0, upid_ns = 0, pid_ns_inum = 0;
  /// task->cgroups->dfl_cgrp->kn->id: the cgroup v2 id, as bpf_get_current_cgroup_id().
  std::uint32_t task_cgroups = 0, css_set_dfl_cgrp = 0, cgroup_kn = 0, kernfs_node_id = 0;
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

/// Dispatch mode: the syscalls' programs are reached by tail call from one program on
/// raw_syscalls:sys_enter and one on sys_exit; they read the arguments from the caller's
/// registers (`struct pt_regs`, offsets from the kernel's BTF).
struct dispatch_layout {
  bool enabled = false;
  /// The BTF ids of the typedefs btf_trace_sys_enter and btf_trace_sys_exit: every
  /// program is then a tp_btf one (program_kind::btf_tracepoint) typed for the tracepoint
  /// it runs on, whose registers and task are read with plain loads. 0: the kernel
  /// refused that form (or a test asked for the other); raw tracepoint programs, which
  /// read them with bpf_probe_read_kernel.
  std::uint32_t enter_btf_id = 0;
  std::uint32_t exit_btf_id = 0;
  int enter_programs_fd = -1;  ///< program array: enter programs by syscall number
  int exit_programs_fd = -1;   ///< program array: exit programs by syscall number
  /// Array: syscall number -> the index of its plan, so that plans of one shape share
  /// their programs (-1: every plan has its own).
  int plan_index_fd = -1;
  /// Offsets in pt_regs of the six argument registers, in argument order (x86_64:
  /// di, si, dx, r10, r8, r9), and of orig_ax (the number of the call at exit).
  std::array<std::uint32_t, 6> argument_registers{};
  std::uint32_t orig_ax = 0;
  /// Offset in task_struct of thread_info.status, whose TS_COMPAT bit marks a 32-bit
  /// call: syscall tracepoints never see those (their numbers are another table's).
  std::uint32_t thread_status = 0;
};

struct codegen_options {
  exec_layout exec;
  fd_layout fd;
  path_layout paths;
  dispatch_layout dispatch;
  context_layout context;
  filter_code filter;
  /// Per plan (by index, or none at all): the filter expression its calls must pass, an
  /// `and` of every filter on the syscall (an empty `and`: every call passes).
  std::vector<filter::checked_expression> expressions;
  /// The task storage map a filter on an fd's path walks it in (fd_path_scratch); -1: none.
  int fd_path_scratch_fd = -1;
  transport output = transport::ring;
  ring_write write = ring_write::staged;  ///< ring only; perf is always staged
  std::uint32_t self_tgid = 0;     ///< a process whose calls are never recorded (0: none)
  std::uint64_t wakeup_bytes = 0;  ///< ring: wake the reader once this much data waits
  bool keep_ir = false;            ///< keep the module's text (tracer::ir(), and tests)
  bool summary = false;            ///< count in the kernel, send nothing (codegen/summary.hpp)
};

struct program_code {
  std::string name;        ///< "enter_openat"
  /// "sys_enter_openat"; the dispatchers "raw_syscalls/sys_enter" and "raw_syscalls/sys_exit"
  std::string tracepoint;
  program_kind kind = program_kind::tracepoint;
  /// Dispatch mode: the syscalls whose slot this program fills (several when they share it).
  std::vector<std::string> syscalls;
  std::vector<bpf_insn> instructions;
  /// program_kind::btf_tracepoint: the BTF id of the tracepoint's typedef it is loaded
  /// for (the enter programs and their dispatcher sys_enter's, the exits sys_exit's).
  std::uint32_t attach_btf_id = 0;
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
