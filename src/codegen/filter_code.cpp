// Filters as code: the expression's shape (and, or, not), where its parts run, the
// number comparisons, and finding a capture in the entry for the string and address ones.

#include "codegen/filter_code.hpp"

#include <cassert>
#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {
namespace {

using filter::checked_comparison;
using filter::checked_expression;
using filter::comparison_op;
using source = filter::operand_source::kind;

bool is_number(source s) {
  switch (s) {
    case source::process_id:
    case source::thread_id:
    case source::user_id:
    case source::group_id:
    case source::exit_code:
    case source::argument:
      return true;
    default:
      return false;
  }
}

// The bits of a value as the comparison sees them: an argument of `width` bytes cut to
// its width (the tracepoint's 8-byte slot may hold anything above an int) and extended
// by its C type's sign; header ids are u32; the exit code is a signed long.
struct number_type {
  unsigned bits = 64;
  bool is_signed = false;
};

number_type type_of(const filter::operand_source& s) {
  switch (s.type) {
    case source::exit_code:
      return {64, true};
    case source::argument:
      return {s.width >= 1 && s.width <= 8 ? 8u * s.width : 64u, s.is_signed};
    case source::context_number:
    case source::fd_number:
      return {s.width >= 1 && s.width <= 8 ? 8u * s.width : 64u, false};
    default:
      return {32, false};
  }
}

llvm::Value* extend(bpf_builder& b, llvm::Value* v, number_type t) {
  if (t.bits == 64) return v;
  auto* cut = b.CreateTrunc(v, b.getIntNTy(t.bits));
  return t.is_signed ? b.CreateSExt(cut, b.getInt64Ty()) : b.CreateZExt(cut, b.getInt64Ty());
}

// The constant as the value's type reads it: `flags == -1` on a u32 means 0xffffffff.
std::int64_t normalized(std::int64_t n, number_type t) {
  if (t.bits == 64) return n;
  const auto mask = (std::uint64_t{1} << t.bits) - 1;
  auto u = static_cast<std::uint64_t>(n) & mask;
  if (t.is_signed && (u >> (t.bits - 1)) != 0) u |= ~mask;
  return static_cast<std::int64_t>(u);
}

llvm::Value* header_u32(capture_context& cc, std::uint32_t offset) {
  auto& b = cc.p.b;
  return b.CreateZExt(b.CreateLoadAt(b.getInt32Ty(), cc.entry, offset), b.getInt64Ty());
}

// The same fields from the values enter has before it writes the entry: pid_tgid is
// tgid << 32 | tid, uid_gid is gid << 32 | uid (the entry keeps them in these halves).
llvm::Value* loaded_number(capture_context& cc, const filter::operand_source& s) {
  auto& b = cc.p.b;
  const auto& v = *cc.values;
  auto half = [&](llvm::Value* both, bool high) {
    assert(both);
    return high ? b.CreateLShr(both, 32) : b.CreateAnd(both, b.getInt64(0xffffffff));
  };
  switch (s.type) {
    case source::process_id: return half(v.pid_tgid, true);
    case source::thread_id: return half(v.pid_tgid, false);
    case source::user_id: return half(v.uid_gid, false);
    case source::group_id: return half(v.uid_gid, true);
    case source::argument: return extend(b, v.arguments.at(s.argument), type_of(s));
    default: break;
  }
  assert(false && "not a number enter has");
  return b.getInt64(0);
}

llvm::Value* number_of(capture_context& cc, const filter::operand_source& s) {
  auto& b = cc.p.b;
  if (cc.values && s.type != source::exit_code) return loaded_number(cc, s);
  switch (s.type) {
    case source::process_id:
      return header_u32(cc, record::offset::process_id);
    case source::thread_id:
      return header_u32(cc, record::offset::thread_id);
    case source::user_id:
      return header_u32(cc, record::offset::user_id);
    case source::group_id:
      return header_u32(cc, record::offset::group_id);
    case source::exit_code:
      // check() puts every test on the exit code at exit, where the result is known.
      assert(cc.ret);
      return cc.ret;
    case source::argument:
      return extend(b, argument_slot(cc, s.argument), type_of(s));
    default:
      break;
  }
  assert(false && "not a number");
  return b.getInt64(0);
}

llvm::Value* combine(capture_context& cc, const checked_expression& e) {
  auto& b = cc.p.b;
  switch (e.type) {
    case filter::expression::kind::comparison: {
      const auto s = e.test.source.type;
      if (is_number(s)) return emit_number_test(cc, e.test);
      if (s == source::comm || s == source::string_capture) return emit_string_test(cc, e.test);
      if (s == source::sockaddr_family || s == source::sockaddr_port || s == source::sockaddr_address)
        return emit_sockaddr_test(cc, e.test);
      return emit_field_test(cc, e.test);
    }
    case filter::expression::kind::negation:
      return b.CreateNot(combine(cc, e.operands.at(0)));
    case filter::expression::kind::all_of:
    case filter::expression::kind::any_of:
      return combine_paths_last(cc.p, e, e.type == filter::expression::kind::all_of,
                                [&](const checked_expression& o) { return combine(cc, o); });
  }
  return b.getTrue();
}

}  // namespace

