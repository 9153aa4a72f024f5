// Filters on bytes: captured strings, the thread's command name, and captured socket
// addresses. Every comparison is unrolled over the constant's bytes (8 at a time), so
// its cost grows with the constant, never with the captured string, and the verifier
// sees no loop.

#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <ebpfpub/record.hpp>
#include <functional>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {
namespace {

// The strings a test compares with: the operand, or each item of a set.
std::vector<std::string_view> operand_texts(const filter::checked_comparison& c) {
  std::vector<std::string_view> values;
  if (c.operand.type == filter::value::kind::set)
    for (const auto& item : c.operand.items) values.push_back(item.text);
  else
    values.push_back(c.operand.text);
  return values;
}

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

std::uint64_t low_bytes(std::size_t n) {
  return n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
}

// The string's first bytes equal `s`: words at `data` + 8j, the last one masked.
void require_head(chain& ch, llvm::Value* base, llvm::Value* data, std::string_view s) {
  auto& b = ch.p.b;
  for (std::size_t at = 0; at < s.size(); at += 8) {
    const auto n = std::min<std::size_t>(8, s.size() - at);
    auto* word = b.CreateLoadAt(b.getInt64Ty(), base, b.CreateAdd(data, b.getInt64(at)));
    ch.require(
        b.CreateICmpEQ(b.CreateAnd(word, b.getInt64(low_bytes(n))), b.getInt64(chunk(s, at, n))));
  }
}

// The bytes [start, start + s.size()) equal `s`, where `start` is dynamic: each word is
// loaded so that it ends where its chunk ends and compared on its high bytes (8-byte
// loads need no alignment on the hosts BPF programs run on with efficient unaligned
// access; the verifier checks only the range).
void require_bytes_at(chain& ch, llvm::Value* base, llvm::Value* start, std::string_view s) {
  auto& b = ch.p.b;
  for (std::size_t end = s.size(); end > 0;) {
    const auto n = std::min<std::size_t>(8, end);
    // A load of the 8 bytes ending at `end`: may start up to 7 bytes before `start`,
    // inside the capture header, which is always there.
    auto* word = b.CreateLoadAt(b.getInt64Ty(), base, b.CreateAdd(start, b.getInt64(end - 8)));
    ch.require(b.CreateICmpEQ(b.CreateLShr(word, b.getInt64(64 - 8 * n)),
                              b.getInt64(chunk(s, end - n, n))));
    end -= n;
  }
}

// The command name holds `s` somewhere (or, `at_end`, right before its first zero): one
// chain of byte compares per place it could start.
void require_in_comm(chain& ch, llvm::Value* comm, std::string_view s, std::size_t place,
                     bool at_end) {
  auto& b = ch.p.b;
  const std::string wanted = at_end ? std::string(s) + '\0' : std::string(s);
  for (std::size_t k = 0; k < wanted.size(); ++k)
    ch.require(b.CreateICmpEQ(b.CreateLoadAt(b.getInt8Ty(), comm, place + k),
                              b.getInt8(static_cast<std::uint8_t>(wanted[k]))));
}

// A captured string's tests, once it is found: `at` is its header's offset.
struct found_string {
  capture_context& cc;
  const capture& c;
  llvm::Value* at;
  llvm::Value* length;  // u32, zero-extended
  llvm::Value* status;

  llvm::Value* data() { return cc.p.b.CreateAdd(at, cc.p.b.getInt64(record::capture_header_size)); }
  llvm::Value* whole() {
    return cc.p.b.CreateICmpEQ(status,
                               cc.p.b.getInt8(static_cast<std::uint8_t>(capture_status::ok)));
  }

  void require_equal(chain& ch, std::string_view s) {
    auto& b = cc.p.b;
    ch.require(b.getInt1(s.size() <= c.max_bytes));
    ch.require(whole());
    ch.require(b.CreateICmpEQ(length, b.getInt64(s.size())));
    require_head(ch, cc.entry, data(), s);
  }

  void require_prefix(chain& ch, std::string_view s) {
    auto& b = cc.p.b;
    ch.require(b.getInt1(s.size() <= c.max_bytes));
    // A truncated capture still holds its first max_bytes: a prefix test is exact.
    ch.require(b.CreateICmpUGE(length, b.getInt64(s.size())));
    require_head(ch, cc.entry, data(), s);
  }

  void require_suffix(chain& ch, std::string_view s) {
    auto& b = cc.p.b;
    if (s.size() > c.max_bytes) {
      ch.require(b.getFalse());
      return;
    }
    ch.require(whole());
    // One unsigned compare bounds the suffix's start for the verifier: d = length - n
    // lies in [0, max_bytes - n], or the string is shorter than the suffix.
    auto* d = b.CreateSub(length, b.getInt64(s.size()), "suffix_start");
    ch.require(b.CreateICmpULE(d, b.getInt64(c.max_bytes - s.size())));
    require_bytes_at(ch, cc.entry, b.CreateAdd(data(), d), s);
  }

