#pragma once
// The keys of a filter's set maps, which the session fills (src/session/filters.cpp) and
// the programs look up (filter_code.cpp, filter_strings.cpp, filter_sockaddr.cpp). Apart
// from filter_code.hpp so that the session needs no LLVM header for them.

#include <cstdint>
#include <ebpfpub/filter/expression.hpp>

namespace ebpfpub::detail {

/// The 8-byte key of a number in a set map: `n` as the operand reads it (cut to its width
/// and extended by its sign), so that user space fills the map with what the program looks up.
std::uint64_t set_number_key(const filter::operand_source& s, std::int64_t n);

/// The key of an address-block set (an LPM trie): the family, then the address, matched
/// on `prefix_bits` bits (32 for the family, then the block's prefix).
struct address_set_key {
  std::uint32_t prefix_bits;
  std::uint8_t family[4];  ///< AF_INET or AF_INET6 as a big-endian u32: a prefix of its own
  std::uint8_t address[16];
};
static_assert(sizeof(address_set_key) == 24);

}  // namespace ebpfpub::detail
