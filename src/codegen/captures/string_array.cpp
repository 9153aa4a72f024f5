// capture_op::string_array (argv, envp): up to max_items strings, max_bytes in all,
// stored back to back with their NULs. More items or bytes than that: cut, and flagged
// truncated.

#include <ebpfpub/record.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {

void emit_string_array(capture_context& cc, std::uint8_t index, const capture& c, bool defer_faults) {
  auto& p = cc.p;
  auto& b = p.b;
  auto* next = p.block("next_capture");
  auto* header = reserve_capture(cc, c, next);
  auto* data = b.CreateBytePointer(header, b.getInt64(record::capture_header_size), "data");
  auto* base = argument_slot(cc, c.argument);
  auto* used = p.entry_alloca(b.getInt64Ty(), "used");
  auto* status = p.entry_alloca(b.getInt8Ty(), "array_status");
  auto* element = p.entry_alloca(b.getInt64Ty(), "element");
  b.CreateStore(b.getInt64(0), used);
  b.CreateStore(status_value(p, capture_status::ok), status);
  auto* finished = p.block("array_done");
  auto* first = p.block("array_item");
  b.CreateStore(status_value(p, capture_status::null_pointer), status);
  b.CreateCondBr(b.CreateICmpEQ(base, b.getInt64(0)), finished, first);
  b.SetInsertPoint(first);
  b.CreateStore(status_value(p, capture_status::ok), status);
  // A failed read ends the array as faulted.
  auto end_with = [&](llvm::BasicBlock* at, capture_status s) {
    auto* here = b.GetInsertBlock();
    b.SetInsertPoint(at);
    b.CreateStore(status_value(p, s), status);
    b.CreateBr(finished);
    b.SetInsertPoint(here);
  };

  const std::uint32_t item = array_item_bytes(c);
  // A real loop, not an unrolled one: the verifier bounds it (Linux >= 5.3) and LLVM
  // has a sixty-fifth of the code to compile. One look past max_items only tells
  // whether the array went on.
  auto* counter = p.entry_alloca(b.getInt64Ty(), "item_index");
  b.CreateStore(b.getInt64(0), counter);
  // The pointers are read chunk_items at a time: a read costs ~40 ns whatever its size
  // (most of it the user-copy checks), as much as a short argument's bytes, so one read a
  // pointer nearly doubled an execve's enter. A chunk that cannot be read whole (the array
  // ends near the end of its mapping) falls back to a read a pointer.
  constexpr std::uint32_t chunk_items = 8;
  auto* chunk_type = llvm::ArrayType::get(b.getInt64Ty(), chunk_items);
  auto* chunk = p.entry_alloca(chunk_type, "pointer_chunk");
  auto* chunk_read = p.entry_alloca(b.getInt1Ty(), "chunk_read");
  // Initialized: the verifier reads a stack slot at a variable offset only when it is.
  b.CreateStore(llvm::ConstantAggregateZero::get(chunk_type), chunk);
  b.CreateStore(b.getFalse(), chunk_read);
  auto* loop = p.block("array_item");
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  auto* i = b.CreateLoad(b.getInt64Ty(), counter, "i");
  auto* pointer_at = b.CreateAdd(base, b.CreateShl(i, 3));
  auto* in_chunk = b.CreateAnd(i, b.getInt64(chunk_items - 1), "in_chunk");
  auto* refill = p.block("read_chunk");
  auto* pick = p.block("pick_pointer");
  b.CreateCondBr(b.CreateICmpEQ(in_chunk, b.getInt64(0)), refill, pick);
  b.SetInsertPoint(refill);
  auto* whole = b.CreateProbeReadUser(chunk, b.getInt64(8 * chunk_items), pointer_at);
  b.CreateStore(b.CreateICmpEQ(whole, b.getInt64(0)), chunk_read);
  b.CreateBr(pick);
  b.SetInsertPoint(pick);
  auto* from_chunk = p.block("pointer_from_chunk");
  auto* alone = p.block("pointer_alone");
  auto* got = p.block("got_element");
  b.CreateCondBr(b.CreateLoad(b.getInt1Ty(), chunk_read), from_chunk, alone);
  b.SetInsertPoint(from_chunk);
  b.CreateStore(b.CreateLoad(b.getInt64Ty(), b.CreateGEP(chunk_type, chunk, {b.getInt64(0), in_chunk})), element);
  b.CreateBr(got);
  b.SetInsertPoint(alone);
  auto* r = b.CreateProbeReadUser(element, b.getInt64(8), pointer_at);
  end_with(branch_on_fault(p, r, "got_alone", "element_fault"), capture_status::fault);
  b.CreateBr(got);
  b.SetInsertPoint(got);

  auto* pointer = b.CreateLoad(b.getInt64Ty(), element, "element_pointer");
  auto* present = p.block("element_present");
  b.CreateCondBr(b.CreateICmpEQ(pointer, b.getInt64(0)), finished, present);
  b.SetInsertPoint(present);
  auto* room = p.block("element_room");
  auto* cut = p.block("array_cut");
  auto* offset = b.CreateLoad(b.getInt64Ty(), used, "offset");
  // Past max_items, or no byte left: the array is cut.
  b.CreateCondBr(b.CreateOr(b.CreateICmpUGE(i, b.getInt64(c.max_items)),
                            b.CreateICmpUGE(offset, b.getInt64(c.max_bytes))),
                 cut, room);
  b.SetInsertPoint(cut);
  b.CreateStore(status_value(p, capture_status::truncated), status);
  b.CreateBr(finished);

  b.SetInsertPoint(room);
  auto* n = b.CreateProbeReadUserStr(b.CreateBytePointer(data, offset), item, pointer);
  end_with(branch_on_fault(p, n, "element_read", "element_read_fault"), capture_status::fault);
  // n counts the NUL; an element of `item` bytes or more was cut.
  auto* total = b.CreateAdd(offset, b.CreateAnd(n, b.getInt64(mask_for(item))));
  auto* over = b.CreateOr(b.CreateICmpUGT(total, b.getInt64(c.max_bytes)),
                          b.CreateICmpEQ(n, b.getInt64(item)));
  auto* clipped = b.CreateSelect(b.CreateICmpUGT(total, b.getInt64(c.max_bytes)),
                                 b.getInt64(c.max_bytes), total);
  b.CreateStore(clipped, used);
  auto* go_on = p.block("next_item");
  auto* clip = p.block("element_clipped");
  b.CreateCondBr(over, clip, go_on);
  b.SetInsertPoint(clip);
  b.CreateStore(status_value(p, capture_status::truncated), status);
  b.CreateBr(finished);
  b.SetInsertPoint(go_on);
  b.CreateStore(b.CreateAdd(i, b.getInt64(1)), counter);
  b.CreateBr(loop);

  b.SetInsertPoint(finished);
  auto* final_status = b.CreateLoad(b.getInt8Ty(), status);
  if (defer_faults) {
    auto* deferred = p.block("defer_array");
    auto* keep = p.block("keep_array");
    b.CreateCondBr(b.CreateICmpEQ(final_status, status_value(p, capture_status::fault)), deferred, keep);
    b.SetInsertPoint(deferred);
    defer_capture(cc, index);
    b.CreateBr(next);
    b.SetInsertPoint(keep);
  }
  auto* length = b.CreateAnd(b.CreateLoad(b.getInt64Ty(), used), b.getInt64(mask_for(c.max_bytes)));
  finish_capture(cc, header, index, final_status, length);
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

}  // namespace ebpfpub::detail
