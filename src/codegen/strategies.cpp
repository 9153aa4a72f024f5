#include "codegen/strategies.hpp"

#include <llvm/IR/Constants.h>

#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {
namespace {

// Task storage creates the entry on demand and frees it with the thread.
class task_storage final : public storage_strategy {
 public:
  llvm::Value* entry(program& p, const target& t, bool create) const override {
    return p.b.CreateTaskStorageGet(t.storage_fd, p.b.CreateGetCurrentTaskBtf(), create);
  }
};

// The LRU hash map (keyed by thread id) is seeded from a zeroed per-CPU value, once per
// thread: entries stay between calls, and the LRU evicts those of threads that are gone.
class hash_storage final : public storage_strategy {
 public:
  llvm::Value* entry(program& p, const target& t, bool create) const override {
    auto& b = p.b;
    auto* key = p.thread_key;
    b.CreateStore(b.CreateTrunc(p.pid_tgid, b.getInt32Ty()), key);
    auto* found = b.CreateMapLookup(t.storage_fd, key);
    if (!create) return found;
    auto* from = b.GetInsertBlock();
    auto* seed = p.block("seed");
    auto* have = p.block("have_entry");
    b.CreateCondBr(b.CreateIsNull(found), seed, have);
    b.SetInsertPoint(seed);
    b.CreateStore(b.getInt32(0), p.key);
    auto* zero = b.CreateMapLookup(p.maps.seed_fd, p.key);
    auto* seeded = p.block("seeded");
    b.CreateCondBr(b.CreateIsNull(zero), have, seeded);
    b.SetInsertPoint(seeded);
    b.CreateMapUpdate(t.storage_fd, key, zero, BPF_ANY);
    auto* created = b.CreateMapLookup(t.storage_fd, key);
    b.CreateBr(have);
    b.SetInsertPoint(have);
    auto* entry = b.CreatePHI(b.getPtrTy(), 3, "entry");
    entry->addIncoming(found, from);
    entry->addIncoming(llvm::ConstantPointerNull::get(b.getPtrTy()), seed);
    entry->addIncoming(created, seeded);
    return entry;
  }
};

class ring_transport final : public transport_strategy {
 public:
  llvm::Value* output(program& p, llvm::Value* data, llvm::Value* size) const override {
    return p.b.CreateRingbufOutput(p.maps.output_fd, data, size, ring_wakeup(p));
  }
};

class perf_transport final : public transport_strategy {
 public:
  llvm::Value* output(program& p, llvm::Value* data, llvm::Value* size) const override {
    return p.b.CreatePerfEventOutput(p.ctx, p.maps.output_fd, data, size);
  }
};

}  // namespace

std::unique_ptr<storage_strategy> make_storage(event_map_kind kind) {
  if (kind == event_map_kind::hash) return std::make_unique<hash_storage>();
  return std::make_unique<task_storage>();
}

std::unique_ptr<transport_strategy> make_transport(transport kind) {
  if (kind == transport::perf) return std::make_unique<perf_transport>();
  return std::make_unique<ring_transport>();
}

llvm::Value* ring_wakeup(program& p) {
  auto& b = p.b;
  // A wakeup per event costs more than the rest of the work (DESIGN.md): wake the
  // reader only once enough data waits; it also polls on a short timeout.
  auto* waiting = b.CreateRingbufQuery(p.maps.output_fd, BPF_RB_AVAIL_DATA);
  return b.CreateSelect(b.CreateICmpUGE(waiting, b.getInt64(p.options.wakeup_bytes)),
                        b.getInt64(BPF_RB_FORCE_WAKEUP), b.getInt64(BPF_RB_NO_WAKEUP));
}

namespace {

// A null `value` (no slot, no entry) ends the program with `reason` counted; else the code
// goes on in block `kept`.
void end_counted_if_null(program& p, const target& t, llvm::Value* value, loss_reason reason, const char* lost,
                         const char* kept) {
  auto& b = p.b;
  auto* lost_block = p.block(lost);
  auto* kept_block = p.block(kept);
  b.CreateCondBr(b.CreateIsNull(value), lost_block, kept_block);
  b.SetInsertPoint(lost_block);
  count_loss(p, t, reason);
  b.CreateBr(p.done);
  b.SetInsertPoint(kept_block);
}

}  // namespace

