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
void send_record(program& p, const transport_strategy& transport, const target& t,
                 llvm::Value* entry, llvm::Value* size);

}  // namespace ebpfpub::detail