namespace {
// Whether `e` tests a string that enter may leave to exit's second read: decided at enter,
// such a test would see no capture and reject a call that matches.
bool reads_retried_string(const checked_expression& e, const plan& p) {
  if (e.type != filter::expression::kind::comparison) {
    for (const auto& o : e.operands)
      if (reads_retried_string(o, p)) return true;
    return false;
  }
  const auto& s = e.test.source;
  return s.type == source::string_capture && s.capture < p.captures.size() &&
         retryable(p, s.capture, p.captures[s.capture]);
}
}  // namespace

namespace {
// The operands of an `and`, with the `and`s among them opened: the session's `and` of the
// filters holds each filter's own top-level `and`, whose parts must split as well.
void add_conjuncts(const checked_expression& e, std::vector<const checked_expression*>& out) {
  if (e.type != filter::expression::kind::all_of) {
    out.push_back(&e);
    return;
  }
  for (const auto& o : e.operands) add_conjuncts(o, out);
}
std::vector<const checked_expression*> conjuncts(const checked_expression& e) {
  std::vector<const checked_expression*> out;
  add_conjuncts(e, out);
  return out;
}
}  // namespace

filter_parts split_filter(const checked_expression& e, const plan& p) {
  filter_parts parts;
  const bool is_and = e.type == filter::expression::kind::all_of;
  if (is_and && e.operands.empty()) return parts;
  const auto at_enter = [&](const checked_expression& o) { return o.at_enter && !reads_retried_string(o, p); };
  if (!is_and) {
    (at_enter(e) ? parts.enter : parts.exit) = e;
    return parts;
  }
  // The parts of an `and` that enter can decide drop the call there; the rest wait.
  for (const auto* o : conjuncts(e)) {
    const bool enter = at_enter(*o);
    auto& part = enter ? parts.enter : parts.exit;
    if (!part) {
      part.emplace();
      part->type = filter::expression::kind::all_of;
      part->at_enter = enter;
    }
    part->operands.push_back(*o);
  }
  return parts;
}

bool reads_captures(const checked_expression& e) {
  if (e.type != filter::expression::kind::comparison) {
    for (const auto& o : e.operands)
      if (reads_captures(o)) return true;
    return false;
  }
  switch (e.test.source.type) {
    case source::string_capture:
    case source::sockaddr_family:
    case source::sockaddr_port:
    case source::sockaddr_address:
    case source::fd_number:
    case source::fd_kind:
    case source::fd_address:
    case source::fd_string:
    case source::fd_path:
      return true;
    default:
      return false;
  }
}

namespace {
bool reads_context(const checked_expression& e) {
  if (e.type != filter::expression::kind::comparison) {
    for (const auto& o : e.operands)
      if (reads_context(o)) return true;
    return false;
  }
  return e.test.source.type == source::context_number || e.test.source.type == source::context_string;
}
}  // namespace

filter_stage stage_of(const checked_expression& e) {
  if (reads_captures(e)) return filter_stage::captures;
  return reads_context(e) ? filter_stage::context : filter_stage::numbers;
}

std::array<std::optional<checked_expression>, filter_stage_count> by_stage(const checked_expression& e) {
  std::array<std::optional<checked_expression>, filter_stage_count> out;
  if (e.type != filter::expression::kind::all_of) {
    out[static_cast<std::size_t>(stage_of(e))] = e;
    return out;
  }
  for (const auto* o : conjuncts(e)) {
    auto& part = out[static_cast<std::size_t>(stage_of(*o))];
    if (!part) {
      part.emplace();
      part->type = filter::expression::kind::all_of;
      part->at_enter = e.at_enter;
    }
    part->operands.push_back(*o);
  }
  return out;
}

llvm::Value* when_present(program& p, llvm::Value* present, const char* what,
                          const std::function<llvm::Value*()>& test) {
  auto& b = p.b;
  auto* found = p.block((std::string(what) + "_found").c_str());
  auto* join = p.block((std::string(what) + "_tested").c_str());
  auto* missing = b.GetInsertBlock();
  b.CreateCondBr(present, found, join);
  b.SetInsertPoint(found);
  auto* result = test();
  auto* found_end = b.GetInsertBlock();
  b.CreateBr(join);
  b.SetInsertPoint(join);
  auto* matched = b.CreatePHI(b.getInt1Ty(), 2, std::string(what) + "_matches");
  matched->addIncoming(b.getFalse(), missing);
  matched->addIncoming(result, found_end);
  return matched;
}

filter_parts filter_of(const codegen_options& options, const target& t) {
  if (t.index >= options.expressions.size()) return {};
  return split_filter(options.expressions[t.index], *t.p);
}