llvm::Value* reserve_slot(program& p, const target& t, llvm::Value* entry, llvm::Value* size,
                          std::uint32_t fixed) {
  auto& b = p.b;
  // bpf_ringbuf_reserve takes a constant size: the plan's largest record. A variable
  // one (bpf_ringbuf_reserve_dynptr) would need the strings' lengths before reading them.
  auto* slot = b.CreateRingbufReserve(p.maps.output_fd, t.record_size);
  end_counted_if_null(p, t, slot, loss_reason::output_full, "ring_full", "reserved");
  if (fixed != 0) {
    // Header and arguments only: a dozen loads and stores beat a helper call.
    for (std::uint32_t at = 0; at < fixed; at += 8)
      b.CreateStoreAt(b.CreateLoadAt(b.getInt64Ty(), entry, at), slot, at);
    return slot;
  }
  // The verifier needs the size bounded by the slot; it always is, by construction.
  auto* copy = p.block("copy_entry");
  auto* discard = discard_block(p, slot);
  b.CreateCondBr(b.CreateICmpULE(size, b.getInt64(t.record_size)), copy, discard);
  b.SetInsertPoint(copy);
  // Kernel memory we own (the entry): the read cannot fault.
  b.CreateProbeReadKernel(slot, size, entry);
  return slot;
}

llvm::BasicBlock* discard_block(program& p, llvm::Value* slot) {
  auto& b = p.b;
  auto* here = b.GetInsertBlock();
  auto* discard = p.block("discard");
  b.SetInsertPoint(discard);
  b.CreateRingbufDiscard(slot);
  b.CreateBr(p.done);
  b.SetInsertPoint(here);
  return discard;
}

llvm::Value* entry_or_count(program& p, const storage_strategy& storage, const target& t) {
  auto* entry = storage.entry(p, t, true);
  end_counted_if_null(p, t, entry, loss_reason::no_storage, "missing", "present");
  return entry;
}

void mark_rejected(program& p, const storage_strategy& storage, const target& t) {
  auto& b = p.b;
  auto* entry = entry_or_count(p, storage, t);
  // Size 0, the plan's index and in_flight are all claim_entry reads: one 8-byte store
  // over size, syscall, flags and argument_count (offsets 0, 4, 6, 7).
  static_assert(record::offset::size == 0 && record::offset::syscall == 4 && record::offset::flags == 6);
  auto* index = b.CreateShl(plan_index(p, t, b.getInt64Ty()), 32);
  auto* word = b.CreateOr(index, b.getInt64(std::uint64_t{record::in_flight} << 48));
  b.CreateStoreAt(word, entry, record::offset::size);
}

claimed_entry claim_entry(program& p, const storage_strategy& storage, const target& t,
                          llvm::BasicBlock* next, bool filtered_at_enter) {
  auto& b = p.b;
  auto* entry = storage.entry(p, t, false);
  auto* present = p.block("present");
  b.CreateCondBr(b.CreateIsNull(entry), next, present);
  b.SetInsertPoint(present);

  // Only an entry that this plan's enter left in flight is ours to complete.
  auto* index = b.CreateLoadAt(b.getInt16Ty(), entry, record::offset::syscall);
  auto* flags = b.CreateLoadAt(b.getInt8Ty(), entry, record::offset::flags);
  auto* in_flight = b.CreateAnd(flags, b.getInt8(record::in_flight));
  auto* ours = b.CreateAnd(b.CreateICmpEQ(index, plan_index(p, t, b.getInt16Ty())),
                           b.CreateICmpNE(in_flight, b.getInt8(0)));
  auto* matched = p.block("matched");
  b.CreateCondBr(ours, matched, next);

  b.SetInsertPoint(matched);
  b.CreateStoreAt(b.getInt8(0), entry, record::offset::flags);
  if (filtered_at_enter) {
    // Size 0: the enter program's filter rejected the call (and counted it).
    auto* kept = p.block("kept_at_enter");
    auto* enter_size = b.CreateLoadAt(b.getInt32Ty(), entry, record::offset::size);
    b.CreateCondBr(b.CreateICmpEQ(enter_size, b.getInt32(0)), p.done, kept);
    b.SetInsertPoint(kept);
  }
  return {entry, flags};
}

void send_record(program& p, const transport_strategy& transport, const target& t,
                 llvm::Value* entry, llvm::Value* size) {
  auto& b = p.b;
  // The verifier needs the size bounded by the entry; it always is, by construction.
  auto* bounded = p.block("bounded");
  b.CreateCondBr(b.CreateICmpULE(size, b.getInt64(t.storage_size)), bounded, p.done);
  b.SetInsertPoint(bounded);
  auto* result = transport.output(p, entry, size);
  auto* lost = p.block("lost");
  auto* sent = p.block("sent");
  b.CreateCondBr(b.CreateICmpNE(result, b.getInt64(0)), lost, sent);
  b.SetInsertPoint(lost);
  count_loss(p, t, loss_reason::output_full);
  b.CreateBr(sent);
  b.SetInsertPoint(sent);
}

}  // namespace ebpfpub::detail
