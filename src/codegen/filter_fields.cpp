// Filters on the fields of two fixed blocks the enter program writes into the entry: the
// process context (record.hpp, at a constant offset after the arguments) and an fd's
// identity record (fd_identity.hpp, a capture found like any other). Numbers are loads at
// fixed offsets; strings are NUL-terminated fields whose length a bounded loop finds, then
// the same tests as a captured string's.

#include <llvm/IR/Intrinsics.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cassert>
#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/record.hpp>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {
namespace {

using filter::checked_comparison;
using source = filter::operand_source::kind;
namespace layout = record::fd_identity_layout;

llvm::Type* int_of(bpf_builder& b, unsigned bytes) { return b.getIntNTy(8 * bytes); }

// The length of the NUL-terminated field of `size` bytes at entry offset `at`: a loop of
// at most `size` steps, bounded by a constant for the verifier. The kernel always ends
// these fields with a NUL; were one missing, the field reads as its first size - 1 bytes.
llvm::Value* field_length(capture_context& cc, llvm::Value* at, std::uint32_t size) {
  auto& p = cc.p;
  auto& b = p.b;
  auto* before = b.GetInsertBlock();
  auto* step = p.block("field_length_step");
  auto* more = p.block("field_length_more");
  auto* done = p.block("field_length_done");
  b.CreateBr(step);
  b.SetInsertPoint(step);
  auto* i = b.CreatePHI(b.getInt64Ty(), 2, "field_at");
  i->addIncoming(b.getInt64(0), before);
  auto* byte = b.CreateLoadAt(b.getInt8Ty(), cc.entry, b.CreateAdd(at, i));
  b.CreateCondBr(b.CreateICmpEQ(byte, b.getInt8(0)), done, more);
  b.SetInsertPoint(more);
  auto* next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, more);
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(size - 1)), step, done);
  b.SetInsertPoint(done);
  auto* length = b.CreatePHI(b.getInt64Ty(), 2, "field_length");
  length->addIncoming(i, step);
  length->addIncoming(b.getInt64(size - 1), more);
  return length;
}

// The test on the block whose data starts at entry offset `data`.
llvm::Value* test_block(capture_context& cc, const checked_comparison& c, llvm::Value* data) {
  auto& b = cc.p.b;
  const auto& s = c.source;
  auto* at = b.CreateAdd(data, b.getInt64(s.offset));
  switch (s.type) {
    case source::context_number:
    case source::fd_number:
    case source::fd_kind: {
      const unsigned width = s.type == source::fd_kind ? 4 : s.width;
      llvm::Value* v = b.CreateLoadAt(int_of(b, width), cc.entry, at, "field");
      if (s.network_order) v = b.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, v);
      v = b.CreateZExt(v, b.getInt64Ty());
      // The kind is the mode's type bits (an anonymous inode has none).
      if (s.type == source::fd_kind) v = b.CreateAnd(v, b.getInt64(S_IFMT));
      if (c.set_map >= 0) return number_in_map(cc, v, c.set_map);
      return compare_number_operand(b, v, c, 8 * width, false);
    }
    case source::context_string:
    case source::fd_string: {
      capture shape;
      shape.max_bytes = s.size - 1u;
      auto* length = field_length(cc, at, s.size);
      // string_test_at reads the data after a capture header: `at` is where the data is.
      auto* header = b.CreateSub(at, b.getInt64(record::capture_header_size));
      return string_test_at(cc, c, shape, header, length,
                            b.getInt8(static_cast<std::uint8_t>(capture_status::ok)));
    }
    case source::fd_address: {
      auto* family = b.CreateLoadAt(b.getInt16Ty(), cc.entry, b.CreateAdd(data, b.getInt64(layout::family)));
      return address_test(cc, c, {at, b.getInt64(16), family, 16, 0, 0});
    }
    default:
      assert(false && "not a context or fd field");
      return b.getFalse();
  }
}

}  // namespace

llvm::Value* emit_field_test(capture_context& cc, const checked_comparison& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& s = c.source;
  if (s.type == source::fd_path) return emit_fd_path_test(cc, c);
  if (s.type == source::context_number || s.type == source::context_string) {
    // The block is written first, at a fixed place; check() refuses a context field the
    // session does not read, so it is there.
    assert(!p.options.context.fields.empty());
    const std::uint64_t data = record::header_size + 8 * cc.t.p->syscall.arguments.size() +
                               record::capture_header_size;
    return test_block(cc, c, b.getInt64(data));
  }
  // An fd's identity: only an open file has fields; a bad or closed fd passes no test.
  auto where = locate_capture(cc, s.capture);
  return when_present(p, where.present, "fd_identity", [&] {
    auto* data = b.CreateAdd(where.offset, b.getInt64(record::capture_header_size));
    auto* state = b.CreateLoadAt(b.getInt8Ty(), cc.entry, b.CreateAdd(data, b.getInt64(layout::state)));
    auto* open = b.CreateICmpEQ(state, b.getInt8(static_cast<std::uint8_t>(fd_state::open)));
    return when_present(p, open, "fd_open", [&] { return test_block(cc, c, data); });
  });
}

}  // namespace ebpfpub::detail