  // Some prefix (or, `suffix`, some suffix) in an LPM trie keyed by a u32 bit count and
  // `key_size` bytes: the prefixes as written, the suffixes reversed. The key is the
  // string's first bytes (a prefix test is exact on a truncated capture), or its last
  // ones reversed (the whole string is needed), at most key_size of them: the trie finds
  // a stored prefix of that key when there is one.
  void require_affix_in_map(chain& ch, int map_fd, std::uint32_t key_size, bool suffix) {
    auto& p = cc.p;
    auto& b = p.b;
    auto* key_type = llvm::ArrayType::get(b.getInt64Ty(), key_size / 8 + 1);
    auto* key = p.entry_alloca(key_type, suffix ? "suffix_key" : "prefix_key");
    const std::uint32_t most = std::min<std::uint32_t>(key_size, c.max_bytes);
    if (suffix) ch.require(whole());
    ch.require(b.CreateICmpULE(length, b.getInt64(c.max_bytes)));
    b.CreateStore(llvm::ConstantAggregateZero::get(key_type), key);
    auto* used = b.CreateSelect(b.CreateICmpULT(length, b.getInt64(most)), length, b.getInt64(most), "key_bytes");
    b.CreateStoreAt(b.CreateTrunc(b.CreateShl(used, b.getInt64(3)), b.getInt32Ty()), key, std::uint64_t{0});
    if (!suffix) {
      // long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr)
      b.CreateHelperCall(BPF_FUNC_probe_read_kernel, b.getInt64Ty(),
                         {b.CreateBytePointer(key, b.getInt64(4)), used, b.CreateBytePointer(cc.entry, data())});
    } else {
      // key[4 + i] = s[length - 1 - i], unrolled: each store at a constant stack offset.
      // The branch that ends the copy at the string's start tests the load's own offset
      // (unsigned: past the start it wraps), so the verifier bounds that very register.
      auto* copied = p.block("suffix_copied");
      for (std::uint32_t i = 0; i < most; ++i) {
        auto* more = p.block("suffix_byte");
        auto* from = b.CreateSub(length, b.getInt64(std::uint64_t{i} + 1), "suffix_from");
        b.CreateCondBr(b.CreateICmpUGT(from, b.getInt64(c.max_bytes - 1 - i)), copied, more);
        b.SetInsertPoint(more);
        auto* byte = b.CreateLoadAt(b.getInt8Ty(), cc.entry, b.CreateAdd(data(), from));
        b.CreateStoreAt(byte, key, std::uint64_t{4} + i);
      }
      b.CreateBr(copied);
      b.SetInsertPoint(copied);
    }
    ch.require(b.CreateIsNotNull(b.CreateMapLookup(map_fd, key)));
  }

  // In a hash map keyed by the strings zero-padded to `key_size`: the captured bytes are
  // copied into such a zeroed key (bpf_probe_read_kernel of `length` bytes, which a branch
  // bounds) and looked up.
  void require_in_map(chain& ch, int map_fd, std::uint32_t key_size) {
    auto& p = cc.p;
    auto& b = p.b;
    auto* key_type = llvm::ArrayType::get(b.getInt64Ty(), key_size / 8);
    auto* key = p.entry_alloca(key_type, "string_key");
    ch.require(whole());
    ch.require(b.CreateICmpULE(length, b.getInt64(std::min<std::uint32_t>(key_size, c.max_bytes))));
    b.CreateStore(llvm::ConstantAggregateZero::get(key_type), key);
    // long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr)
    b.CreateHelperCall(BPF_FUNC_probe_read_kernel, b.getInt64Ty(),
                       {key, length, b.CreateBytePointer(cc.entry, data())});
    ch.require(b.CreateIsNotNull(b.CreateMapLookup(map_fd, key)));
  }
};

// `s` starting in the first filter::contains_window bytes of the captured string: a
// bounded loop over the places it could start. The verifier walks every iteration and
// keeps a pending branch for each compare in it, so the window, not the capture's size,
// bounds the loop (see contains_window for what was measured).
llvm::Value* emit_contains(capture_context& cc, const capture& c, llvm::Value* at,
                           llvm::Value* length, std::string_view s) {
  auto& p = cc.p;
  auto& b = p.b;
  if (s.size() > c.max_bytes) return b.getFalse();
  if (s.empty()) return b.getTrue();
  const std::uint64_t window = std::min<std::uint64_t>(c.max_bytes, filter::contains_window);
  if (s.size() > window) return b.getFalse();
  auto* last = b.CreateSub(length, b.getInt64(s.size()), "last_start");
  auto* search = p.block("contains_search");
  auto* next = p.block("contains_next");
  auto* found = p.block("contains_found");
  auto* tested = p.block("contains_tested");
  auto* from = b.GetInsertBlock();
  b.CreateCondBr(b.CreateICmpULE(last, b.getInt64(c.max_bytes - s.size())), search, tested);
  b.SetInsertPoint(search);
  auto* i = b.CreatePHI(b.getInt64Ty(), 2, "contains_at");
  i->addIncoming(b.getInt64(0), from);
  auto* data = b.CreateAdd(at, b.getInt64(record::capture_header_size));
  chain ch{p, next};
  require_bytes_at(ch, cc.entry, b.CreateAdd(data, i), s);
  b.CreateBr(found);
  b.SetInsertPoint(next);
  auto* following = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(following, next);
  // The constant bound keeps the loop finite for the verifier whatever it knows of `last`.
  auto* more = b.CreateAnd(b.CreateICmpULE(following, last),
                           b.CreateICmpULE(following, b.getInt64(window - s.size())));
  b.CreateCondBr(more, search, tested);
  b.SetInsertPoint(found);
  b.CreateBr(tested);
  b.SetInsertPoint(tested);
  auto* phi = b.CreatePHI(b.getInt1Ty(), 3, "contains");
  phi->addIncoming(b.getFalse(), from);
  phi->addIncoming(b.getTrue(), found);
  phi->addIncoming(b.getFalse(), next);
  return phi;
}

}  // namespace

