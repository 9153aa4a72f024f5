#pragma once
// The two choices a session makes once for all its programs, as small strategies: where
// the in-flight entry lives (task storage or an LRU hash map) and how a finished record
// leaves (ring buffer or perf buffer).

#include <memory>

#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {

class storage_strategy {
 public:
  virtual ~storage_strategy() = default;
  /// The current thread's in-flight entry of `t`, or null; with `create`, made if absent.
  virtual llvm::Value* entry(program& p, const target& t, bool create) const = 0;
};

class transport_strategy {
 public:
  virtual ~transport_strategy() = default;
  /// Sends `size` bytes at `data`; the helper's result (0 or a negative errno).
  virtual llvm::Value* output(program& p, llvm::Value* data, llvm::Value* size) const = 0;
};

std::unique_ptr<storage_strategy> make_storage(event_map_kind kind);
std::unique_ptr<transport_strategy> make_transport(transport kind);

/// Sends the entry's first `size` bytes, counting an output_full loss when there is no
/// room; the builder continues after the send either way.
/// At enter: the thread's entry for `t`, created if need be; when there is none (the
/// storage is full) the call is counted as no_storage and the program ends.
llvm::Value* entry_or_count(program& p, const storage_strategy& storage, const target& t);

/// At enter, for a call a filter rejected before anything was written: marks the thread's
/// entry of `t` (created if need be) as in flight with size 0, which claim_entry then
/// releases quietly. No entry (storage full) counts no_storage and ends the program.
void mark_rejected(program& p, const storage_strategy& storage, const target& t);

/// At exit: the entry `t`'s enter left in flight, claimed (no longer in flight), and its
/// flags as enter left them; a missing entry, or another plan's, goes to `next`. With
/// `filtered_at_enter`, an entry of size 0 (the enter program's filter rejected the call
/// and counted it) ends the program.
struct claimed_entry {
  llvm::Value* entry;
  llvm::Value* flags;
};
claimed_entry claim_entry(program& p, const storage_strategy& storage, const target& t,
                          llvm::BasicBlock* next, bool filtered_at_enter);

void send_record(program& p, const transport_strategy& transport, const target& t,
                 llvm::Value* entry, llvm::Value* size);

/// The ring's flags for a record sent now: wake the reader only once
/// options.wakeup_bytes wait (a wakeup per event costs more than the rest of the work).
llvm::Value* ring_wakeup(program& p);

/// A record written straight into the ring (ring_write::reserved): reserves a slot of
/// the target's record_size and copies into it the entry's first `size` bytes (header,
/// arguments, and what enter captured), of which the first `fixed` are known to be all
/// there is (unrolled loads and stores, no helper call) unless `fixed` is 0. Returns the
/// slot; when the ring has no room it counts an output_full loss and the builder goes
/// on at `p.done`. Every path from here on must submit or discard the slot.
llvm::Value* reserve_slot(program& p, const target& t, llvm::Value* entry, llvm::Value* size,
                          std::uint32_t fixed);
/// A block that discards `slot` and ends at `p.done`: where a filter's drop goes.
llvm::BasicBlock* discard_block(program& p, llvm::Value* slot);

}  // namespace ebpfpub::detail
