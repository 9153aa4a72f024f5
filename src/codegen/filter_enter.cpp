// The numbers stage of an enter filter, decided before the enter program writes the entry:
// on the ids and arguments the program already has in hand (enter_values), so that a call
// it rejects pays for no timestamp, no header and no argument slot, only for the mark its
// exit program needs.

#include "codegen/filter_code.hpp"
#include "codegen/strategies.hpp"

namespace ebpfpub::detail {

bool reads_source(const filter::checked_expression& e, filter::operand_source::kind kind) {
  if (e.type != filter::expression::kind::comparison) {
    for (const auto& o : e.operands)
      if (reads_source(o, kind)) return true;
    return false;
  }
  return e.test.source.type == kind;
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
  // entry marked, or it would count an exit without its enter.
  if (!t.p->emit_at_enter) mark_rejected(p, storage, t);
  count_loss(p, t, loss_reason::filtered);
  b.CreateBr(p.done);
  b.SetInsertPoint(keep);
}

}  // namespace ebpfpub::detail
