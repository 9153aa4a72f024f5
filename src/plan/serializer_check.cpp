// The run-time half of the serializer checks: what only the plan a serializer wrote by
// hand can say (which syscall it describes, which arguments it captures).

#include <ebpfpub/serializer.hpp>

#include <fmt/format.h>

namespace ebpfpub {

expected<void> check_serializer_plan(const plan& p, std::string_view syscall,
                                     std::string_view serializer_name,
                                     std::span<const member_use> members) {
  if (p.syscall.name != syscall)
    return error(errc::invalid_argument,
                 fmt::format("serializer '{}' for {} made a plan for {}: build it from "
                             "describe<{}>() (or derive the serializer from declare<{}>)",
                             serializer_name, syscall, p.syscall.name, syscall, syscall));
  for (std::size_t i = 0; i < p.captures.size(); ++i) {
    const auto& c = p.captures[i];
    if (c.argument >= members.size()) continue;  // check_plan names it
    const auto& m = members[c.argument];
    const auto& field =
        c.argument < p.syscall.arguments.size() ? p.syscall.arguments[c.argument].name : std::string();
    if (c.op == capture_op::fd_identity) {
      if (m.is_fd) continue;
      return error(errc::invalid_argument,
                   fmt::format("serializer '{}' for {}: capture {} reads the fd identity of argument "
                               "{} '{}', but args_type's member '{}' is not an ebpfpub::fd",
                               serializer_name, syscall, i, c.argument, field, m.name));
    }
    if (m.is_fd)
      return error(errc::invalid_argument,
                   fmt::format("serializer '{}' for {}: capture {} reads argument {} '{}', an fd: "
                               "its member reads only an fd identity (capture_op::fd_identity)",
                               serializer_name, syscall, i, c.argument, field));
    if (!m.reads_capture)
      return error(errc::invalid_argument,
                   fmt::format("serializer '{}' for {}: capture {} reads argument {} '{}', but "
                               "args_type's member '{}' is a value that never reads a capture; "
                               "capture the argument whose member decodes it",
                               serializer_name, syscall, i, c.argument, field, m.name));
    if (m.declared && c.when != m.when)
      return error(errc::invalid_argument,
                   fmt::format("serializer '{}' for {}: capture {} reads '{}' at {}, but its "
                               "member is read at {} (out_* wrappers hold what the kernel "
                               "wrote, in_* what the caller passed)",
                               serializer_name, syscall, i, field,
                               c.when == syscall_phase::enter ? "enter" : "exit",
                               m.when == syscall_phase::enter ? "enter" : "exit"));
    if (m.declared && m.fixed_bytes > 0 && c.max_bytes < m.fixed_bytes)
      return error(errc::invalid_argument,
                   fmt::format("serializer '{}' for {}: capture {} reads at most {} bytes of "
                               "'{}', but its member needs {}",
                               serializer_name, syscall, i, c.max_bytes, field, m.fixed_bytes));
  }
  return {};
}

}  // namespace ebpfpub
