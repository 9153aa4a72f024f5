// Filters on a captured socket address: its family, its port and its address against
// CIDR blocks (IPv4 and IPv6), read at fixed offsets of struct sockaddr_in/_in6.

#include <llvm/IR/Intrinsics.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cassert>
#include <cstddef>
#include <ebpfpub/record.hpp>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {
namespace {

using filter::checked_comparison;
using filter::comparison_op;
using source = filter::operand_source::kind;

// Network order to host order: the BPF back end turns llvm.bswap into `be` instructions.
llvm::Value* from_network(bpf_builder& b, llvm::Value* v) {
  return b.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, v);
}

std::uint64_t prefix_mask(unsigned bits, unsigned width) {
  if (bits == 0) return 0;
  if (bits >= width) return width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  const std::uint64_t all = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  return all & ~((std::uint64_t{1} << (width - bits)) - 1);
}

std::uint64_t big_endian(const std::array<std::uint8_t, 16>& bytes, std::size_t from,
                         std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | bytes[from + i];
  return v;
}

// The address of `a` lies in `block`.
void require_in_block(chain& ch, llvm::Value* base, const address_view& a, const filter::cidr& block) {
  auto& b = ch.p.b;
  const bool v4 = block.family == AF_INET;
  const std::uint32_t end = v4 ? a.v4_at + 4 : a.v6_at + 16;
  ch.require(b.getInt1(a.max_bytes >= end));
  ch.require(b.CreateICmpEQ(a.family, b.getInt16(block.family)));
  ch.require(b.CreateICmpUGE(a.length, b.getInt64(end)));
  if (v4) {
    auto* word = b.CreateLoadAt(b.getInt32Ty(), base, b.CreateAdd(a.data, b.getInt64(a.v4_at)));
    auto* host = b.CreateZExt(from_network(b, word), b.getInt64Ty());
    const auto mask = prefix_mask(block.prefix, 32);
    ch.require(b.CreateICmpEQ(b.CreateAnd(host, b.getInt64(mask)),
                              b.getInt64(big_endian(block.bytes, 0, 4) & mask)));
    return;
  }
  for (unsigned half = 0; half < 2; ++half) {
    const unsigned bits = block.prefix > 64 * half ? block.prefix - 64 * half : 0;
    const auto mask = prefix_mask(std::min(bits, 64u), 64);
    if (mask == 0) continue;
    auto* word =
        b.CreateLoadAt(b.getInt64Ty(), base, b.CreateAdd(a.data, b.getInt64(a.v6_at + 8 * half)));
    ch.require(b.CreateICmpEQ(b.CreateAnd(from_network(b, word), b.getInt64(mask)),
                              b.getInt64(big_endian(block.bytes, 8 * half, 8) & mask)));
  }
}

// The address in an LPM trie of blocks (address_set_key): one lookup with the family and
// the whole address; the trie finds the longest block that holds it, if any.
llvm::Value* address_in_map(capture_context& cc, const address_view& a, int map_fd) {
  auto& p = cc.p;
  auto& b = p.b;
  if (a.max_bytes < a.v6_at + 16 || a.max_bytes < a.v4_at + 4) return b.getFalse();
  auto* key_type = llvm::ArrayType::get(b.getInt64Ty(), sizeof(address_set_key) / 8);
  auto* key = p.entry_alloca(key_type, "address_key");
  b.CreateStore(llvm::ConstantAggregateZero::get(key_type), key);
  auto* v4 = b.CreateICmpEQ(a.family, b.getInt16(AF_INET));
  auto* v6 = b.CreateICmpEQ(a.family, b.getInt16(AF_INET6));
  auto* known = b.CreateAnd(
      b.CreateOr(v4, v6),
      b.CreateICmpUGE(a.length, b.CreateSelect(v4, b.getInt64(a.v4_at + 4), b.getInt64(a.v6_at + 16))));
  auto* bits = b.CreateSelect(v4, b.getInt32(32 + 32), b.getInt32(32 + 128));
  b.CreateStoreAt(bits, key, offsetof(address_set_key, prefix_bits));
  // The family as a big-endian u32: its bytes in memory order are 0, 0, hi, lo.
  auto* tag = b.CreateZExt(a.family, b.getInt32Ty());
  b.CreateStoreAt(from_network(b, tag), key, offsetof(address_set_key, family));
  auto* word4 = b.CreateLoadAt(b.getInt32Ty(), cc.entry, b.CreateAdd(a.data, b.getInt64(a.v4_at)));
  auto* low6 = b.CreateLoadAt(b.getInt64Ty(), cc.entry, b.CreateAdd(a.data, b.getInt64(a.v6_at)));
  auto* high6 = b.CreateLoadAt(b.getInt64Ty(), cc.entry, b.CreateAdd(a.data, b.getInt64(a.v6_at + 8)));
  // IPv4: the 4 address bytes, then zeros (the trie reads only 64 bits of the key).
  b.CreateStoreAt(b.CreateSelect(v4, b.CreateZExt(word4, b.getInt64Ty()), low6), key,
                  offsetof(address_set_key, address));
  b.CreateStoreAt(b.CreateSelect(v4, b.getInt64(0), high6), key,
                  offsetof(address_set_key, address) + 8);
  return b.CreateAnd(known, b.CreateIsNotNull(b.CreateMapLookup(map_fd, key)));
}

}  // namespace

