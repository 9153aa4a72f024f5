#include <ebpfpub/symbols/symbols.hpp>

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "symbols/tables.hpp"

namespace ebpfpub::symbols {
namespace {

std::uint64_t width_mask(std::uint8_t width) {
  return width >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * width)) - 1;
}

std::int64_t sign_extend(std::uint64_t value, std::uint8_t width) {
  if (width >= 8) return static_cast<std::int64_t>(value);
  const unsigned shift = 64 - 8 * width;
  return static_cast<std::int64_t>(value << shift) >> shift;
}

// The first name whose value equals `value` within `mask` (constants are stored as the
// C expression's 64-bit value: AT_FDCWD is -100 even where the argument is a 4-byte int).
const symbol* find_value(std::span<const symbol> names, std::uint64_t value, std::uint64_t mask) {
  for (const auto& s : names)
    if ((s.value & mask) == (value & mask)) return &s;
  return nullptr;
}

bool is_set_reference(const symbol_set& set, const symbol_field& field) {
  // A field whose values are another whole set (clone's exit signal) is printed after the
  // flags, as strace prints CLONE_VM|CLONE_FS|SIGCHLD; the set's own fields come first.
  static const symbol* const signals = find_set("signals")->symbols.data();
  return field.values.data() != nullptr && !set.symbols.empty() && field.values.data() == signals;
}

std::string format_flags(const symbol_set& set, std::uint64_t value) {
  std::string out;
  const auto add = [&](std::string_view part) {
    if (!out.empty()) out += '|';
    out += part;
  };
  std::string trailing;
  std::uint64_t rest = value;
  for (const auto& field : set.fields) {
    const std::uint64_t v = rest & field.mask;
    rest &= ~field.mask;
    const symbol* s = find_value(field.values, v, field.mask);
    if (is_set_reference(set, field)) {
      if (v != 0) trailing = s ? std::string(s->name) : fmt::format("{:#x}", v);
      continue;
    }
    if (s) add(s->name);
    else if (v != 0) add(fmt::format("{:#x}", v));
  }
  const symbol* zero = nullptr;
  for (const auto& s : set.symbols) {
    if (s.value == 0) {
      if (!zero) zero = &s;
      continue;
    }
    if ((rest & s.value) != s.value) continue;
    add(s.name);
    rest &= ~s.value;
  }
  if (rest != 0) add(fmt::format("{:#x}", rest));
  if (!trailing.empty()) add(trailing);
  if (out.empty()) out = zero ? std::string(zero->name) : "0";
  return out;
}

std::string format_mode(const symbol_set& set, std::uint64_t value) {
  std::uint64_t type_mask = 0;
  std::string out;
  for (const auto& field : set.fields) {
    type_mask |= field.mask;
    const std::uint64_t v = value & field.mask;
    if (v == 0) continue;
    const symbol* s = find_value(field.values, v, field.mask);
    out += s ? std::string(s->name) : fmt::format("{:#o}", v);
    out += '|';
  }
  // strace's "%#03o": 0644, 022, 000.
  return out + fmt::format("{:#03o}", value & ~type_mask);
}

}  // namespace

std::span<const symbol_set> sets() noexcept { return detail::sets(); }
std::span<const argument_symbols> arguments() noexcept { return detail::arguments(); }

const symbol_set* find_set(std::string_view name) noexcept {
  const auto all = sets();
  const auto it = std::lower_bound(all.begin(), all.end(), name,
                                   [](const symbol_set& s, std::string_view n) { return s.name < n; });
  return it != all.end() && it->name == name ? &*it : nullptr;
}

namespace {
// The rows of one argument: the unconditional one (empty `when`) sorts first.
std::span<const argument_symbols> rows_of(std::string_view syscall, std::string_view argument) noexcept {
  const auto all = arguments();
  const auto key = std::tie(syscall, argument);
  const auto less = [](const argument_symbols& a, const auto& k) { return std::tie(a.syscall, a.argument) < k; };
  const auto greater = [](const auto& k, const argument_symbols& a) { return k < std::tie(a.syscall, a.argument); };
  const auto first = std::lower_bound(all.begin(), all.end(), key, less);
  const auto last = std::upper_bound(first, all.end(), key, greater);
  return {first, last};
}
}  // namespace

const symbol_set* of_argument(std::string_view syscall, std::string_view argument) noexcept {
  const auto rows = rows_of(syscall, argument);
  if (rows.empty() || !rows.front().when.empty()) return nullptr;
  return find_set(rows.front().set);
}

const symbol_set* of_argument(std::string_view syscall, std::string_view argument,
                              std::span<const named_value> others) noexcept {
  const auto rows = rows_of(syscall, argument);
  for (const auto& row : rows) {
    if (row.when.empty()) continue;
    for (const auto& other : others)
      // The condition's constants are ints (F_SETFD, AF_INET, SOL_TCP): compare the low
      // 32 bits, as the kernel does, whatever the slot's upper half holds.
      if (other.name == row.when &&
          static_cast<std::uint32_t>(other.value) == static_cast<std::uint32_t>(row.when_value))
        return find_set(row.set);
  }
  return of_argument(syscall, argument);
}

std::string format(const symbol_set& set, std::uint64_t value, std::uint8_t width, bool is_signed) {
  const std::uint64_t mask = width_mask(width);
  value &= mask;
  switch (set.kind) {
    case symbol_kind::flags: return format_flags(set, value);
    case symbol_kind::mode: return format_mode(set, value);
    case symbol_kind::values: break;
  }
  if (const symbol* s = find_value(set.symbols, value, mask)) return std::string(s->name);
  return is_signed ? fmt::format("{}", sign_extend(value, width)) : fmt::format("{}", value);
}

std::optional<std::string> argument(std::string_view syscall, std::string_view argument,
                                    std::uint64_t value, std::uint8_t width, bool is_signed) {
  return symbols::argument(syscall, argument, value, width, is_signed, {});
}

std::optional<std::string> argument(std::string_view syscall, std::string_view argument,
                                    std::uint64_t value, std::uint8_t width, bool is_signed,
                                    std::span<const named_value> others) {
  const symbol_set* set = of_argument(syscall, argument, others);
  if (!set) return std::nullopt;
  return format(*set, value, width, is_signed);
}

std::string_view errno_name(std::uint64_t error) noexcept {
  static const symbol_set* errnos = find_set("errno");
  const symbol* s = find_value(errnos->symbols, error, ~std::uint64_t{0});
  return s ? s->name : std::string_view();
}

std::string_view signal_name(std::uint64_t signal) noexcept {
  static const symbol_set* signals = find_set("signals");
  const symbol* s = find_value(signals->symbols, signal, ~std::uint64_t{0});
  return s ? s->name : std::string_view();
}

std::string_view error_name(std::int64_t exit_code) noexcept {
  // The kernel returns -1..-4095 as errors (IS_ERR_VALUE); anything else is a result.
  if (exit_code >= 0 || exit_code < -4095) return {};
  return errno_name(static_cast<std::uint64_t>(-exit_code));
}

std::string exit_code(std::int64_t value) {
  const auto name = error_name(value);
  return name.empty() ? fmt::format("{}", value) : fmt::format("{} {}", value, name);
}

}  // namespace ebpfpub::symbols
