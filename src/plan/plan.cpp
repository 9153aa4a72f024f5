#include <ebpfpub/plan.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/resolved_path.hpp>

namespace ebpfpub {

capture fd_identity_capture(std::uint8_t argument) {
  return {.argument = argument,
          .op = capture_op::fd_identity,
          .when = syscall_phase::enter,
          .max_bytes = record::fd_identity_layout::size};
}

capture returned_fd_identity_capture() {
  auto c = fd_identity_capture(capture::returned_value);
  c.when = syscall_phase::exit;
  c.only_if_success = true;
  c.of_return_value = true;
  return c;
}

capture base_directory_capture(std::uint8_t path_argument, std::uint8_t fd_argument) {
  return {.argument = path_argument,
          .op = capture_op::base_directory,
          .when = syscall_phase::enter,
          .max_bytes = record::base_directory_layout::size,
          .base_fd = fd_argument};
}

std::vector<std::pair<std::uint8_t, std::uint8_t>> path_arguments(const syscall_description& syscall) {
  // The kernel's own names: open's `filename`, mkdirat's `dfd` + `pathname`, renameat's
  // `olddfd` + `oldname`, move_mount's `from_dfd` + `from_pathname`, swapon's
  // `specialfile`, pivot_root's `new_root` and `put_old`.
  static constexpr std::string_view suffixes[] = {"pathname", "filename", "name", "path", "file"};
  static constexpr std::string_view whole[] = {"new_root", "put_old"};
  const auto& args = syscall.arguments;
  const bool has_fd = std::any_of(args.begin(), args.end(), [](const auto& a) { return a.kind == arg_kind::fd; });
  std::vector<std::pair<std::uint8_t, std::uint8_t>> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view name = args[i].name;
    if (args[i].kind != arg_kind::user_string) continue;
    // A symlink's target is stored as written, not looked up.
    if (name == "oldname" && syscall.name.starts_with("symlink")) continue;
    std::optional<std::string_view> prefix;
    for (auto suffix : suffixes)
      if (name.ends_with(suffix)) {
        prefix = name.substr(0, name.size() - suffix.size());
        break;
      }
    if (std::find(std::begin(whole), std::end(whole), name) != std::end(whole)) prefix = "";
    // `name` alone is an xattr's name (and acct's, name_to_handle_at's paths are left
    // out with them); `old`, `new`, `from_`, `to_`, `special` are the only prefixes a
    // path takes ("u_name", "_fs_name" are no paths).
    if (!prefix || name == "name" ||
        (!prefix->empty() && *prefix != "old" && *prefix != "new" && *prefix != "from_" && *prefix != "to_" &&
         *prefix != "special"))
      continue;
    const std::string dfd = std::string(*prefix == "special" ? "" : *prefix) + "dfd";
    const auto fd = std::find_if(args.begin(), args.end(),
                                 [&](const auto& a) { return a.kind == arg_kind::fd && a.name == dfd; });
    if (fd != args.end()) out.emplace_back(i, static_cast<std::uint8_t>(fd - args.begin()));
    else if (!has_fd) out.emplace_back(i, capture::current_directory);
  }
  return out;
}

bool returns_fd(std::string_view syscall) noexcept {
  static constexpr std::string_view names[] = {
      "open", "openat", "openat2", "creat", "open_by_handle_at", "open_tree", "fsopen", "fsmount",
      "socket", "accept", "accept4", "dup", "dup2", "dup3", "memfd_create", "memfd_secret",
      "eventfd", "eventfd2", "epoll_create", "epoll_create1", "timerfd_create", "signalfd",
      "signalfd4", "inotify_init", "inotify_init1", "fanotify_init", "pidfd_open", "pidfd_getfd",
      "userfaultfd", "perf_event_open", "io_uring_setup"};
  return std::find(std::begin(names), std::end(names), syscall) != std::end(names);
}

bool changes_caller(std::string_view syscall) noexcept {
  // bpf_get_current_uid_gid gives the real ids: setfsuid, setgroups and capset, and exec
  // of a set-user-id file (the effective id), leave them as they are.
  static constexpr std::string_view names[] = {
      "execve", "execveat", "rt_sigreturn", "fork", "vfork", "clone", "clone3",
      "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid"};
  return std::find(std::begin(names), std::end(names), syscall) != std::end(names);
}

plan make_generic_plan(syscall_description syscall, const plan_options& options) {
  plan p;
  for (std::size_t i = 0; i < syscall.arguments.size(); ++i) {
    const auto kind = syscall.arguments[i].kind;
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
    if (kind == arg_kind::user_string)
      p.captures.push_back({.argument = static_cast<std::uint8_t>(i),
                            .op = capture_op::string,
                            .when = syscall_phase::enter,
                            .max_bytes = options.string_size,
                            .readable_at_exit = true});
    // At enter: close's fd is gone by exit, dup2's newfd names another file.
    if (kind == arg_kind::fd && options.fd_identity)
      p.captures.push_back(fd_identity_capture(static_cast<std::uint8_t>(i)));
  }
  if (options.fd_identity && returns_fd(syscall.name)) p.captures.push_back(returned_fd_identity_capture());
  // After the path strings: a decoder that asks for an argument's first capture gets its text.
  if (options.resolve_paths)
    for (const auto& [path, fd] : path_arguments(syscall)) p.captures.push_back(base_directory_capture(path, fd));
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
    if (c.of_return_value) {
      if (c.op != capture_op::fd_identity) return fail("only an fd identity reads the return value");
      if (c.when != syscall_phase::exit || !c.only_if_success)
        return fail("the returned fd is read at exit of a successful call (only_if_success)");
      if (c.argument != capture::returned_value) return fail("a returned fd's argument is returned_value");
    } else if (c.argument >= argc) {
      return fail("no such argument");
    }
    if (c.max_bytes == 0) return fail("max_bytes is 0");
    if (c.max_bytes > (1u << 20)) return fail("max_bytes over 1 MiB");
    if (p.emit_at_enter && c.when == syscall_phase::exit)
      return fail("an exit capture on a syscall that is sent at enter");
    if ((c.length == length_source::argument || c.length == length_source::argument_pointer) &&
        c.length_argument >= argc)
      return fail("the length argument does not exist");
    if (c.length == length_source::return_value && c.when != syscall_phase::exit)
      return fail("a length from the return value needs an exit capture");
    if (c.op == capture_op::fd_identity && c.max_bytes != record::fd_identity_layout::size)
      return fail(fmt::format("an fd identity is {} bytes", record::fd_identity_layout::size));
    if (c.op == capture_op::fd_identity && (c.indirect || c.length != length_source::fixed))
      return fail("an fd identity reads the argument's value: no length, not indirect");
    if (c.op == capture_op::base_directory) {
      if (c.max_bytes != record::base_directory_layout::size)
        return fail(fmt::format("a base directory is {} bytes", record::base_directory_layout::size));
      if (c.when != syscall_phase::enter || c.indirect || c.length != length_source::fixed)
        return fail("a base directory is read at enter, from the argument's value: no length, not indirect");
      if (c.base_fd != capture::current_directory && c.base_fd >= argc)
        return fail("the directory fd argument does not exist");
    }
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
