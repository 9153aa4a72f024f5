#include "session/kernel_facts.hpp"

#include <algorithm>

#include "kernel/kernel.hpp"

namespace ebpfpub::detail {

expected<tracepoint_ids> syscall_tracepoints(const tracefs& fs, std::span<const plan> plans) {
  tracepoint_ids ids;
  auto add = [&](const std::string& syscall, syscall_phase phase) -> expected<void> {
    const auto name = (phase == syscall_phase::enter ? "sys_enter_" : "sys_exit_") + syscall;
    if (ids.count(name)) return {};
    auto format = fs.syscall_format(syscall, phase);
    if (!format) return format.error();
    ids[name] = format->id;
    return {};
  };
  for (const auto& p : plans) {
    for (auto phase : {syscall_phase::enter, syscall_phase::exit})
      if (auto ok = add(p.syscall.name, phase); !ok) return ok.error();
    for (const auto& alias : p.exit_aliases)
      if (auto ok = add(alias, syscall_phase::exit); !ok) return ok.error();
  }
  return ids;
}

expected<void> sched_tracepoints(const tracefs& fs, filter_code& filter, tracepoint_ids& ids) {
  auto fork = fs.format("sched", "sched_process_fork");
  if (!fork) return fork.error();
  auto exit = fs.format("sched", "sched_process_exit");
  if (!exit) return exit.error();
  const auto* child = fork->find("child_pid");
  const auto* pid = exit->find("pid");
  const auto* dead = exit->find("group_dead");
  if (!child || !pid || !dead)
    return error(errc::unsupported, "sched_process_fork/exit lack child_pid, pid or group_dead; "
                                    "cannot follow children on this kernel (set "
                                    "filter_options::follow_children to false)");
  filter.fork_child_pid = child->offset;
  filter.exit_pid = pid->offset;
  filter.exit_group_dead = dead->offset;
  ids["sched/sched_process_fork"] = fork->id;
  ids["sched/sched_process_exit"] = exit->id;
  return {};
}

exec_layout exec_layout_for(std::span<const plan> plans) {
  const bool wanted = std::any_of(plans.begin(), plans.end(), [](const plan& p) {
    return std::any_of(p.captures.begin(), p.captures.end(),
                       [](const capture& c) { return c.image != exec_image::none; });
  });
  exec_layout layout;
  if (!wanted) return layout;
  auto mm = kernel_member_offset("task_struct", "mm");
  auto arg_start = kernel_member_offset("mm_struct", "arg_start");
  auto arg_end = kernel_member_offset("mm_struct", "arg_end");
  auto env_start = kernel_member_offset("mm_struct", "env_start");
  auto env_end = kernel_member_offset("mm_struct", "env_end");
  // Without them a faulted argv is still read again from the old pointers (which works
  // when exec failed); only the success case goes without.
  if (!mm || !arg_start || !arg_end || !env_start || !env_end) return layout;
  return {true, *mm, *arg_start, *arg_end, *env_start, *env_end};
}

}  // namespace ebpfpub::detail
