// capture_op::buffer and sockaddr: a length from the plan's source, clamped, then
// bpf_probe_read_user of that many bytes into the entry, from the argument or (indirect)
// from a pointer inside the struct the argument points to.

#include <algorithm>
#include <vector>

#include <ebpfpub/record.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
namespace {

// A way into the capture's final block, with the status and length it brings.
struct incoming {
  llvm::BasicBlock* from;
  llvm::Value* status;
  llvm::Value* length;
};

// How many bytes a capture asks for, before clamping (i64, may be negative). A length
// read from user memory may fault: then `failed_read` is the (open) block it goes to.
// `head`: the struct an indirect capture read, for a length from one of its fields.
llvm::Value* requested_length(capture_context& cc, const capture& c, llvm::Value* head,
                              llvm::BasicBlock*& failed_read) {
  auto& b = cc.p.b;
  switch (c.length) {
    case length_source::fixed: return b.getInt64(c.max_bytes);
    case length_source::argument: return argument_slot(cc, c.length_argument);
    case length_source::return_value: return cc.ret;
    case length_source::argument_pointer: {
      // An int in the caller's memory (socklen_t *addrlen): read it, or fail the capture.
      auto* slot = cc.p.length_slot;
      b.CreateStore(b.getInt32(0), slot);
      auto* r = b.CreateProbeReadUser(slot, b.getInt64(4), argument_slot(cc, c.length_argument));
      failed_read = branch_on_fault(cc.p, r, "length_read", "length_fault");
      return b.CreateSExt(b.CreateLoad(b.getInt32Ty(), slot), b.getInt64Ty(), "length");
    }
    case length_source::struct_field:
      return b.CreateSExt(b.CreateLoadAt(b.getInt32Ty(), head, c.length_offset), b.getInt64Ty(),
                          "field_length");
  }
  return b.getInt64(0);
}

}  // namespace

void emit_bytes(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* source,
                llvm::Value* given_length) {
  auto& p = cc.p;
  auto& b = p.b;
  auto* next = p.block("next_capture");
  auto* header = reserve_capture(cc, c, next);
  auto* data = b.CreateBytePointer(header, b.getInt64(record::capture_header_size), "data");
  auto* pointer = source ? source : argument_slot(cc, c.argument);
  auto* store = p.block("store_capture");
  std::vector<incoming> results;

  auto* not_null = p.block("not_null");
  results.push_back({b.GetInsertBlock(), status_value(p, capture_status::null_pointer), b.getInt64(0)});
  b.CreateCondBr(b.CreateICmpEQ(pointer, b.getInt64(0)), store, not_null);
  b.SetInsertPoint(not_null);

  llvm::BasicBlock* length_fault = nullptr;
  llvm::Value* wanted = nullptr;
  if (c.indirect) {
    // The pointer (and perhaps its length) are fields of a struct in the caller's memory:
    // read the struct's head (to the next 8 bytes), then what it points to.
    std::uint32_t head = c.pointer_offset + 8u;
    if (c.length == length_source::struct_field) head = std::max(head, c.length_offset + 4u);
    const std::uint32_t words = (head + 7) / 8;
    auto* slot = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), words), "struct_head");
    auto* r = b.CreateProbeReadUser(slot, b.getInt64(8 * words), pointer);
    length_fault = branch_on_fault(p, r, "got_struct", "struct_fault");
    pointer = b.CreateLoadAt(b.getInt64Ty(), slot, c.pointer_offset, "field_pointer");
    llvm::BasicBlock* no_fault = nullptr;  // check_plan allows no length that can fault here
    wanted = requested_length(cc, c, slot, no_fault);
    auto* present = p.block("pointer_present");
    results.push_back({b.GetInsertBlock(), status_value(p, capture_status::null_pointer), b.getInt64(0)});
    b.CreateCondBr(b.CreateICmpEQ(pointer, b.getInt64(0)), store, present);
    b.SetInsertPoint(present);
  } else if (given_length) {
    wanted = given_length;
  } else {
    wanted = requested_length(cc, c, nullptr, length_fault);
  }
  if (length_fault) {
    auto* here = b.GetInsertBlock();
    b.SetInsertPoint(length_fault);
    results.push_back({length_fault, status_value(p, capture_status::fault), b.getInt64(0)});
    b.CreateBr(store);
    b.SetInsertPoint(here);
  }
  // Lengths from user space are clamped, never trusted: negative is nothing, more than
  // max_bytes is max_bytes and flagged.
  auto* negative = b.CreateICmpSLT(wanted, b.getInt64(0));
  auto* too_long = b.CreateICmpSGT(wanted, b.getInt64(c.max_bytes));
  auto* length = b.CreateSelect(negative, b.getInt64(0),
                                b.CreateSelect(too_long, b.getInt64(c.max_bytes), wanted));
  auto* status = b.CreateSelect(too_long, status_value(p, capture_status::truncated),
                                status_value(p, capture_status::ok));
  // The verifier cannot follow the selects: bound the length for it.
  auto* bounded = p.block("bounded_length");
  auto* read = p.block("read_bytes");
  b.CreateBr(bounded);
  b.SetInsertPoint(bounded);
  results.push_back({bounded, status_value(p, capture_status::ok), b.getInt64(0)});
  b.CreateCondBr(b.CreateICmpUGT(length, b.getInt64(c.max_bytes)), store, read);
  b.SetInsertPoint(read);
  auto* r = b.CreateProbeReadUser(data, length, pointer);
  auto* failed = b.CreateICmpSLT(r, b.getInt64(0));
  results.push_back({read, b.CreateSelect(failed, status_value(p, capture_status::fault), status),
                     b.CreateSelect(failed, b.getInt64(0), length)});
  b.CreateBr(store);

  b.SetInsertPoint(store);
  auto* status_phi = b.CreatePHI(b.getInt8Ty(), static_cast<unsigned>(results.size()), "status");
  auto* length_phi = b.CreatePHI(b.getInt64Ty(), static_cast<unsigned>(results.size()), "length");
  for (const auto& in : results) {
    status_phi->addIncoming(in.status, in.from);
    length_phi->addIncoming(in.length, in.from);
  }
  finish_capture(cc, header, index, status_phi, length_phi);
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

}  // namespace ebpfpub::detail
