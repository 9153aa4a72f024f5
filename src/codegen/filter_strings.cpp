// Filters on bytes: captured strings, the thread's command name, and captured socket
// addresses. Every comparison is unrolled over the constant's bytes (8 at a time), so
// its cost grows with the constant, never with the captured string, and the verifier
// sees no loop.

#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include <ebpfpub/record.hpp>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {
namespace {

using filter::checked_comparison;
using filter::comparison_op;
using source = filter::operand_source::kind;

// Bytes [from, from + n) of `s` (n <= 8) as a little-endian word: what an 8-byte load
// of them yields in its low n bytes.
std::uint64_t chunk(std::string_view s, std::size_t from, std::size_t n) {
  std::uint64_t w = 0;
  std::memcpy(&w, s.data() + from, n);
  return w;
}

std::uint64_t low_bytes(std::size_t n) { return n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1; }

// The string's first bytes equal `s`: words at `data` + 8j, the last one masked.
llvm::Value* head_matches(bpf_builder& b, llvm::Value* base, llvm::Value* data, std::string_view s) {
  llvm::Value* all = b.getTrue();
  for (std::size_t at = 0; at < s.size(); at += 8) {
    const auto n = std::min<std::size_t>(8, s.size() - at);
    auto* word = b.CreateLoadAt(b.getInt64Ty(), base, b.CreateAdd(data, b.getInt64(at)));
    all = b.CreateAnd(all, b.CreateICmpEQ(b.CreateAnd(word, b.getInt64(low_bytes(n))), b.getInt64(chunk(s, at, n))));
  }
  return all;
}

// The bytes [start, start + s.size()) equal `s`, where `start` is dynamic: each word is
// loaded so that it ends where its chunk ends and compared on its high bytes (8-byte
// loads need no alignment on the hosts BPF programs run on with efficient unaligned
// access; the verifier checks only the range).
llvm::Value* bytes_at_match(bpf_builder& b, llvm::Value* base, llvm::Value* start, std::string_view s) {
  llvm::Value* all = b.getTrue();
  for (std::size_t end = s.size(); end > 0;) {
    const auto n = std::min<std::size_t>(8, end);
    // A load of the 8 bytes ending at `end`: may start up to 7 bytes before `start`,
    // inside the capture header, which is always there.
    auto* word = b.CreateLoadAt(b.getInt64Ty(), base, b.CreateAdd(start, b.getInt64(end - 8)));
    all = b.CreateAnd(all, b.CreateICmpEQ(b.CreateLShr(word, b.getInt64(64 - 8 * n)),
                                          b.getInt64(chunk(s, end - n, n))));
    end -= n;
  }
  return all;
}

// A captured string's tests, once it is found: `at` is its header's offset.
struct found_string {
  capture_context& cc;
  const capture& c;
  llvm::Value* at;
  llvm::Value* length;  // u32, zero-extended
  llvm::Value* whole;   // captured without truncation (status ok)

  llvm::Value* data() { return cc.p.b.CreateAdd(at, cc.p.b.getInt64(record::capture_header_size)); }

  llvm::Value* equals(std::string_view s) {
    auto& b = cc.p.b;
    if (s.size() > c.max_bytes) return b.getFalse();
    return b.CreateAnd(b.CreateAnd(whole, b.CreateICmpEQ(length, b.getInt64(s.size()))),
                       head_matches(b, cc.entry, data(), s));
  }

  // In a hash map keyed by the strings zero-padded to `key_size`: the captured bytes are
  // copied into such a key word by word (each masked to the string's length) and looked up.
  llvm::Value* in_map(int map_fd, std::uint32_t key_size) {
    auto& p = cc.p;
    auto& b = p.b;
    auto* key_type = llvm::ArrayType::get(b.getInt64Ty(), key_size / 8);
    auto* key = p.entry_alloca(key_type, "string_key");
    b.CreateStore(llvm::ConstantAggregateZero::get(key_type), key);
    // Only whole words the capture's room holds are read; a longer string is not in the set.
    const std::uint32_t room = record::align8(c.max_bytes + 2);
    for (std::uint32_t at = 0; at < key_size && at + 8 <= room; at += 8) {
      auto* word = b.CreateLoadAt(b.getInt64Ty(), cc.entry, b.CreateAdd(data(), b.getInt64(at)));
      // Bytes of the string in this word: length - at, clamped to 0..8.
      auto* left = b.CreateSub(length, b.getInt64(at));
      auto* none = b.CreateICmpSLE(left, b.getInt64(0));
      auto* full = b.CreateICmpSGE(left, b.getInt64(8));
      auto* partial_mask = b.CreateSub(b.CreateShl(b.getInt64(1), b.CreateShl(b.CreateAnd(left, b.getInt64(7)), 3)),
                                       b.getInt64(1));
      auto* mask = b.CreateSelect(none, b.getInt64(0), b.CreateSelect(full, b.getInt64(~std::uint64_t{0}), partial_mask));
      b.CreateStoreAt(b.CreateAnd(word, mask), key, at);
    }
    const std::uint64_t longest = std::min<std::uint64_t>(key_size, room - 1);
    auto* fits = b.CreateAnd(whole, b.CreateICmpULE(length, b.getInt64(longest)));
    return b.CreateAnd(fits, b.CreateIsNotNull(b.CreateMapLookup(map_fd, key)));
  }

