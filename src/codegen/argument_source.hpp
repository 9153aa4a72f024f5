#pragma once
// Where a syscall's program finds the call's arguments and its return value, which is
// what the two attach modes differ in: the syscall tracepoint's record (sys_enter_<name>:
// the arguments at offsets its format gives; sys_exit_<name>: `ret`), or the raw
// tracepoints' arguments (raw_syscalls:sys_enter/sys_exit: the caller's registers, and
// at exit the return value, typed by BTF where the kernel allows). Everything after the
// loads is the same code.

#include <memory>
#include <vector>

#include <ebpfpub/signature.hpp>

#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {

class argument_source {
 public:
  virtual ~argument_source() = default;
  /// The program type (and ELF section) the programs that read through this source have.
  virtual program_kind kind() const = 0;
  /// Runs first in every syscall program: ends (at `done`) the calls that the syscall's
  /// own tracepoint would never have seen.
  virtual void guard(program& p) const = 0;
  /// The call's argument slots, 64 bits each, in the order of `s.arguments`.
  virtual std::vector<llvm::Value*> arguments(program& p, const syscall_description& s) const = 0;
  /// The call's return value (exit programs).
  virtual llvm::Value* return_value(program& p, const syscall_description& s) const = 0;
  /// Whether exit programs can read the arguments too (the registers are there at exit;
  /// a sys_exit_<name> record has only `ret`).
  virtual bool arguments_at_exit() const = 0;
  /// Whether programs can learn their plan's index when they run (run_time_index), so
  /// that plans of one shape can share a program.
  virtual bool shares_programs() const = 0;
  /// The index (i32) of the plan of the call being made, by its syscall number; a call
  /// of no traced plan ends at `done`.
  virtual llvm::Value* run_time_index(program& p, syscall_phase phase) const = 0;
};

/// The record of the syscall's own tracepoints, or (options.dispatch.enabled) the
/// registers the raw_syscalls tracepoints pass.
std::unique_ptr<argument_source> make_argument_source(const codegen_options& options);

/// raw_syscalls' `struct pt_regs *regs` (the context's args[0]).
llvm::Value* syscall_regs(bpf_builder& b, llvm::Value* ctx);
/// At raw_syscalls:sys_exit, the call's number: regs->orig_ax (what syscall_get_nr()
/// returns, and so the number by which the kernel picks the sys_exit_<name> tracepoint).
/// A plain load in tp_btf programs; else read into `slot` (an i64 stack slot) by
/// bpf_probe_read_kernel, -1 when that read fails.
llvm::Value* exit_syscall_number(bpf_builder& b, llvm::Value* ctx, const dispatch_layout& layout,
                                 llvm::Value* slot);

/// "tracepoint", "raw_tracepoint" or "tp_btf": the section prefix of a program of that kind.
const char* section_prefix(program_kind kind);

}  // namespace ebpfpub::detail
