#pragma once
/// \file
/// Open flags and modes as the seed's text shows them. Every other set of names is in
/// symbols/symbols.hpp (generated from the headers); these two use it.

#include <cstdint>
#include <string>

namespace ebpfpub {

/// `O_WRONLY|O_CREAT|O_CLOEXEC`: the access mode (a two-bit number, not a flag), then
/// each flag set in strace's order, then any bits left over in hex (`|0x100000000`).
std::string open_flags_name(std::uint64_t flags);

/// A file mode in octal as C writes it: `0644`, and `0` for zero.
std::string mode_name(std::uint64_t mode);

}  // namespace ebpfpub
