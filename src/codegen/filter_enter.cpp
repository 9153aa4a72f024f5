// The numbers stage of an enter filter, decided before the enter program writes the entry:
// on the ids and arguments the program already has in hand (enter_values), so that a call
// it rejects pays for no timestamp, no header and no argument slot. Its exit must still
// tell it from an exit without its enter: either the enter marks the thread's entry, or,
// where the exit can read the same values and the call cannot change them, the exit runs
// the same test again and a rejected call touches no per-thread state at all.

#include "codegen/argument_source.hpp"
#include "codegen/filter_code.hpp"
#include "codegen/strategies.hpp"

namespace ebpfpub::detail {

using source_kind = filter::operand_source::kind;

bool reads_source(const filter::checked_expression& e, source_kind kind) {
  if (e.type != filter::expression::kind::comparison) {
    for (const auto& o : e.operands)
      if (reads_source(o, kind)) return true;
    return false;
  }
  return e.test.source.type == kind;
}

enter_values numbers_values(program& p, const argument_source& source, const plan& plan,
                            const filter::checked_expression& e) {
  enter_values values{p.pid_tgid};
  if (reads_source(e, source_kind::user_id) || reads_source(e, source_kind::group_id))
    values.uid_gid = p.b.CreateGetCurrentUidGid();
  if (reads_source(e, source_kind::argument)) values.arguments = source.arguments(p, plan.syscall);
  return values;
}

std::optional<filter::checked_expression> numbers_stage(const filter_parts& f) {
  if (!f.enter) return std::nullopt;
  return by_stage(*f.enter)[static_cast<std::size_t>(filter_stage::numbers)];
}

bool retests_at_exit(const argument_source& source, const plan& plan, const filter::checked_expression& numbers,
                     bool alone_at_exit) {
  // An exit program with several targets, or a call that ends at another's, would have
  // to tell a rejected call from an entry another target left.
  if (!alone_at_exit || !plan.exit_aliases.empty()) return false;
  if (plan.emit_at_enter || changes_caller(plan.syscall.name)) return false;
  // Another thread may rename this one (/proc/PID/task/TID/comm) while the call runs.
  if (reads_source(numbers, source_kind::comm)) return false;
  return !reads_source(numbers, source_kind::argument) || source.arguments_at_exit();
}

void apply_filter_before_entry(program& p, const storage_strategy& storage, const target& t,
                               const filter::checked_expression& e, const enter_values& values) {
  auto& b = p.b;
  capture_context cc{p, t, nullptr, nullptr, &values};
  auto* pass = emit_filter(cc, e);
  auto* keep = p.block("filter_passed");
  auto* drop = p.block("filtered");
  b.CreateCondBr(pass, keep, drop);
  b.SetInsertPoint(drop);
  // A call sent at enter has no exit program to tell; any other's exit must find its
  // entry marked, or run the test again, or it would count an exit without its enter.
  if (!t.p->emit_at_enter && !t.retest_at_exit) mark_rejected(p, storage, t);
  count_loss(p, t, loss_reason::filtered);
  b.CreateBr(p.done);
  b.SetInsertPoint(keep);
}

void retest_before_claim(program& p, const argument_source& source, const target& t,
                         const filter::checked_expression& numbers) {
  auto& b = p.b;
  // A helper call (~10 ns): only for a test on the process or thread id.
  if (!p.pid_tgid && (reads_source(numbers, source_kind::process_id) || reads_source(numbers, source_kind::thread_id)))
    p.pid_tgid = b.CreateGetCurrentPidTgid();
  const auto values = numbers_values(p, source, *t.p, numbers);
  capture_context cc{p, t, nullptr, nullptr, &values};
  auto* pass = emit_filter(cc, numbers);
  auto* again = p.block("passed_again");
  // Rejected at enter too (and counted there): nothing to release, nothing to count.
  b.CreateCondBr(pass, again, p.done);
  b.SetInsertPoint(again);
}

}  // namespace ebpfpub::detail
