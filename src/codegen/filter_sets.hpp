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

/// The per-thread scratch value (task storage) where a filter on an fd's path walks it
/// (filter_fd_path.cpp): the walk's two u32 counters, the path prepended so that it ends
/// at `end`, then the path copied to `data` (after 8 bytes where a capture header would
/// be, which the string tests may read before the data), where the string tests read it
/// as a captured string. The value is larger than these need: the verifier sees a name's
/// start only masked to [0, 8191] (mask_for(end)), with the name's 255 bytes after it. The
/// copy is made after the walk, so it may lie where the walk never writes.
namespace fd_path_scratch {
inline constexpr std::uint32_t bytes = 0, count = 4;
inline constexpr std::uint32_t area = 4096;  ///< filter::max_path_bytes and one
inline constexpr std::uint32_t end = 8 + area;
inline constexpr std::uint32_t header = end;
inline constexpr std::uint32_t data = header + 8;
inline constexpr std::uint32_t size = 8192 + 256;
static_assert(data + area + 8 <= size);
}  // namespace fd_path_scratch

}  // namespace ebpfpub::detail
