// Summary mode's programs. Counting replaces the record: no captures, no output; the
// in-flight entry holds the enter time only, so a call costs two map lookups and a few
// atomic adds on this CPU's counters.

#include "codegen/summary.hpp"

#include <fmt/format.h>
#include <llvm/IR/Constants.h>

#include <ebpfpub/record.hpp>

#include "codegen/argument_source.hpp"
#include "codegen/filter_code.hpp"
#include "codegen/rate_limit.hpp"

namespace ebpfpub::detail {
namespace {

// Atomic: a program preempted on this CPU by another run of itself must not lose a count.
void add_at(program& p, llvm::Value* base, std::uint32_t offset, llvm::Value* n) {
  auto& b = p.b;
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, b.CreateBytePointer(base, b.getInt64(offset)), n,
                    llvm::MaybeAlign(8), llvm::AtomicOrdering::Monotonic);
}

// This CPU's counters of `t`. An array always has the value; the branch is for the verifier.
llvm::Value* counters_of(program& p, const target& t) {
  auto& b = p.b;
  b.CreateStore(b.getInt32(t.index), p.key);
  auto* value = b.CreateMapLookup(p.maps.summary_fd, p.key);
  auto* found = p.block("counters");
  b.CreateCondBr(b.CreateIsNull(value), p.done, found);
  b.SetInsertPoint(found);
  return value;
}

// errors += 1, and errnos[{index, -ret}] += 1 on this CPU. A new pair is inserted with
// NOEXIST (another CPU or a preempting run may insert it first: then it is looked up
// again); when the map is full the call is counted in errors_unattributed instead.
void count_error(program& p, const target& t, llvm::Value* counters, llvm::Value* ret) {
  auto& b = p.b;
  add_at(p, counters, summary_value::errors, b.getInt64(1));
  auto* key = p.entry_alloca(b.getInt64Ty(), "errno_key");
  auto* error = b.CreateAnd(b.CreateNeg(ret), b.getInt64(0xffffffff));
  b.CreateStore(b.CreateOr(b.CreateShl(error, 32), b.getInt64(t.index)), key);  // errno_key, little endian
  auto* counted = p.block("errno_counted");
  auto* add = p.block("errno_add");
  auto* insert = p.block("errno_insert");
  auto* found = b.CreateMapLookup(p.maps.errno_fd, key);
  auto* from_lookup = b.GetInsertBlock();
  b.CreateCondBr(b.CreateIsNull(found), insert, add);

  b.SetInsertPoint(insert);
  auto* one = p.entry_alloca(b.getInt64Ty(), "one");
  b.CreateStore(b.getInt64(1), one);
  auto* inserted = b.CreateMapUpdate(p.maps.errno_fd, key, one, BPF_NOEXIST);
  auto* retry = p.block("errno_retry");
  b.CreateCondBr(b.CreateICmpEQ(inserted, b.getInt64(0)), counted, retry);
  b.SetInsertPoint(retry);
  auto* again = b.CreateMapLookup(p.maps.errno_fd, key);
  auto* full = p.block("errno_map_full");
  b.CreateCondBr(b.CreateIsNull(again), full, add);
  b.SetInsertPoint(full);
  add_at(p, counters, summary_value::errors_unattributed, b.getInt64(1));
  b.CreateBr(counted);

  b.SetInsertPoint(add);
  auto* slot = b.CreatePHI(b.getPtrTy(), 2, "errno_count");
  slot->addIncoming(found, from_lookup);
  slot->addIncoming(again, retry);
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, slot, b.getInt64(1), llvm::MaybeAlign(8),
                    llvm::AtomicOrdering::Monotonic);
  b.CreateBr(counted);
  b.SetInsertPoint(counted);
}

// The log2 bucket of `ns` (summary.hpp's bucket_of): its bit width, found by halving
// (BPF has no count-leading-zeros), capped at the last bucket.
llvm::Value* bucket_of(bpf_builder& b, llvm::Value* ns) {
  llvm::Value* rest = ns;
  llvm::Value* width = b.getInt64(0);
  for (std::uint64_t shift : {32, 16, 8, 4, 2, 1}) {
    auto* high = b.CreateLShr(rest, b.getInt64(shift));
    auto* has = b.CreateICmpNE(high, b.getInt64(0));
    rest = b.CreateSelect(has, high, rest);
    width = b.CreateSelect(has, b.CreateAdd(width, b.getInt64(shift)), width);
  }
  // `rest` is now 0 or 1: the top bit itself.
  width = b.CreateAdd(width, rest);
  width = b.CreateSelect(b.CreateICmpUGT(width, b.getInt64(63)), b.getInt64(63), width);
  return b.CreateAnd(width, b.getInt64(63));  // a bound the verifier can see
}

// total, min, max and the histogram. min and max are a load and a store: a run that
// preempts this one on the same CPU between the two could have its extreme overwritten
// (counts are atomic and never lost; only an extreme could be).
void count_duration(program& p, llvm::Value* counters, llvm::Value* ns) {
  auto& b = p.b;
  add_at(p, counters, summary_value::total_ns, ns);
  auto* complement = b.CreateNot(ns);
  auto* low = b.CreateLoadAt(b.getInt64Ty(), counters, summary_value::min_complement, "min_complement");
  b.CreateStoreAt(b.CreateSelect(b.CreateICmpUGT(complement, low), complement, low), counters,
                  summary_value::min_complement);
  auto* high = b.CreateLoadAt(b.getInt64Ty(), counters, summary_value::max_ns, "max");
  b.CreateStoreAt(b.CreateSelect(b.CreateICmpUGT(ns, high), ns, high), counters, summary_value::max_ns);
  auto* offset = b.CreateAdd(b.getInt64(summary_value::histogram), b.CreateShl(bucket_of(b, ns), 3));
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, b.CreateBytePointer(counters, offset), b.getInt64(1),
                    llvm::MaybeAlign(8), llvm::AtomicOrdering::Monotonic);
}

}  // namespace

