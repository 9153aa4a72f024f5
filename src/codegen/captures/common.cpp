// What every capture shares: its room in the entry, its header, and when it runs.

#include <algorithm>

#include <ebpfpub/record.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
// A string in a page the caller has not touched yet (a string literal after fork, a
// fresh file mapping) cannot be read at enter: the programs may not fault pages in. By
// exit the kernel has read it, so it is read again then.
bool retryable(const plan& p, std::uint8_t index, const capture& c) {
  return (c.op == capture_op::string || c.op == capture_op::string_array) &&
         c.when == syscall_phase::enter && !p.emit_at_enter && index < record::max_retried_captures;
}

namespace {

// A string ring_write::automatic reads at exit and may find too long for its first read:
// one the plan says is readable at exit, retried (so a filter on it waits for exit), and
// longer than the first read's bound (a shorter limit makes the first read the whole).
bool long_string_at_exit(const target& t) {
  const auto& plan = *t.p;
  for (std::size_t i = 0; i < plan.captures.size(); ++i) {
    const auto& c = plan.captures[i];
    if (c.op == capture_op::string && c.readable_at_exit && c.max_bytes > automatic_string_bytes &&
        retryable(plan, static_cast<std::uint8_t>(i), c))
      return true;
  }
  return false;
}

}  // namespace

bool writes_into_slot(const codegen_options& o, const target& t) {
  if (o.output != transport::ring || o.summary || t.p->emit_at_enter || t.record_size > max_slot_bytes) return false;
  // automatic takes a slot only for a call with a long string; a plan that has none is
  // staged whole (read, write, execve: memory the call fills or consumes).
  return o.write == ring_write::reserved || (o.write == ring_write::automatic && long_string_at_exit(t));
}

bool slot_by_length(const codegen_options& o, const target& t) {
  return o.write == ring_write::automatic && writes_into_slot(o, t);
}

bool read_at_exit(const codegen_options& o, const target& t, std::uint8_t index, const capture& c) {
  return c.readable_at_exit && writes_into_slot(o, t) && retryable(*t.p, index, c);
}

std::uint32_t array_item_bytes(const capture& c) { return std::min<std::uint32_t>(c.max_bytes, 4096) + 1; }

std::uint32_t capture_reserve(const capture& c) {
  switch (c.op) {
    case capture_op::string:
      // +2: a string of exactly max_bytes reads as max_bytes+1 (with its NUL); one more
      // byte tells a longer string, which we cut and flag, from it.
      return record::capture_header_size + record::align8(c.max_bytes + 2);
    case capture_op::buffer:
    case capture_op::sockaddr:
    case capture_op::fd_identity:
    case capture_op::base_directory:
      return record::capture_header_size + record::align8(c.max_bytes);
    case capture_op::string_array:
      // Each element is read whole into what is left; the read may run past the limit.
      return record::capture_header_size + record::align8(c.max_bytes + array_item_bytes(c));
  }
  return 0;
}

void emit_captures(capture_context& cc, syscall_phase phase) {
  auto& b = cc.p.b;
  const auto& plan = *cc.t.p;
  for (std::size_t i = 0; i < plan.captures.size(); ++i) {
    const auto& c = plan.captures[i];
    const auto index = static_cast<std::uint8_t>(i);
    // A string read at exit is read as at enter, only later: the pointer the call was
    // given, its bytes as they are when the call returns.
    const bool deferred = read_at_exit(cc.p.options, cc.t, index, c);
    if ((deferred ? syscall_phase::exit : c.when) != phase) continue;
    llvm::BasicBlock* skip = nullptr;
    if (c.only_if_success && cc.ret) {
      auto* run = cc.p.block("capture_on_success");
      skip = cc.p.block("capture_skipped");
      b.CreateCondBr(b.CreateICmpSLT(cc.ret, b.getInt64(0)), skip, run);
      b.SetInsertPoint(run);
    }
    const bool defer = phase == syscall_phase::enter && retryable(plan, index, c);
    switch (c.op) {
      case capture_op::string:
        if (deferred && cc.longer_than_bound && c.max_bytes > automatic_string_bytes) {
          // ring_write::automatic's first try: up to its bound, into the entry.
          auto bounded = c;
          bounded.max_bytes = std::min(c.max_bytes, automatic_string_bytes);
          emit_string(cc, index, bounded, nullptr, defer, cc.longer_than_bound);
        } else {
          emit_string(cc, index, c, nullptr, defer);
        }
        break;
      case capture_op::buffer:
      case capture_op::sockaddr: emit_bytes(cc, index, c, nullptr, nullptr); break;
      case capture_op::string_array: emit_string_array(cc, index, c, defer); break;
      case capture_op::fd_identity:
        emit_fd_identity(cc, index, c, c.of_return_value ? cc.ret : nullptr);
        break;
      case capture_op::base_directory: emit_base_directory(cc, index, c); break;
    }
    if (skip) {
      b.CreateBr(skip);
      b.SetInsertPoint(skip);
    }
  }
}

