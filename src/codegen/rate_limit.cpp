#include "codegen/rate_limit.hpp"

#include <llvm/IR/Constants.h>

namespace ebpfpub::detail {
namespace {

// The bucket map's key of this process and plan, in a stack slot (map helpers take a
// pointer).
llvm::Value* bucket_key(program& p, const target& t) {
  auto& b = p.b;
  auto* key = p.entry_alloca(b.getInt64Ty(), "bucket_key");
  // pid_tgid is tgid << 32 | pid: keep the process's half, put the plan in the other.
  auto* tgid_high = b.CreateAnd(p.pid_tgid, b.getInt64(0xffffffff00000000ull));
  b.CreateStore(b.CreateOr(tgid_high, plan_index(p, t, b.getInt64Ty())), key);
  return key;
}

void add_at(program& p, llvm::Value* bucket, std::uint64_t offset, std::int64_t n) {
  auto& b = p.b;
  auto* field = b.CreateBytePointer(bucket, b.getInt64(offset));
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, field, b.getInt64(static_cast<std::uint64_t>(n)),
                    llvm::MaybeAlign(8), llvm::AtomicOrdering::Monotonic);
}

}  // namespace

void emit_rate_limit(program& p, const target& t) {
  auto& b = p.b;
  const auto& f = p.options.filter;
  const std::uint64_t rate = f.rate_per_second;
  const std::uint64_t capacity = std::uint64_t{f.rate_burst} * rate_token_units;
  // Refilling for longer than an empty bucket takes to fill adds nothing, and clamping
  // the elapsed time to it keeps elapsed * rate <= capacity + rate (< 2^63 for a rate
  // and a burst of at most 1e9 each): no overflow, no division in the program.
  const std::uint64_t fill_ns = (capacity + rate - 1) / rate;

  auto* key = bucket_key(p, t);
  auto* now = b.CreateKtimeGetNs();
  auto* bucket = b.CreateMapLookup(f.rate_limit_fd, key);
  auto* fresh = p.block("new_bucket");
  auto* refill = p.block("refill");
  auto* accept = p.block("within_rate");
  b.CreateCondBr(b.CreateIsNull(bucket), fresh, refill);

  // A process's first call of this syscall: a full bucket, less this call's token. Two
  // CPUs racing here both pass; NOEXIST keeps the first bucket.
  b.SetInsertPoint(fresh);
  auto* value_type = llvm::ArrayType::get(b.getInt64Ty(), 4);
  auto* value = p.entry_alloca(value_type, "new_bucket");
  b.CreateStore(llvm::ConstantAggregateZero::get(value_type), value);
  b.CreateStoreAt(b.getInt64(capacity - rate_token_units), value, offsetof(rate_bucket, tokens));
  b.CreateStoreAt(now, value, offsetof(rate_bucket, last_ns));
  b.CreateMapUpdate(f.rate_limit_fd, key, value, BPF_NOEXIST);
  b.CreateBr(accept);

  // The bucket is read and written without a lock (tracepoint programs may not take a
  // bpf_spin_lock): threads of one process racing on two CPUs can both take the last
  // token. A single thread is limited exactly.
  b.SetInsertPoint(refill);
  auto* last = b.CreateLoadAt(b.getInt64Ty(), bucket, offsetof(rate_bucket, last_ns), "last");
  auto* elapsed = b.CreateSub(now, last, "elapsed");
  // Another CPU may have stored a later time than this CPU's `now`.
  elapsed = b.CreateSelect(b.CreateICmpSLT(elapsed, b.getInt64(0)), b.getInt64(0), elapsed);
  elapsed = b.CreateSelect(b.CreateICmpUGT(elapsed, b.getInt64(fill_ns)), b.getInt64(fill_ns), elapsed);
  auto* tokens = b.CreateAdd(b.CreateLoadAt(b.getInt64Ty(), bucket, offsetof(rate_bucket, tokens)),
                             b.CreateMul(elapsed, b.getInt64(rate)), "tokens");
  tokens = b.CreateSelect(b.CreateICmpUGT(tokens, b.getInt64(capacity)), b.getInt64(capacity), tokens);
  b.CreateStoreAt(now, bucket, offsetof(rate_bucket, last_ns));
  auto* take = p.block("take_token");
  auto* drop = p.block("rate_limited");
  b.CreateCondBr(b.CreateICmpUGE(tokens, b.getInt64(rate_token_units)), take, drop);

  b.SetInsertPoint(take);
  b.CreateStoreAt(b.CreateSub(tokens, b.getInt64(rate_token_units)), bucket, offsetof(rate_bucket, tokens));
  b.CreateBr(accept);

  b.SetInsertPoint(drop);
  b.CreateStoreAt(tokens, bucket, offsetof(rate_bucket, tokens));
  add_at(p, bucket, offsetof(rate_bucket, dropped), 1);
  if (!t.p->emit_at_enter) add_at(p, bucket, offsetof(rate_bucket, pending_exits), 1);
  count_loss(p, t, loss_reason::rate_limited);
  b.CreateBr(p.done);

  b.SetInsertPoint(accept);
}

void emit_rate_limited_exit(program& p, std::span<const target> targets) {
  auto& b = p.b;
  const auto& f = p.options.filter;
  for (const auto& t : targets) {
    auto* bucket = b.CreateMapLookup(f.rate_limit_fd, bucket_key(p, t));
    auto* has_bucket = p.block("has_bucket");
    auto* next = p.block("not_rate_limited");
    b.CreateCondBr(b.CreateIsNull(bucket), next, has_bucket);
    b.SetInsertPoint(has_bucket);
    auto* pending = b.CreateLoadAt(b.getInt64Ty(), bucket, offsetof(rate_bucket, pending_exits));
    auto* forgive = p.block("rate_limited_exit");
    b.CreateCondBr(b.CreateICmpEQ(pending, b.getInt64(0)), next, forgive);
    b.SetInsertPoint(forgive);
    add_at(p, bucket, offsetof(rate_bucket, pending_exits), -1);
    b.CreateBr(p.done);
    b.SetInsertPoint(next);
  }
}

}  // namespace ebpfpub::detail