llvm::Function* summary_enter_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                                      const storage_strategy& storage, const argument_source& arguments,
                                      const target& t, std::uint32_t self_counter) {
  const auto& plan = *t.p;
  auto p = begin_program(b, maps, options, fmt::format("enter_{}", plan.syscall.name), true, self_counter,
                         &arguments);
  // exit and exit_group have no result: a result filter never passes them.
  if (plan.emit_at_enter && options.filter.result != result_filter::any) {
    b.CreateBr(p.done);
    return p.finish();
  }
  const auto filter = filter_of(options, t);
  if (plan.emit_at_enter && filter.exit) {
    // A test on the result of a call that has none never passes.
    count_loss(p, t, loss_reason::filtered);
    b.CreateBr(p.done);
    return p.finish();
  }
  // The enter part (numbers only in this mode) is decided on the values in hand, before
  // the rate limit and the entry: a rejected call only marks its entry (filter_enter.cpp).
  enter_values values{p.pid_tgid};
  if (filter.enter) {
    values = numbers_values(p, arguments, plan, *filter.enter);
    apply_filter_before_entry(p, storage, t, *filter.enter, values);
  }
  if (options.filter.rate_limit_fd >= 0) emit_rate_limit(p, t);
  if (plan.emit_at_enter) {
    // They never return: counted here, without a duration.
    add_at(p, counters_of(p, t), summary_value::calls, b.getInt64(1));
    b.CreateBr(p.done);
    return p.finish();
  }
  auto* entry = entry_or_count(p, storage, t);
  // Which plan and that it is in flight (the exit program must tell its own entry from
  // one an alias left), and when it began: nothing else.
  b.CreateStoreAt(b.getInt16(t.index), entry, record::offset::syscall);
  b.CreateStoreAt(b.getInt8(record::in_flight), entry, record::offset::flags);
  b.CreateStoreAt(b.CreateKtimeGetNs(), entry, record::offset::timestamp);
  if (filter.enter || filter.exit) {
    // The size is the mark of a call enter let through (a rejected one's is 0: the exit
    // releases it without counting the call); the exit part may read the header's ids and
    // the argument slots, where the record programs keep them (filter_code.cpp).
    b.CreateStoreAt(b.getInt32(record::header_size), entry, record::offset::size);
  }
  if (filter.exit) {
    b.CreateStoreAt(b.CreateTrunc(b.CreateLShr(p.pid_tgid, 32), b.getInt32Ty()), entry,
                    record::offset::process_id);
    b.CreateStoreAt(b.CreateTrunc(p.pid_tgid, b.getInt32Ty()), entry, record::offset::thread_id);
    b.CreateStoreAt(values.uid_gid ? values.uid_gid : b.CreateGetCurrentUidGid(), entry, record::offset::user_id);
    const auto slots = values.arguments.empty() ? arguments.arguments(p, plan.syscall) : values.arguments;
    for (std::size_t i = 0; i < slots.size(); ++i)
      b.CreateStoreAt(slots[i], entry, record::offset::arguments + 8 * static_cast<std::uint32_t>(i));
  }
  b.CreateBr(p.done);
  return p.finish();
}

llvm::Function* summary_exit_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                                     const storage_strategy& storage, std::string_view syscall,
                                     std::span<const target> targets) {
  auto p = begin_program(b, maps, options, fmt::format("exit_{}", syscall));
  for (const auto& t : targets) {
    auto* next = p.block("next_target");
    const auto filter = filter_of(options, t);
    auto* entry = claim_entry(p, storage, t, next, filter.enter.has_value()).entry;
    auto* ret = b.CreateLoadAt(b.getInt64Ty(), p.ctx, t.p->syscall.return_offset, "ret");
    auto* failed = b.CreateICmpSLT(ret, b.getInt64(0));
    if (options.filter.result != result_filter::any) {
      auto* keep = p.block("result_matches");
      const bool want_failed = options.filter.result == result_filter::failed;
      b.CreateCondBr(want_failed ? failed : b.CreateNot(failed), keep, p.done);
      b.SetInsertPoint(keep);
    }
    if (filter.exit) {
      capture_context cc{p, t, entry, ret};
      apply_filter(cc, *filter.exit, false);
    }
    auto* entered = b.CreateLoadAt(b.getInt64Ty(), entry, record::offset::timestamp, "entered");
    auto* ns = b.CreateSub(b.CreateKtimeGetNs(), entered, "duration");
    auto* counters = counters_of(p, t);
    add_at(p, counters, summary_value::calls, b.getInt64(1));
    auto* error = p.block("failed");
    auto* timed = p.block("timed");
    b.CreateCondBr(failed, error, timed);
    b.SetInsertPoint(error);
    count_error(p, t, counters, ret);
    b.CreateBr(timed);
    b.SetInsertPoint(timed);
    count_duration(p, counters, ns);
    b.CreateBr(p.done);
    b.SetInsertPoint(next);
  }
  if (options.filter.rate_limit_fd >= 0) emit_rate_limited_exit(p, targets);
  count_loss(p, targets.front(), loss_reason::unmatched_exit);
  b.CreateBr(p.done);
  return p.finish();
}

}  // namespace ebpfpub::detail
