#include <ebpfpub/format/symbols.hpp>

#include <fmt/format.h>

#include <ebpfpub/symbols/symbols.hpp>

namespace ebpfpub {

// The generated tables (tools/symbols) are the one owner of these names.
std::string open_flags_name(std::uint64_t flags) {
  static const symbol_set* set = symbols::find_set("open_flags");
  return symbols::format(*set, flags);
}

std::string mode_name(std::uint64_t mode) { return mode == 0 ? "0" : fmt::format("0{:o}", mode); }

}  // namespace ebpfpub