  llvm::Value* starts_with(std::string_view s) {
    auto& b = cc.p.b;
    if (s.size() > c.max_bytes) return b.getFalse();
    // A truncated capture still holds its first max_bytes: a prefix test is exact.
    return b.CreateAnd(b.CreateICmpUGE(length, b.getInt64(s.size())), head_matches(b, cc.entry, data(), s));
  }
};

// `s` starting in the first filter::contains_window bytes of the captured string: a
// bounded loop over the places it could start. The verifier walks every iteration and
// keeps a pending branch for each compare in it, so the window, not the capture's size,
// bounds the loop (see contains_window for what was measured).
llvm::Value* emit_contains(capture_context& cc, const capture& c, llvm::Value* at, llvm::Value* length,
                           std::string_view s) {
  auto& p = cc.p;
  auto& b = p.b;
  if (s.size() > c.max_bytes) return b.getFalse();
  if (s.empty()) return b.getTrue();
  const std::uint64_t window = std::min<std::uint64_t>(c.max_bytes, filter::contains_window);
  if (s.size() > window) return b.getFalse();
  auto* last = b.CreateSub(length, b.getInt64(s.size()), "last_start");
  auto* search = p.block("contains_search");
  auto* next = p.block("contains_next");
  auto* tested = p.block("contains_tested");
  auto* from = b.GetInsertBlock();
  b.CreateCondBr(b.CreateICmpULE(last, b.getInt64(c.max_bytes - s.size())), search, tested);
  b.SetInsertPoint(search);
  auto* i = b.CreatePHI(b.getInt64Ty(), 2, "contains_at");
  i->addIncoming(b.getInt64(0), from);
  auto* data = b.CreateAdd(at, b.getInt64(record::capture_header_size));
  auto* hit = bytes_at_match(b, cc.entry, b.CreateAdd(data, i), s);
  auto* search_end = b.GetInsertBlock();
  b.CreateCondBr(hit, tested, next);
  b.SetInsertPoint(next);
  auto* following = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(following, next);
  // The constant bound keeps the loop finite for the verifier whatever it knows of `last`.
  auto* more = b.CreateAnd(b.CreateICmpULE(following, last),
                           b.CreateICmpULE(following, b.getInt64(window - s.size())));
  b.CreateCondBr(more, search, tested);
  b.SetInsertPoint(tested);
  auto* phi = b.CreatePHI(b.getInt1Ty(), 3, "contains");
  phi->addIncoming(b.getFalse(), from);
  phi->addIncoming(b.getTrue(), search_end);
  phi->addIncoming(b.getFalse(), next);
  return phi;
}

}  // namespace

