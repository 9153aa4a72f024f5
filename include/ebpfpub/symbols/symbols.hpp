#pragma once
/// \file
/// Symbol tables: the names of flags, enums, signals, file modes and errnos, as the C
/// headers spell them, and which syscall argument takes which set.
///
/// The tables are generated from this machine's headers (tools/symbols/generate.py reads
/// tools/symbols/sets.txt and arguments.txt) and checked against them at build time.
/// Events keep their numbers; these functions give the names beside them:
///
///     ebpfpub::symbols::argument("openat", "flags", 0x80241)  // "O_WRONLY|O_CREAT|O_CLOEXEC"
///     ebpfpub::symbols::exit_code(-2)                         // "-2 ENOENT"
///     ebpfpub::symbols::signal_name(15)                       // "SIGTERM"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ebpfpub {

/// How a set's names combine into a value's text.
enum class symbol_kind : std::uint8_t {
  flags,   ///< a bit set: O_WRONLY|O_CREAT; leftover bits in hex (O_RDONLY|0x4000000)
  values,  ///< an enum: one name, or the number when no name has that value
  mode,    ///< a file mode: the file type by name and the permission bits in octal (S_IFREG|0644)
};

/// One named constant.
struct symbol {
  std::string_view name;
  std::uint64_t value = 0;
};

/// Bits under `mask` that hold one value of `values` rather than flags: open's access mode
/// (O_RDONLY is 0), mmap's MAP_TYPE, the low 4 bits of a socket type, clone's exit signal.
struct symbol_field {
  std::uint64_t mask = 0;
  std::span<const symbol> values;
};

/// A set of names: its fields first, then its flags (or its values).
struct symbol_set {
  std::string_view name;  ///< "open_flags", "mmap_prot", "signals", "errno", ...
  symbol_kind kind = symbol_kind::values;
  std::span<const symbol_field> fields;
  std::span<const symbol> symbols;
};

/// One line of the argument map: `syscall`'s argument `argument` takes set `set` (when
/// `when` is empty), or only while argument `when` holds `when_value` (fcntl's `arg` is
/// FD_CLOEXEC's set when `cmd` is F_SETFD, open flags when it is F_SETFL).
struct argument_symbols {
  std::string_view syscall;
  std::string_view argument;  ///< the kernel's field name
  std::string_view set;
  std::string_view when;      ///< the argument the set depends on, or empty
  std::uint64_t when_value = 0;
};

/// An argument's value by name: what a conditional set looks at.
struct named_value {
  std::string_view name;
  std::uint64_t value = 0;
};

namespace symbols {

/// Every set, sorted by name.
std::span<const symbol_set> sets() noexcept;
/// Every mapped argument, sorted by syscall and argument.
std::span<const argument_symbols> arguments() noexcept;

/// The set named `name`, or null.
const symbol_set* find_set(std::string_view name) noexcept;
/// The set the argument takes, or null when it is a plain number (or not a known argument).
/// Without the other arguments only an unconditional set is found.
const symbol_set* of_argument(std::string_view syscall, std::string_view argument) noexcept;
/// The set the argument takes given the call's other arguments (`others`, by kernel field
/// name): the conditional set whose argument holds its value, else the unconditional one.
const symbol_set* of_argument(std::string_view syscall, std::string_view argument,
                              std::span<const named_value> others) noexcept;

/// `value` in the words of `set`. `width` (bytes) and `is_signed` are the C argument's:
/// a 4-byte `int` flag set looks only at its low 32 bits, and an unknown value of a signed
/// enum prints as a negative number.
std::string format(const symbol_set& set, std::uint64_t value, std::uint8_t width = 8,
                   bool is_signed = false);

/// The argument's value by name, or nullopt when the argument takes no set.
std::optional<std::string> argument(std::string_view syscall, std::string_view argument,
                                    std::uint64_t value, std::uint8_t width = 8,
                                    bool is_signed = false);
/// The same, with the call's other arguments for the sets that depend on one:
///     argument("fcntl", "arg", 1, 8, false, {{"cmd", F_SETFD}})  // "FD_CLOEXEC"
std::optional<std::string> argument(std::string_view syscall, std::string_view argument,
                                    std::uint64_t value, std::uint8_t width, bool is_signed,
                                    std::span<const named_value> others);

/// "ENOENT" for 2, including the kernel's own restart codes (ERESTARTSYS is 512) that a
/// tracepoint sees before a signal restarts the call; empty when unknown.
std::string_view errno_name(std::uint64_t error) noexcept;
/// "SIGTERM" for 15; empty when unknown.
std::string_view signal_name(std::uint64_t signal) noexcept;
/// The errno name of a syscall's return value: "ENOENT" for -2; empty when the value is
/// not an errno (the kernel's -4095..-1) or has no name.
std::string_view error_name(std::int64_t exit_code) noexcept;
/// A syscall's return value: "-2 ENOENT" for an errno (-4095..-1), else the number ("3").
std::string exit_code(std::int64_t value);

}  // namespace symbols
}  // namespace ebpfpub
