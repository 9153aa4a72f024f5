#include "session/dispatch.hpp"

#include <fmt/format.h>

#include "kernel/syscall_numbers.hpp"

namespace ebpfpub::detail {
namespace {

// Every name a plan's programs are keyed by: its own and the exits it names as aliases.
expected<void> check_numbers(const plan& p) {
  auto known = [&](const std::string& name) -> expected<void> {
    if (syscall_number(name)) return {};
    return error(errc::unsupported,
                 fmt::format("attach_mode::dispatch: ebpfpub does not know the number of syscall {} "
                             "(newer than its table); trace it with attach_mode::tracepoints", name));
  };
  if (auto ok = known(p.syscall.name); !ok) return ok;
  for (const auto& alias : p.exit_aliases)
    if (auto ok = known(alias); !ok) return ok;
  return {};
}

// Offsets from the kernel's BTF, so that a kernel whose pt_regs differed would be read right.
expected<void> read_layout(dispatch_layout& layout) {
  constexpr const char* registers[] = {"di", "si", "dx", "r10", "r8", "r9"};
  for (std::size_t i = 0; i < 6; ++i) {
    auto offset = kernel_member_offset("pt_regs", registers[i]);
    if (!offset) return offset.error();
    layout.argument_registers[i] = *offset;
  }
  auto orig_ax = kernel_member_offset("pt_regs", "orig_ax");
  auto thread_info = kernel_member_offset("task_struct", "thread_info");
  auto status = kernel_member_offset("thread_info", "status");
  if (!orig_ax) return orig_ax.error();
  if (!thread_info) return thread_info.error();
  if (!status) return status.error();
  layout.orig_ax = *orig_ax;
  layout.thread_status = *thread_info + *status;
  return {};
}

}  // namespace

expected<bool> resolve_dispatch(attach_mode mode, std::span<const plan> plans) {
  if (mode == attach_mode::tracepoints) return false;
#if !defined(__x86_64__)
  if (mode == attach_mode::automatic) return false;
  return error(errc::unsupported, "attach_mode::dispatch reads x86_64 registers; on this "
                                  "architecture use attach_mode::tracepoints");
#else
  if (mode == attach_mode::automatic && plans.size() < dispatch_from_syscalls) return false;
  for (const auto& p : plans) {
    auto ok = check_numbers(p);
    if (ok) continue;
    if (mode == attach_mode::automatic) return false;  // tracepoints can trace it
    return ok.error();
  }
  return true;
#endif
}

expected<dispatch_tables> dispatch_tables::create(dispatch_layout& layout, std::span<const plan> plans,
                                                  injected_faults& faults) {
  if (auto ok = read_layout(layout); !ok)
    return error(ok.error().code(), fmt::format("attach_mode::dispatch needs the kernel's BTF: {}",
                                                ok.error().message()));
  auto make = [&](const char* name, auto&& create) -> expected<map> {
    if (faults.fail_next(injected_faults::kind::map)) return injected_faults::rejected_map(name);
    return create(name);
  };
  auto programs = [](const char* name) { return create_program_array(name, syscall_table_size); };
  auto enter = make("ebpfpub_enters", programs);
  if (!enter) return enter.error();
  auto exit = make("ebpfpub_exits", programs);
  if (!exit) return exit.error();
  auto index = make("ebpfpub_plans", [](const char* name) { return create_array_map(name, 4, syscall_table_size); });
  if (!index) return index.error();
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const std::uint32_t number = *syscall_number(plans[i].syscall.name);  // resolve_dispatch checked
    const auto value = static_cast<std::uint32_t>(i);
    if (auto ok = set_array_value(index->fd.get(), number, &value, "ebpfpub_plans"); !ok) return ok.error();
  }
  layout.enabled = true;
  layout.enter_programs_fd = enter->fd.get();
  layout.exit_programs_fd = exit->fd.get();
  layout.plan_index_fd = index->fd.get();
  return dispatch_tables{std::move(*enter), std::move(*exit), std::move(*index)};
}

expected<void> fill_dispatch_tables(const dispatch_tables& tables, const std::vector<program_code>& code,
                                    const std::vector<unique_fd>& fds) {
  for (std::size_t i = 0; i < code.size(); ++i) {
    const auto& c = code[i];
    if (c.kind != program_kind::raw_tracepoint || c.tracepoint.starts_with("raw_syscalls/")) continue;
    const auto& table = c.tracepoint.starts_with("sys_enter_") ? tables.enter : tables.exit;
    for (const auto& name : c.syscalls) {
      const auto number = syscall_number(name);
      if (!number) return error(errc::internal, fmt::format("no syscall number for {} (program {})", name, c.name));
      if (auto ok = set_program_slot(table.fd.get(), *number, fds[i].get(), c.name); !ok) return ok;
    }
  }
  return {};
}

}  // namespace ebpfpub::detail