// Continues only when the call passes `e`; a rejected call is counted as filtered and,
// when its exit is still to come, its entry is left in flight with size 0, which tells
// the exit program to release it quietly (not as an exit without its enter).
void apply_filter(capture_context& cc, const checked_expression& e, bool mark_entry,
                  llvm::BasicBlock* dropped) {
  auto& p = cc.p;
  auto& b = p.b;
  auto* pass = emit_filter(cc, e);
  auto* keep = p.block("filter_passed");
  auto* drop = p.block("filtered");
  b.CreateCondBr(pass, keep, drop);
  b.SetInsertPoint(drop);
  if (mark_entry) b.CreateStoreAt(b.getInt32(0), cc.entry, record::offset::size);
  count_loss(p, cc.t, loss_reason::filtered);
  b.CreateBr(dropped ? dropped : p.done);
  b.SetInsertPoint(keep);
}

llvm::Value* emit_filter(capture_context& cc, const checked_expression& e) {
  return combine(cc, e);
}

llvm::Value* compare_number(bpf_builder& b, llvm::Value* v, comparison_op op, std::int64_t n,
                            bool is_signed) {
  auto* k = b.getInt64(static_cast<std::uint64_t>(n));
  switch (op) {
    case comparison_op::eq:
    case comparison_op::in:
      return b.CreateICmpEQ(v, k);
    case comparison_op::ne:
      return b.CreateICmpNE(v, k);
    case comparison_op::lt:
      return is_signed ? b.CreateICmpSLT(v, k) : b.CreateICmpULT(v, k);
    case comparison_op::le:
      return is_signed ? b.CreateICmpSLE(v, k) : b.CreateICmpULE(v, k);
    case comparison_op::gt:
      return is_signed ? b.CreateICmpSGT(v, k) : b.CreateICmpUGT(v, k);
    case comparison_op::ge:
      return is_signed ? b.CreateICmpSGE(v, k) : b.CreateICmpUGE(v, k);
    case comparison_op::bits:
      return b.CreateICmpNE(b.CreateAnd(v, k), b.getInt64(0));
    default:
      break;
  }
  assert(false && "not a number comparison");
  return b.getFalse();
}

llvm::Value* compare_number_operand(bpf_builder& b, llvm::Value* v, const checked_comparison& c,
                                    unsigned bits, bool is_signed) {
  const number_type t{bits, is_signed};
  if (c.op != comparison_op::in || c.operand.type != filter::value::kind::set)
    return compare_number(b, v, c.op, normalized(c.operand.integer, t), is_signed);
  // A small set: one compare per value, no map and no loop.
  llvm::Value* any = b.getFalse();
  for (const auto& item : c.operand.items)
    any = b.CreateOr(
        any,
        b.CreateICmpEQ(v, b.getInt64(static_cast<std::uint64_t>(normalized(item.integer, t)))));
  return any;
}

std::uint64_t set_number_key(const filter::operand_source& s, std::int64_t n) {
  switch (s.type) {
    case source::sockaddr_family:
    case source::sockaddr_port:
      return static_cast<std::uint64_t>(n) & 0xffff;
    default:
      return static_cast<std::uint64_t>(normalized(n, type_of(s)));
  }
}

// A number in a set map: one lookup, whatever the set's size.
llvm::Value* number_in_map(capture_context& cc, llvm::Value* v, int map_fd) {
  auto& b = cc.p.b;
  auto* key = cc.p.entry_alloca(b.getInt64Ty(), "set_key");
  b.CreateStore(v, key);
  return b.CreateIsNotNull(b.CreateMapLookup(map_fd, key));
}

llvm::Value* emit_number_test(capture_context& cc, const checked_comparison& c) {
  const auto t = type_of(c.source);
  if (c.set_map >= 0) return number_in_map(cc, number_of(cc, c.source), c.set_map);
  return compare_number_operand(cc.p.b, number_of(cc, c.source), c, t.bits, t.is_signed);
}

void chain::require(llvm::Value* condition) {
  auto* holds = p.block("holds");
  p.b.CreateCondBr(condition, holds, miss);
  p.b.SetInsertPoint(holds);
}

llvm::Value* any_alternative(program& p, std::size_t count,
                             const std::function<void(std::size_t, chain&)>& emit) {
  auto& b = p.b;
  auto* found = p.block("alternative_holds");
  auto* tested = p.block("alternatives_tested");
  for (std::size_t i = 0; i < count; ++i) {
    auto* next = p.block("next_alternative");
    chain ch{p, next};
    emit(i, ch);
    b.CreateBr(found);
    b.SetInsertPoint(next);
  }
  auto* missed = b.GetInsertBlock();
  b.CreateBr(tested);
  b.SetInsertPoint(found);
  b.CreateBr(tested);
  b.SetInsertPoint(tested);
  auto* phi = b.CreatePHI(b.getInt1Ty(), 2, "holds");
  phi->addIncoming(b.getFalse(), missed);
  phi->addIncoming(b.getTrue(), found);
  return phi;
}

}  // namespace ebpfpub::detail
