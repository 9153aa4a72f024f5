#pragma once
// The frame every generated program shares: the function and its section, the stack
// slots, the `done` block every path ends in, the self and user filters, the loss
// counters, and the one shape every fallible helper call takes (branch_on_fault).

#include <cstdint>
#include <optional>
#include <string>

#include <llvm/IR/Function.h>

#include <ebpfpub/plan.hpp>

#include "codegen/bpf_builder.hpp"
#include "codegen/codegen.hpp"

namespace ebpfpub::detail {

class argument_source;

/// A plan a program works for: its index in the session and its in-flight storage.
struct target {
  const plan* p;
  std::uint16_t index;
  int storage_fd;
  std::uint32_t storage_size;
  /// The plan's own largest record: the ring slot its exit program reserves (at most
  /// storage_size; a shared map's entries are sized for the largest plan).
  std::uint32_t record_size;
  /// A program shared by several plans of the same shape (dispatch mode) learns its
  /// plan's index when it runs (an i32); `index` is then the first plan's.
  llvm::Value* runtime_index = nullptr;
  /// The numbers part of the plan's filter runs again at exit (filter_enter.cpp,
  /// retests_at_exit), so the enter of a call it rejects leaves no mark in the entry.
  bool retest_at_exit = false;
};


/// One program being built: the builder, its function and the slots every part uses.
struct program {
  bpf_builder& b;
  const program_maps& maps;
  const codegen_options& options;
  llvm::Function* function = nullptr;
  llvm::Argument* ctx = nullptr;
  llvm::BasicBlock* done = nullptr;  ///< returns 0; every path ends here
  llvm::Value* cursor = nullptr;     ///< i64: where the next capture goes in the entry
  llvm::Value* key = nullptr;        ///< i32: map keys (counters, processes)
  llvm::Value* thread_key = nullptr; ///< i32: the hash storage's key
  llvm::Value* length_slot = nullptr;  ///< i32 read from user memory (a length)
  llvm::Value* pid_tgid = nullptr;

  /// A new block at the end of the function.
  llvm::BasicBlock* block(const char* name);
  /// A stack slot in the entry block, where LLVM expects every alloca.
  llvm::Value* entry_alloca(llvm::Type* type, const char* name);
  /// Ends the function at `done` (returning 0) and returns it.
  llvm::Function* finish();
};

/// Creates the function `name` in section tracepoint/`name` (a syscall program: in the
/// section of its `source`'s kind, its guard first), its stack slots and (with
/// `with_filters`) the self, process, user and command filters; the builder is left
/// where the program's work starts. A call the self filter drops adds 1 to counter
/// `self_counter` when one is given (enter programs: each call counts once). Without
/// `checks_first`, none of these run and pid_tgid is not read: the program runs them later
/// with emit_call_checks (an exit program, only when no entry of its own is in flight).
program begin_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                      const std::string& name, bool with_filters = true,
                      std::optional<std::uint32_t> self_counter = std::nullopt,
                      const argument_source* source = nullptr, bool checks_first = true);

/// The checks begin_program runs first: the source's guard, pid_tgid (read here unless
/// the program already has it), and with `with_filters` the self, process, user, command
/// and cgroup filters; a call they drop ends at `done`.
void emit_call_checks(program& p, bool with_filters, std::optional<std::uint32_t> self_counter,
                      const argument_source* source);

/// The target's plan index as an integer of `type`: the constant, or the run-time value.
llvm::Value* plan_index(program& p, const target& t, llvm::Type* type);

/// counters[slot] += 1 (per-CPU array).
void count_at(program& p, std::uint32_t slot);
void count_at(program& p, llvm::Value* slot);
/// counters[t.index * reasons + reason] += 1.
void count_loss(program& p, const target& t, loss_reason reason);

/// After a helper that returns a negative errno on failure: branches to a new block
/// `fault_name` when `result` < 0, and continues in a new block `ok_name` otherwise.
/// Returns the fault block, still open: the caller ends it (usually with a branch to
/// where the failure is recorded).
llvm::BasicBlock* branch_on_fault(program& p, llvm::Value* result, const char* ok_name,
                                  const char* fault_name);

/// The smallest all-ones mask that covers `n` (a length of at most n stays below it).
std::uint64_t mask_for(std::uint32_t n);

}  // namespace ebpfpub::detail