llvm::Value* emit_string_test(capture_context& cc, const checked_comparison& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const bool negate = c.op == comparison_op::ne;
  const auto values = operand_texts(c);

  if (c.source.type == source::comm) {
    // bpf_get_current_comm zero-pads to the buffer's size: the name and its padding are
    // two words, and a suffix is the bytes before the first zero.
    auto* comm = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), 3), "filter_comm");
    b.CreateStore(llvm::ConstantAggregateZero::get(llvm::ArrayType::get(b.getInt64Ty(), 3)), comm);
    b.CreateGetCurrentComm(comm, 16);
    llvm::Value* result = nullptr;
    switch (c.op) {
      case comparison_op::eq:
      case comparison_op::ne:
      case comparison_op::in:
        // The zero after the name is part of the compare (s is at most 15 bytes).
        result = any_alternative(p, values.size(), [&](std::size_t i, chain& ch) {
          require_head(ch, comm, b.getInt64(0), std::string(values[i]) + '\0');
        });
        break;
      case comparison_op::starts_with:
        result = any_alternative(p, 1, [&](std::size_t, chain& ch) {
          require_head(ch, comm, b.getInt64(0), values[0]);
        });
        break;
      case comparison_op::ends_with:
      case comparison_op::contains: {
        const bool at_end = c.op == comparison_op::ends_with;
        const auto need = values[0].size() + (at_end ? 1 : 0);
        const std::size_t places = need <= 16 ? 16 - need + 1 : 0;
        result = any_alternative(p, places, [&](std::size_t place, chain& ch) {
          require_in_comm(ch, comm, values[0], place, at_end);
        });
        break;
      }
      default:
        assert(false && "not a string comparison");
        result = b.getFalse();
    }
    return negate ? b.CreateNot(result) : result;
  }

  const auto& capture = cc.t.p->captures.at(c.source.capture);
  auto where = locate_capture(cc, c.source.capture);
  // A string that was not captured (NULL, faulted, no room) passes no test, `!=` neither.
  return when_present(p, where.present, "string", [&] {
    auto* length = b.CreateZExt(
        b.CreateLoadAt(b.getInt32Ty(), cc.entry, b.CreateAdd(where.offset, b.getInt64(4))),
        b.getInt64Ty(), "string_length");
    auto* status =
        b.CreateLoadAt(b.getInt8Ty(), cc.entry, b.CreateAdd(where.offset, b.getInt64(1)));
    return string_test_at(cc, c, capture, where.offset, length, status);
  });
}

llvm::Value* string_test_at(capture_context& cc, const checked_comparison& c, const capture& capture,
                            llvm::Value* at, llvm::Value* length, llvm::Value* status) {
  auto& p = cc.p;
  auto& b = p.b;
  const bool negate = c.op == comparison_op::ne;
  const auto values = operand_texts(c);
  found_string str{cc, capture, at, length, status};
  llvm::Value* result = nullptr;
  switch (c.op) {
    case comparison_op::eq:
    case comparison_op::ne:
    case comparison_op::in:
      if (c.set_map >= 0)
        result = any_alternative(p, 1, [&](std::size_t, chain& ch) {
          str.require_in_map(ch, c.set_map, c.set_key_size);
        });
      else
        result = any_alternative(
            p, values.size(), [&](std::size_t i, chain& ch) { str.require_equal(ch, values[i]); });
      break;
    case comparison_op::starts_with:
    case comparison_op::ends_with: {
      const bool suffix = c.op == comparison_op::ends_with;
      if (c.set_map >= 0)
        result = any_alternative(p, 1, [&](std::size_t, chain& ch) {
          str.require_affix_in_map(ch, c.set_map, c.set_key_size, suffix);
        });
      else
        result = any_alternative(p, values.size(), [&](std::size_t i, chain& ch) {
          if (suffix)
            str.require_suffix(ch, values[i]);
          else
            str.require_prefix(ch, values[i]);
        });
      break;
    }
    case comparison_op::contains:
      result = emit_contains(cc, capture, at, length, values.front());
      break;
    default:
      assert(false && "not a string comparison");
      result = b.getFalse();
  }
  return negate ? b.CreateNot(result) : result;
}

}  // namespace ebpfpub::detail
