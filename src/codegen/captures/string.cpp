// capture_op::string: bpf_probe_read_user_str into the entry, with its status.

#include "codegen/captures.hpp"

#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {

void emit_string(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* source,
                 bool defer_faults, llvm::Value* cut_flag) {
  auto& p = cc.p;
  auto& b = p.b;
  auto* next = p.block("next_capture");
  auto* header = reserve_capture(cc, c, next);
  auto* pointer = source ? source : argument_slot(cc, c.argument);
  auto* data = b.CreateBytePointer(header, b.getInt64(record::capture_header_size), "data");

  auto* read = p.block("read");
  auto* store = p.block("store_capture");
  auto* from = b.GetInsertBlock();
  b.CreateCondBr(b.CreateICmpEQ(pointer, b.getInt64(0)), store, read);

  b.SetInsertPoint(read);
  const std::uint32_t size = c.max_bytes + 2;
  auto* n = b.CreateProbeReadUserStr(data, size, pointer);
  if (defer_faults) {
    auto* deferred = branch_on_fault(p, n, "got", "defer");
    read = b.GetInsertBlock();
    b.SetInsertPoint(deferred);
    defer_capture(cc, index);
    b.CreateBr(next);
    b.SetInsertPoint(read);
  }
  // n < 0: fault; n == size: longer than max_bytes; else n - 1 bytes before the NUL.
  auto* fault = b.CreateICmpSLT(n, b.getInt64(0));
  auto* cut = b.CreateICmpEQ(n, b.getInt64(size));
  if (cut_flag) b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt8Ty(), cut_flag), b.CreateZExt(cut, b.getInt8Ty())), cut_flag);
  auto* status = b.CreateSelect(
      fault, status_value(p, capture_status::fault),
      b.CreateSelect(cut, status_value(p, capture_status::truncated), status_value(p, capture_status::ok)));
  auto* length = b.CreateSelect(
      fault, b.getInt64(0),
      b.CreateSelect(cut, b.getInt64(c.max_bytes),
                     b.CreateSelect(b.CreateICmpSGT(n, b.getInt64(0)), b.CreateSub(n, b.getInt64(1)),
                                    b.getInt64(0))));
  // The verifier cannot follow the selects: mask to the capture's bound.
  length = b.CreateAnd(length, b.getInt64(mask_for(c.max_bytes)));
  b.CreateBr(store);

  b.SetInsertPoint(store);
  auto* status_phi = b.CreatePHI(b.getInt8Ty(), 2, "status");
  status_phi->addIncoming(status_value(p, capture_status::null_pointer), from);
  status_phi->addIncoming(status, read);
  auto* length_phi = b.CreatePHI(b.getInt64Ty(), 2, "length");
  length_phi->addIncoming(b.getInt64(0), from);
  length_phi->addIncoming(length, read);
  finish_capture(cc, header, index, status_phi, length_phi);
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

}  // namespace ebpfpub::detail
