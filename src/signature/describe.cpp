// Run-time syscall descriptions and their validation against the running kernel.

#include <ebpfpub/signature.hpp>

#include <fmt/format.h>

namespace ebpfpub {

expected<syscall_description> describe_syscall(std::string_view name,
                                               const tracepoint_format& enter,
                                               const tracepoint_format& exit) {
  syscall_description d;
  d.name = std::string(name);
  for (const auto& field : enter.payload()) {
    if (field.size != 8)
      return error(errc::unsupported,
                   fmt::format("{}: argument '{}' has a {}-byte slot; syscall arguments are "
                               "8 bytes on 64-bit kernels", enter.name, field.name, field.size));
    const auto c = classify_argument(field.type, field.name);
    d.arguments.push_back({field.name, field.type, field.offset, field.size, c.kind, c.width,
                           c.is_signed});
  }
  if (d.arguments.size() > 6)
    return error(errc::unsupported, fmt::format("{}: {} arguments; a syscall has at most 6",
                                                enter.name, d.arguments.size()));
  const auto* ret = exit.find("ret");
  if (!ret || ret->size != 8)
    return error(errc::unsupported,
                 fmt::format("{}: no 8-byte 'ret' field; cannot read the return value",
                             exit.name));
  d.return_offset = ret->offset;
  return d;
}

expected<syscall_description> describe_syscall(const tracefs& fs, std::string_view name) {
  auto enter = fs.syscall_format(name, syscall_phase::enter);
  if (!enter) return enter.error();
  auto exit = fs.syscall_format(name, syscall_phase::exit);
  if (!exit) return exit.error();
  return describe_syscall(name, *enter, *exit);
}

expected<void> validate(std::string_view syscall, std::span<const argument_layout> layout,
                        const tracepoint_format& enter, const tracepoint_format& exit) {
  const auto fix = fmt::format(
      "the compiled-in signature of '{}' was generated for another kernel; regenerate "
      "include/ebpfpub/syscalls with tools/generate_signatures, or trace '{}' by name",
      syscall, syscall);
  const auto args = enter.payload();
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const auto& want = layout[i];
    if (i >= args.size())
      return error(errc::mismatch,
                   fmt::format("{}: argument {} '{}' is missing from the running kernel's {} "
                               "(it has {} arguments); {}", syscall, i, want.name, enter.name,
                               args.size(), fix));
    const auto& have = args[i];
    if (have.name != want.name || have.offset != want.offset || have.size != want.size)
      return error(errc::mismatch,
                   fmt::format("{}: argument {} is '{}' at offset {} size {} in the signature "
                               "but '{}' at offset {} size {} in the running kernel's {}; {}",
                               syscall, i, want.name, want.offset, want.size, have.name,
                               have.offset, have.size, enter.name, fix));
  }
  if (args.size() > layout.size())
    return error(errc::mismatch,
                 fmt::format("{}: the running kernel's {} has an extra argument '{}'; {}",
                             syscall, enter.name, args[layout.size()].name, fix));
  const auto* ret = exit.find("ret");
  if (!ret || ret->size != 8)
    return error(errc::mismatch,
                 fmt::format("{}: the running kernel's {} has no 8-byte 'ret' field; {}",
                             syscall, exit.name, fix));
  return {};
}

}  // namespace ebpfpub
