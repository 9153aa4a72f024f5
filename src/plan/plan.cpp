#include <ebpfpub/plan.hpp>

#include <fmt/format.h>

namespace ebpfpub {

plan make_generic_plan(syscall_description syscall, const plan_options& options) {
  plan p;
  p.emit_at_enter = syscall.name == "exit" || syscall.name == "exit_group";
  for (std::size_t i = 0; i < syscall.arguments.size(); ++i) {
    if (syscall.arguments[i].kind != arg_kind::user_string) continue;
    p.captures.push_back({.argument = static_cast<std::uint8_t>(i),
                          .op = capture_op::string,
                          .when = syscall_phase::enter,
                          .max_bytes = options.string_size});
  }
  p.syscall = std::move(syscall);
  return p;
}

expected<void> check_plan(const plan& p) {
  const auto& name = p.syscall.name;
  const auto argc = p.syscall.arguments.size();
  if (argc > 6)
    return error(errc::invalid_argument, fmt::format("plan for {}: {} arguments (at most 6)", name, argc));
  if (p.captures.size() > 255)
    return error(errc::invalid_argument, fmt::format("plan for {}: more than 255 captures", name));
  for (std::size_t i = 0; i < p.captures.size(); ++i) {
    const auto& c = p.captures[i];
    auto fail = [&](std::string_view what) {
      return error(errc::invalid_argument, fmt::format("plan for {}: capture {} (argument {}): {}",
                                                       name, i, c.argument, what));
    };
    if (c.argument >= argc) return fail("no such argument");
    if (c.max_bytes == 0) return fail("max_bytes is 0");
    if (c.max_bytes > (1u << 20)) return fail("max_bytes over 1 MiB");
    if (p.emit_at_enter && c.when == syscall_phase::exit)
      return fail("an exit capture on a syscall that is sent at enter");
    if ((c.length == length_source::argument || c.length == length_source::argument_pointer) &&
        c.length_argument >= argc)
      return fail("the length argument does not exist");
    if (c.length == length_source::return_value && c.when != syscall_phase::exit)
      return fail("a length from the return value needs an exit capture");
    if (c.op == capture_op::string_array && c.max_items == 0) return fail("max_items is 0");
    if (c.op == capture_op::string_array && c.max_items > 256) return fail("max_items over 256");
    if (c.only_if_success && c.when != syscall_phase::exit)
      return fail("only_if_success needs an exit capture");
  }
  return {};
}

}  // namespace ebpfpub
