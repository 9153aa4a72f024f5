#pragma once
// The dispatch attach mode's part of a session: whether a session dispatches, the
// kernel facts its programs need (register offsets from BTF), and its two program
// arrays, filled with the syscalls' programs by number.

#include <span>
#include <vector>

#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/tracer.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "session/test_faults.hpp"

namespace ebpfpub::detail {

/// True when `mode` (resolved for these plans when automatic) is dispatch. Dispatch asked
/// for explicitly fails, naming the reason, where it cannot work: another architecture
/// than x86_64, a syscall whose number ebpfpub does not know.
expected<bool> resolve_dispatch(attach_mode mode, std::span<const plan> plans);

/// The enter and exit program arrays (slots by syscall number) and the array of each
/// number's plan index, made before the code that embeds them is generated; `layout` gets
/// their fds and the register offsets.
struct dispatch_tables {
  map enter;
  map exit;
  map plan_index;
  static expected<dispatch_tables> create(dispatch_layout& layout, std::span<const plan> plans,
                                          injected_faults& faults);
};

/// Puts each syscall program (kind btf_tracepoint or raw_tracepoint, tracepoint
/// "sys_enter_..." or "sys_exit_...") in the slots of its syscalls; `fds[i]` is
/// `code[i]`'s loaded program.
expected<void> fill_dispatch_tables(const dispatch_tables& tables, const std::vector<program_code>& code,
                                    const std::vector<unique_fd>& fds);

}  // namespace ebpfpub::detail
