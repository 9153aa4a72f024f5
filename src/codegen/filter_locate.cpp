// Finding a capture in the in-flight entry, for the filters on captured bytes: a walk
// over the capture headers, unrolled, which the verifier can follow.

#include <ebpfpub/record.hpp>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {

located_capture locate_capture(capture_context& cc, std::uint8_t index) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& plan = *cc.t.p;
  const std::uint32_t storage = cc.t.storage_size;
  const std::uint32_t reserve = capture_reserve(plan.captures.at(index));
  auto* filled = b.CreateLoad(b.getInt64Ty(), p.cursor, "filled");
  auto* join = p.block("located");
  struct arrival {
    llvm::BasicBlock* from;
    llvm::Value* offset;
    bool present;
  };
  std::vector<arrival> arrivals;
  std::uint64_t first = record::header_size + 8 * plan.syscall.arguments.size();
  if (!p.options.context.fields.empty()) first += record::capture_header_size + record::context_size;
  llvm::Value* at = b.getInt64(first);
  // Captures follow the arguments (and the process context block, when one is selected:
  // the enter program writes it first, at a fixed size) in plan order, each at most once;
  // walking one header per capture the plan has reaches any of them. The bound on `at` is
  // a branch of its own: the verifier learns a range only from a compare that a jump
  // depends on.
  for (std::size_t step = 0; step < plan.captures.size() && storage >= record::capture_header_size;
       ++step) {
    auto* look = p.block("capture_header");
    arrivals.push_back({b.GetInsertBlock(), b.getInt64(0), false});
    b.CreateCondBr(b.CreateICmpULE(at, b.getInt64(storage - record::capture_header_size)), look,
                   join);
    b.SetInsertPoint(look);
    auto* which = b.CreateLoadAt(b.getInt8Ty(), cc.entry, at, "capture_index");
    auto* length = b.CreateZExt(
        b.CreateLoadAt(b.getInt32Ty(), cc.entry, b.CreateAdd(at, b.getInt64(4))), b.getInt64Ty());
    // Bytes past the cursor are an older call's: a header there is not this call's.
    auto* written =
        b.CreateICmpULE(b.CreateAdd(at, b.getInt64(record::capture_header_size)), filled);
    auto* hit = p.block("capture_hit");
    auto* skip = p.block("capture_skip");
    b.CreateCondBr(b.CreateAnd(written, b.CreateICmpEQ(which, b.getInt8(index))), hit, skip);
    b.SetInsertPoint(hit);
    if (reserve <= storage) {
      auto* inside = p.block("capture_inside");
      arrivals.push_back({hit, b.getInt64(0), false});
      b.CreateCondBr(b.CreateICmpULE(at, b.getInt64(storage - reserve)), inside, join);
      b.SetInsertPoint(inside);
      arrivals.push_back({inside, at, true});
    } else {
      arrivals.push_back({hit, b.getInt64(0), false});
    }
    b.CreateBr(join);
    b.SetInsertPoint(skip);
    auto* padded = b.CreateAnd(b.CreateAdd(length, b.getInt64(7)), b.getInt64(~std::uint64_t{7}));
    at = b.CreateAdd(at, b.CreateAdd(padded, b.getInt64(record::capture_header_size)),
                     "next_header");
  }
  arrivals.push_back({b.GetInsertBlock(), b.getInt64(0), false});
  b.CreateBr(join);
  b.SetInsertPoint(join);
  auto* present = b.CreatePHI(b.getInt1Ty(), static_cast<unsigned>(arrivals.size()), "captured");
  auto* offset = b.CreatePHI(b.getInt64Ty(), static_cast<unsigned>(arrivals.size()), "capture_at");
  for (const auto& a : arrivals) {
    present->addIncoming(a.present ? b.getTrue() : b.getFalse(), a.from);
    offset->addIncoming(a.offset, a.from);
  }
  return {present, offset};
}

}  // namespace ebpfpub::detail
