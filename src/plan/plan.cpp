#include <ebpfpub/plan.hpp>

#include <fmt/format.h>

namespace ebpfpub {

plan make_generic_plan(syscall_description syscall, const plan_options& options) {
  plan p;
  for (std::size_t i = 0; i < syscall.arguments.size(); ++i) {
    // A sigset_t is 8 bytes on x86_64 and arm64 (the kernel rejects any other sigsetsize);
    // NULL is the caller saying "no mask" (rt_sigprocmask's oset, ppoll's sigmask).
    if (const auto source = signal_mask_of(syscall.arguments[i].type);
        source != signal_mask_source::none) {
      p.captures.push_back({.argument = static_cast<std::uint8_t>(i),
                            .op = capture_op::buffer,
                            .when = source == signal_mask_source::enter ? syscall_phase::enter
                                                                        : syscall_phase::exit,
                            .length = length_source::fixed,
                            .max_bytes = 8,
                            .nullable = true});
      continue;
    }
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
    if (c.length == length_source::struct_field && !c.indirect)
      return fail("a length from a struct field needs an indirect capture");
    if (c.indirect) {
      if (c.op != capture_op::buffer && c.op != capture_op::sockaddr)
        return fail("an indirect capture reads a buffer or a socket address");
      if (c.length == length_source::argument_pointer)
        return fail("an indirect capture takes its length from the struct, an argument or a fixed size");
      if (c.pointer_offset + 8u > capture::max_struct_head ||
          (c.length == length_source::struct_field && c.length_offset + 4u > capture::max_struct_head))
        return fail(fmt::format("the pointer or length lies past the struct's first {} bytes",
                                capture::max_struct_head));
    }
  }
  return {};
}

}  // namespace ebpfpub
