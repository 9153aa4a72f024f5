#pragma once
// The program generators compiler.cpp calls: the syscalls' programs
// (syscall_programs.cpp) and process tracking (process_tracking.cpp).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <ebpfpub/plan.hpp>

#include "codegen/bpf_builder.hpp"
#include "codegen/codegen.hpp"

namespace ebpfpub::detail {

struct generated_function {
  llvm::Function* function;
  std::string tracepoint;  ///< "sys_enter_openat", or "sched/sched_process_fork"
  program_kind kind = program_kind::tracepoint;
  std::vector<std::string> syscalls;  ///< dispatch mode: the slots it fills
};

/// Dispatch mode: the two programs attached to raw_syscalls:sys_enter and sys_exit that
/// tail-call the syscall's program by number (its slot empty: nothing happens).
void generate_dispatchers(bpf_builder& builder, const codegen_options& options,
                          std::vector<generated_function>& out);

/// Adds the two programs that keep the process filter's map current: children of traced
/// processes join it at fork (sched:sched_process_fork), processes leave it at exit.
void generate_process_tracking(bpf_builder& builder, std::uint32_t counters_base,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out);

/// Adds every plan's enter program and one exit program per exit tracepoint to the
/// builder's module.
void generate_session_programs(bpf_builder& builder, std::span<const plan> plans,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out);

}  // namespace ebpfpub::detail
