#include <ebpfpub/format/symbols.hpp>

#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace ebpfpub {

std::string open_flags_name(std::uint64_t flags) {
  // x86-64 values (asm-generic/fcntl.h), in the order of their lowest bit. O_SYNC
  // includes O_DSYNC's bit and O_TMPFILE O_DIRECTORY's: each comes just before its part,
  // so the whole name wins when all its bits are set.
  static constexpr std::pair<std::uint64_t, std::string_view> names[] = {
      {0100, "O_CREAT"},        {0200, "O_EXCL"},          {0400, "O_NOCTTY"},
      {01000, "O_TRUNC"},       {02000, "O_APPEND"},       {04000, "O_NONBLOCK"},
      {04010000, "O_SYNC"},     {010000, "O_DSYNC"},       {020000, "O_ASYNC"},
      {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"},  {020200000, "O_TMPFILE"},
      {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"},   {01000000, "O_NOATIME"},
      {02000000, "O_CLOEXEC"},  {010000000, "O_PATH"}};
  static constexpr std::string_view access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  std::string out(access[flags & 3]);
  std::uint64_t rest = flags & ~std::uint64_t{3};
  for (const auto& [bit, name] : names) {
    if ((rest & bit) != bit) continue;
    out += '|';
    out += name;
    rest &= ~bit;
  }
  if (rest != 0) out += fmt::format("|{:#o}", rest);
  return out;
}

std::string mode_name(std::uint64_t mode) { return mode == 0 ? "0" : fmt::format("0{:o}", mode); }

}  // namespace ebpfpub