llvm::Value* emit_string_test(capture_context& cc, const checked_comparison& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const bool negate = c.op == comparison_op::ne;
  std::vector<std::string_view> values;
  if (c.operand.type == filter::value::kind::set)
    for (const auto& item : c.operand.items) values.push_back(item.text);
  else
    values.push_back(c.operand.text);

  if (c.source.type == source::comm) {
    // bpf_get_current_comm zero-pads to the buffer's size: the name and its padding are
    // two words, and a suffix is the bytes before the first zero.
    auto* comm = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), 3), "filter_comm");
    b.CreateStore(llvm::ConstantAggregateZero::get(llvm::ArrayType::get(b.getInt64Ty(), 3)), comm);
    b.CreateGetCurrentComm(comm, 16);
    llvm::Value* any = b.getFalse();
    for (const auto s : values) {
      llvm::Value* hit = b.getFalse();
      switch (c.op) {
        case comparison_op::eq:
        case comparison_op::ne:
        case comparison_op::in:
          // The zero after the name is part of the compare (s is at most 15 bytes).
          hit = head_matches(b, comm, b.getInt64(0), std::string(s) + '\0');
          break;
        case comparison_op::starts_with: hit = head_matches(b, comm, b.getInt64(0), s); break;
        case comparison_op::ends_with:
        case comparison_op::contains:
          // One compare per place the name could hold it, byte by byte: at most 16.
          for (std::size_t i = 0; i + s.size() <= 15; ++i) {
            llvm::Value* here = b.getTrue();
            for (std::size_t k = 0; k < s.size(); ++k)
              here = b.CreateAnd(here, b.CreateICmpEQ(b.CreateLoadAt(b.getInt8Ty(), comm, i + k),
                                                      b.getInt8(static_cast<std::uint8_t>(s[k]))));
            if (c.op == comparison_op::ends_with)
              here = b.CreateAnd(here, b.CreateICmpEQ(b.CreateLoadAt(b.getInt8Ty(), comm, i + s.size()), b.getInt8(0)));
            hit = b.CreateOr(hit, here);
          }
          break;
        default: assert(false && "not a string comparison");
      }
      any = b.CreateOr(any, hit);
    }
    return negate ? b.CreateNot(any) : any;
  }

  const auto& capture = cc.t.p->captures.at(c.source.capture);
  auto where = locate_capture(cc, c.source.capture);
  auto* found = p.block("string_found");
  auto* join = p.block("string_tested");
  auto* missing = b.GetInsertBlock();
  b.CreateCondBr(where.present, found, join);
  b.SetInsertPoint(found);
  auto* length = b.CreateZExt(b.CreateLoadAt(b.getInt32Ty(), cc.entry, b.CreateAdd(where.offset, b.getInt64(4))),
                              b.getInt64Ty(), "string_length");
  auto* status = b.CreateLoadAt(b.getInt8Ty(), cc.entry, b.CreateAdd(where.offset, b.getInt64(1)));
  found_string str{cc, capture, where.offset, length,
                   b.CreateICmpEQ(status, b.getInt8(static_cast<std::uint8_t>(capture_status::ok)))};
  llvm::Value* result = nullptr;
  switch (c.op) {
    case comparison_op::eq:
    case comparison_op::ne:
    case comparison_op::in: {
      if (c.set_map >= 0) {
        result = str.in_map(c.set_map, c.set_key_size);
        break;
      }
      llvm::Value* any = b.getFalse();
      for (const auto s : values) any = b.CreateOr(any, str.equals(s));
      result = any;
      break;
    }
    case comparison_op::starts_with: result = str.starts_with(values.front()); break;
    case comparison_op::ends_with: {
      const auto s = values.front();
      if (s.size() > capture.max_bytes) {
        result = b.getFalse();
        break;
      }
      // One unsigned compare bounds the suffix's start for the verifier: d = length - n
      // lies in [0, max_bytes - n], or the string is shorter than the suffix.
      auto* d = b.CreateSub(length, b.getInt64(s.size()), "suffix_start");
      auto* fits = p.block("suffix_fits");
      auto* tested = p.block("suffix_tested");
      auto* from = b.GetInsertBlock();
      b.CreateCondBr(b.CreateICmpULE(d, b.getInt64(capture.max_bytes - s.size())), fits, tested);
      b.SetInsertPoint(fits);
      auto* start = b.CreateAdd(str.data(), d);
      auto* hit = b.CreateAnd(str.whole, bytes_at_match(b, cc.entry, start, s));
      auto* fits_end = b.GetInsertBlock();
      b.CreateBr(tested);
      b.SetInsertPoint(tested);
      auto* phi = b.CreatePHI(b.getInt1Ty(), 2, "suffix_matches");
      phi->addIncoming(b.getFalse(), from);
      phi->addIncoming(hit, fits_end);
      result = phi;
      break;
    }
    case comparison_op::contains: result = emit_contains(cc, capture, where.offset, length, values.front()); break;
    default: assert(false && "not a string comparison"); result = b.getFalse();
  }
  if (negate) result = b.CreateNot(result);
  auto* found_end = b.GetInsertBlock();
  b.CreateBr(join);
  b.SetInsertPoint(join);
  // A string that was not captured (NULL, faulted, no room) passes no test, `!=` neither.
  auto* matched = b.CreatePHI(b.getInt1Ty(), 2, "string_matches");
  matched->addIncoming(b.getFalse(), missing);
  matched->addIncoming(result, found_end);
  return matched;
}

}  // namespace ebpfpub::detail