llvm::Value* emit_sockaddr_test(capture_context& cc, const checked_comparison& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& capture = cc.t.p->captures.at(c.source.capture);
  auto where = locate_capture(cc, c.source.capture);
  // An address that was not captured matches no test (and `!=` on it is false as well).
  return when_present(p, where.present, "sockaddr", [&]() -> llvm::Value* {
    auto* length = b.CreateZExt(
        b.CreateLoadAt(b.getInt32Ty(), cc.entry, b.CreateAdd(where.offset, b.getInt64(4))),
        b.getInt64Ty(), "sockaddr_length");
    auto* data = b.CreateAdd(where.offset, b.getInt64(record::capture_header_size));
    // Every family starts with sa_family_t; a capture shorter than that holds none.
    auto* family = b.CreateLoadAt(b.getInt16Ty(), cc.entry, data, "family");
    auto* has_family = b.CreateICmpUGE(length, b.getInt64(sizeof(sa_family_t)));
    switch (c.source.type) {
      case source::sockaddr_family: {
        auto* value = b.CreateZExt(family, b.getInt64Ty());
        return b.CreateAnd(has_family, c.set_map >= 0 ? number_in_map(cc, value, c.set_map)
                                                      : compare_number_operand(b, value, c, 16, false));
      }
      case source::sockaddr_port: {
        // sin_port and sin6_port are both at offset 2, in network order.
        static_assert(offsetof(sockaddr_in, sin_port) == 2 && offsetof(sockaddr_in6, sin6_port) == 2);
        auto* inet = b.CreateOr(b.CreateICmpEQ(family, b.getInt16(AF_INET)),
                                b.CreateICmpEQ(family, b.getInt16(AF_INET6)));
        auto* has_port = b.CreateAnd(inet, b.CreateICmpUGE(length, b.getInt64(4)));
        auto* port = b.CreateZExt(from_network(b, b.CreateLoadAt(b.getInt16Ty(), cc.entry,
                                                                 b.CreateAdd(data, b.getInt64(2)))),
                                  b.getInt64Ty(), "port");
        return b.CreateAnd(has_port, c.set_map >= 0 ? number_in_map(cc, port, c.set_map)
                                                    : compare_number_operand(b, port, c, 16, false));
      }
      case source::sockaddr_address:
        return address_test(cc, c, {data, length, family, capture.max_bytes,
                                    offsetof(sockaddr_in, sin_addr), offsetof(sockaddr_in6, sin6_addr)});
      default:
        assert(false && "not a socket address");
        return b.getFalse();
    }
  });
}

llvm::Value* address_test(capture_context& cc, const checked_comparison& c, const address_view& a) {
  auto& p = cc.p;
  auto& b = p.b;
  if (c.set_map >= 0) return address_in_map(cc, a, c.set_map);
  std::vector<const filter::cidr*> blocks;
  if (c.operand.type == filter::value::kind::set)
    for (const auto& item : c.operand.items) blocks.push_back(&item.block);
  else
    blocks.push_back(&c.operand.block);
  auto* any = any_alternative(p, blocks.size(), [&](std::size_t i, chain& ch) {
    require_in_block(ch, cc.entry, a, *blocks[i]);
  });
  return c.op == comparison_op::ne ? b.CreateNot(any) : any;
}

}  // namespace ebpfpub::detail
