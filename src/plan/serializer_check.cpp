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
    const auto at = p.captures[i].argument;
    if (at >= members.size() || members[at].reads_capture) continue;
    const auto& field = at < p.syscall.arguments.size() ? p.syscall.arguments[at].name : std::string();
    return error(errc::invalid_argument,
                 fmt::format("serializer '{}' for {}: capture {} reads argument {} '{}', but "
                             "args_type's member '{}' is a value that never reads a capture; "
                             "capture the argument whose member decodes it",
                             serializer_name, syscall, i, at, field, members[at].name));
  }
  return {};
}

}  // namespace ebpfpub
