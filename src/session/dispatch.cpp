#include "session/dispatch.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <linux/btf.h>

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

// Whether this kernel takes the syscalls' programs as tp_btf ones, asked of the kernel
// once per process with the smallest program that does what they do: loaded for
// raw_syscalls:sys_exit, it reads regs->orig_ax and the task's thread_info.status with
// plain loads and tail-calls through a program array that holds itself (which is where
// the kernel checks that a program array's programs agree in type, attach type and
// target). Kernels before tp_btf (5.5), or that type these pointers otherwise, refuse it.
bool typed_reads_work(const dispatch_layout& layout, std::uint32_t exit_btf_id) {
  static const bool works = [&] {
    using s16 = std::int16_t;
    if (layout.orig_ax > 0x7fff || layout.thread_status > 0x7fff) return false;  // beyond an insn's offset
    auto slots = create_program_array("ebpfpub_tp_btf", 1);
    if (!slots) return false;
    const int map_fd = slots->fd.get();
    const bpf_insn probe[] = {
        {BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0},                                      // r6 = ctx
        {BPF_LDX | BPF_MEM | BPF_DW, 1, 6, 0, 0},                                       // r1 = regs
        {BPF_LDX | BPF_MEM | BPF_DW, 7, 1, static_cast<s16>(layout.orig_ax), 0},       // r7 = regs->orig_ax
        {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_task_btf},                   // r0 = task
        {BPF_LDX | BPF_MEM | BPF_W, 0, 0, static_cast<s16>(layout.thread_status), 0},  // its status
        {BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0},
        {BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map_fd},
        {0, 0, 0, 0, 0},
        {BPF_ALU | BPF_MOV | BPF_X, 3, 7, 0, 0},
        {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call},
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP, .attach_btf_id = exit_btf_id);
    const unique_fd loaded(bpf_prog_load(BPF_PROG_TYPE_TRACING, "ebpfpub_tp_btf", "GPL", probe,
                                         sizeof(probe) / sizeof(probe[0]), &opts));
    // Closing the array's last descriptor empties it, which lets the program go.
    return loaded && set_program_slot(map_fd, 0, loaded.get(), "ebpfpub_tp_btf").has_value();
  }();
  return works;
}

// The tp_btf form where the kernel takes it (and no test asks for the helper reads of
// older kernels): the BTF ids of the two tracepoints' typedefs in `layout`, else zeros.
void choose_reads(dispatch_layout& layout) {
  layout.enter_btf_id = layout.exit_btf_id = 0;
  if (helper_reads_for_tests()) return;
  auto enter = kernel_btf_id("btf_trace_sys_enter", BTF_KIND_TYPEDEF);
  auto exit = kernel_btf_id("btf_trace_sys_exit", BTF_KIND_TYPEDEF);
  if (!enter || !exit || !typed_reads_work(layout, *exit)) return;
  layout.enter_btf_id = *enter;
  layout.exit_btf_id = *exit;
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
  choose_reads(layout);
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
    if (c.kind == program_kind::tracepoint || c.tracepoint.starts_with("raw_syscalls/")) continue;
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
