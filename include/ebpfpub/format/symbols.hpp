#pragma once
/// \file
/// Flag sets and modes as the C source spells them. The home of symbolic names for
/// argument values: tables for further flag sets belong here.

#include <cstdint>
#include <string>

namespace ebpfpub {

/// `O_WRONLY|O_CREAT|O_CLOEXEC`: the access mode (a two-bit number, not a flag), then
/// each flag set, then any bits left over in octal (`|010000000000`).
std::string open_flags_name(std::uint64_t flags);

/// A file mode in octal as C writes it: `0644`, and `0` for zero.
std::string mode_name(std::uint64_t mode);

}  // namespace ebpfpub