void emit_retries(capture_context& cc, llvm::Value* flags) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& plan = *cc.t.p;
  for (std::size_t i = 0; i < plan.captures.size(); ++i) {
    const auto index = static_cast<std::uint8_t>(i);
    const auto& c = plan.captures[i];
    // A string read at exit was not read at enter: it has no retry bit.
    if (!retryable(plan, index, c) || read_at_exit(p.options, cc.t, index, c)) continue;
    auto* retry = p.block("retry");
    auto* next = p.block("after_retry");
    auto* bit = b.CreateAnd(flags, b.getInt8(record::retry_bit(index)));
    b.CreateCondBr(b.CreateICmpNE(bit, b.getInt8(0)), retry, next);
    b.SetInsertPoint(retry);
    if (c.image != exec_image::none && p.options.exec.available) {
      // After a successful exec the old pointers lead nowhere: read the new image.
      auto* old_image = p.block("retry_old_image");
      auto* new_image = p.block("retry_new_image");
      b.CreateCondBr(b.CreateICmpEQ(cc.ret, b.getInt64(0)), new_image, old_image);
      b.SetInsertPoint(new_image);
      emit_from_new_image(cc, index, c);
      b.CreateBr(next);
      b.SetInsertPoint(old_image);
    }
    if (c.op == capture_op::string) emit_string(cc, index, c, nullptr, /*defer_faults=*/false);
    else emit_string_array(cc, index, c, /*defer_faults=*/false);
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }
}

llvm::Value* reserve_capture(capture_context& cc, const capture& c, llvm::BasicBlock* next) {
  auto& b = cc.p.b;
  const std::uint32_t need = capture_reserve(c);
  auto* cursor = b.CreateLoad(b.getInt64Ty(), cc.p.cursor, "cursor");
  auto* room = cc.p.block("room");
  if (need > cc.t.storage_size) {
    b.CreateBr(next);
  } else {
    b.CreateCondBr(b.CreateICmpULE(cursor, b.getInt64(cc.t.storage_size - need)), room, next);
  }
  b.SetInsertPoint(room);
  return b.CreateBytePointer(cc.entry, cursor, "capture");
}

void finish_capture(capture_context& cc, llvm::Value* header, std::uint8_t index,
                    llvm::Value* status, llvm::Value* length) {
  auto& b = cc.p.b;
  b.CreateStoreAt(b.getInt8(index), header, std::uint64_t{0});
  b.CreateStoreAt(status, header, 1);
  b.CreateStoreAt(b.getInt16(0), header, 2);
  b.CreateStoreAt(b.CreateTrunc(length, b.getInt32Ty()), header, 4);
  auto* cursor = b.CreateLoad(b.getInt64Ty(), cc.p.cursor);
  auto* padded = b.CreateAnd(b.CreateAdd(length, b.getInt64(7)), b.getInt64(~std::uint64_t{7}));
  b.CreateStore(b.CreateAdd(cursor, b.CreateAdd(padded, b.getInt64(record::capture_header_size))),
                cc.p.cursor);
}

llvm::Value* argument_slot(capture_context& cc, std::uint8_t index) {
  return cc.p.b.CreateLoadAt(cc.p.b.getInt64Ty(), cc.entry, record::offset::arguments + 8 * index,
                             cc.t.p->syscall.arguments[index].name);
}

void defer_capture(capture_context& cc, std::uint8_t index) {
  auto& b = cc.p.b;
  auto* flags = b.CreateLoadAt(b.getInt8Ty(), cc.entry, record::offset::flags);
  b.CreateStoreAt(b.CreateOr(flags, b.getInt8(record::retry_bit(index))), cc.entry,
                  record::offset::flags);
}

llvm::Value* status_value(program& p, capture_status status) {
  return p.b.getInt8(static_cast<std::uint8_t>(status));
}

}  // namespace ebpfpub::detail
