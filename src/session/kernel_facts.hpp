#pragma once
// What the session must learn from the running kernel before it creates anything:
// tracepoint ids (tracefs), the sched tracepoints' record layout, and structure offsets
// (BTF). Reading them first means a kernel that lacks one fails before any object exists.

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/tracefs.hpp>

#include "codegen/codegen.hpp"

namespace ebpfpub::detail {

/// Tracepoint ids by the name programs are generated for: "sys_enter_openat",
/// "sys_exit_execve", "sched/sched_process_fork".
using tracepoint_ids = std::map<std::string, std::uint32_t>;

/// The enter and exit tracepoints of every plan, and the exits they name as aliases.
expected<tracepoint_ids> syscall_tracepoints(const tracefs& fs, std::span<const plan> plans);

/// Where sched_process_fork and sched_process_exit keep the fields process tracking
/// reads, and their ids (added to `ids`).
expected<void> sched_tracepoints(const tracefs& fs, filter_code& filter, tracepoint_ids& ids);

/// The offsets an exit program needs to read a new image's argv, when a plan asks;
/// `available` is false when no plan asks or the kernel's BTF lacks one.
exec_layout exec_layout_for(std::span<const plan> plans);

/// The offsets fd identity captures read through, when a plan asks (`needed` is false
/// otherwise); an error names the structure and member the kernel's BTF lacks.
expected<fd_layout> fd_layout_for(std::span<const plan> plans);

/// The offsets base directory captures walk through, when a plan asks, or a filter tests an
/// fd's path (`fd_path_filters`; `needed` is false otherwise); an error names the
/// structure and member the kernel's BTF lacks.
expected<path_layout> path_layout_for(std::span<const plan> plans, bool fd_path_filters = false);

/// The offsets the enter programs follow to read `fields` (empty: none needed); an
/// error names the structure and member this kernel's BTF lacks.
expected<context_layout> context_layout_for(context_fields fields);

/// filter.cgroup as the programs test it: the cgroup's id and depth below the cgroup2
/// root; an error names the path and why it is no cgroup.
expected<void> cgroup_filter(const filter_options& filter, filter_code& code);

}  // namespace ebpfpub::detail
