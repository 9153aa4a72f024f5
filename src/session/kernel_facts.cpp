#include "session/kernel_facts.hpp"

#include <algorithm>
#include <optional>

#include <bpf/bpf.h>
#include <linux/btf.h>
#include <fmt/format.h>

#include <ebpfpub/context/cgroup.hpp>

#include "kernel/kernel.hpp"
#include "session/test_faults.hpp"

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

expected<context_layout> context_layout_for(context_fields fields) {
  context_layout l;
  l.fields = fields;
  std::optional<error> missing;
  // Every offset the selected fields need; the first one the kernel lacks is the error.
  auto offset = [&](std::uint32_t& out, std::string_view type, std::string_view member) {
    if (missing) return;
    auto o = kernel_member_offset(type, member);
    if (!o) {
      missing = error(o.error().code(), fmt::format("process context: {}; this kernel cannot give the "
                                                    "context fields that need it", o.error().message()));
      return;
    }
    out = *o;
  };
  if (fields.has(context_field::parent)) {
    offset(l.task_real_parent, "task_struct", "real_parent");
    offset(l.task_tgid, "task_struct", "tgid");
  }
  if (fields.wants_cgroup_id()) {
    offset(l.task_cgroups, "task_struct", "cgroups");
    offset(l.css_set_dfl_cgrp, "css_set", "dfl_cgrp");
    offset(l.cgroup_kn, "cgroup", "kn");
    offset(l.kernfs_node_id, "kernfs_node", "id");
  }
  if (fields.has(context_field::executable)) {
    offset(l.task_mm, "task_struct", "mm");
    offset(l.mm_exe_file, "mm_struct", "exe_file");
    offset(l.file_inode, "file", "f_inode");
    offset(l.file_dentry, "file", "f_path.dentry");
    offset(l.inode_ino, "inode", "i_ino");
    offset(l.inode_sb, "inode", "i_sb");
    offset(l.sb_dev, "super_block", "s_dev");
    offset(l.dentry_name, "dentry", "d_name.name");
    // Optional: without it every name is read through its pointer (a helper call).
    for (const char* inline_name : {"d_shortname", "d_iname"})
      if (auto o = kernel_member_offset("dentry", inline_name); o && !l.dentry_inline_name)
        l.dentry_inline_name = helper_reads_for_tests() ? 0 : *o;
  }
  if (fields.has(context_field::namespaces)) {
    offset(l.task_nsproxy, "task_struct", "nsproxy");
    offset(l.task_cred, "task_struct", "cred");
    offset(l.task_thread_pid, "task_struct", "thread_pid");
    offset(l.nsproxy_mnt_ns, "nsproxy", "mnt_ns");
    offset(l.nsproxy_net_ns, "nsproxy", "net_ns");
    offset(l.mnt_ns_inum, "mnt_namespace", "ns.inum");
    offset(l.net_inum, "net", "ns.inum");
    offset(l.cred_user_ns, "cred", "user_ns");
    offset(l.user_ns_inum, "user_namespace", "ns.inum");
    offset(l.pid_level, "pid", "level");
    offset(l.pid_numbers, "pid", "numbers");
    offset(l.upid_ns, "upid", "ns");
    offset(l.pid_ns_inum, "pid_namespace", "ns.inum");
    if (!missing) {
      auto size = kernel_struct_size("upid");
      if (!size) missing = size.error();
      else l.upid_size = *size;
    }
  }
  if (missing) return *missing;
  return l;
}

expected<void> cgroup_filter(const filter_options& filter, filter_code& code) {
  if (filter.cgroup.empty()) return {};
  auto resolver = cgroup_resolver::create();
  if (!resolver) return error(resolver.error().code(), fmt::format("filter.cgroup: {}", resolver.error().message()));
  // Relative to the cgroup2 root, for its depth: "/a/b" is level 2 (the root is 0).
  std::string_view relative = filter.cgroup;
  const auto& mount = resolver->mount_point();
  if (relative.starts_with(mount) && (relative.size() == mount.size() || relative[mount.size()] == '/'))
    relative.remove_prefix(mount.size());
  std::uint32_t level = 0;
  for (std::size_t at = 0; at < relative.size();) {
    const auto end = std::min(relative.find('/', at), relative.size());
    const auto part = relative.substr(at, end - at);
    if (part == "..")
      return error(errc::invalid_argument, fmt::format("filter.cgroup: {} has a '..'; give the cgroup's own "
                                                       "path under {}", filter.cgroup, mount));
    if (!part.empty() && part != ".") ++level;
    at = end + 1;
  }
  auto id = resolver->id_of(relative.empty() ? std::string_view("/") : relative);
  if (!id)
    return error(id.error().code(), fmt::format("filter.cgroup: {} is no cgroup under the cgroup2 mount {} ({})",
                                                filter.cgroup, mount, id.error().message()));
  code.cgroup_id = *id;
  code.cgroup_level = level;
  return {};
}

}  // namespace ebpfpub::detail

namespace ebpfpub::detail {
namespace {

// Whether bpf_rdonly_cast(p, 0) gives memory a program may read (Linux 6.16 on; earlier
// kernels take a struct type only), asked of the verifier with the smallest program that
// does it: r0 = *(u64 *)bpf_rdonly_cast(0, 0); return 0. Asked once per process.
bool untyped_cast_works() {
  static const bool works = [] {
    auto cast = kernel_btf_id("bpf_rdonly_cast", BTF_KIND_FUNC);
    if (!cast) return false;
    const bpf_insn probe[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0},
        {BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0},
        {BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, static_cast<std::int32_t>(*cast)},
        {BPF_LDX | BPF_MEM | BPF_DW, 0, 0, 0, 0},
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    const unique_fd loaded(bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "ebpfpub_cast", "GPL", probe,
                                         sizeof(probe) / sizeof(probe[0]), nullptr));
    return static_cast<bool>(loaded);
  }();
  return works;
}

// Offsets of `type.member` (or a sum along a path of them); the first member the kernel
// lacks ends the walk, with an error that names it, the captures that need it and the
// option that turns them off.
struct member_offsets {
  std::string_view captures;
  std::string_view option;
  std::optional<error> missing;

  member_offsets(std::string_view c, std::string_view o) : captures(c), option(o) {}
  std::uint32_t operator()(std::initializer_list<std::pair<std::string_view, std::string_view>> path) {
    std::uint32_t sum = 0;
    for (const auto& [type, member] : path) {
      if (missing) return 0;
      auto o = kernel_member_offset(type, member);
      if (!o) {
        missing = error(errc::unsupported, fmt::format("{}: {} (trace without {})", captures,
                                                       o.error().message(), option));
        return 0;
      }
      sum += *o;
    }
    return sum;
  }
};

}  // namespace

expected<fd_layout> fd_layout_for(std::span<const plan> plans) {
  const bool wanted = std::any_of(plans.begin(), plans.end(), [](const plan& p) {
    return std::any_of(p.captures.begin(), p.captures.end(),
                       [](const capture& c) { return c.op == capture_op::fd_identity; });
  });
  fd_layout l;
  if (!wanted) return l;
  member_offsets at("fd identity captures", "plan_options::fd_identity");
  const auto common = at({{"sock", "__sk_common"}});
  l.needed = true;
  l.task_files = at({{"task_struct", "files"}});
  l.files_fdt = at({{"files_struct", "fdt"}});
  l.fdt_max_fds = at({{"fdtable", "max_fds"}});
  l.fdt_fd = at({{"fdtable", "fd"}});
  l.file_inode = at({{"file", "f_inode"}});
  l.file_flags = at({{"file", "f_flags"}});
  l.file_private = at({{"file", "private_data"}});
  l.file_dentry = at({{"file", "f_path"}, {"path", "dentry"}});
  l.dentry_name = at({{"dentry", "d_name"}, {"qstr", "name"}});
  // Optional: without it every name is read through its pointer.
  for (const char* inline_name : {"d_shortname", "d_iname"})
    if (auto o = kernel_member_offset("dentry", inline_name); o && !l.dentry_inline_name)
      l.dentry_inline_name = *o;
  l.inode_ino = at({{"inode", "i_ino"}});
  l.inode_mode = at({{"inode", "i_mode"}});
  l.inode_sb = at({{"inode", "i_sb"}});
  l.sb_dev = at({{"super_block", "s_dev"}});
  l.socket_sk = at({{"socket", "sk"}});
  l.sk_family = common + at({{"sock_common", "skc_family"}});
  l.sk_type = at({{"sock", "sk_type"}});
  l.sk_protocol = at({{"sock", "sk_protocol"}});
  l.sk_rcv_saddr = common + at({{"sock_common", "skc_rcv_saddr"}});
  l.sk_daddr = common + at({{"sock_common", "skc_daddr"}});
  l.sk_num = common + at({{"sock_common", "skc_num"}});
  l.sk_dport = common + at({{"sock_common", "skc_dport"}});
  l.sk_v6_rcv_saddr = common + at({{"sock_common", "skc_v6_rcv_saddr"}});
  l.sk_v6_daddr = common + at({{"sock_common", "skc_v6_daddr"}});
  l.unix_addr = at({{"unix_sock", "addr"}});
  l.unix_peer = at({{"unix_sock", "peer"}});
  l.unix_address_len = at({{"unix_address", "len"}});
  l.unix_address_name = at({{"unix_address", "name"}});
  if (at.missing) return *at.missing;
  if (!helper_reads_for_tests() && untyped_cast_works()) {
    l.rdonly_cast = *kernel_btf_id("bpf_rdonly_cast", BTF_KIND_FUNC);
    if (auto file = kernel_btf_id("file", BTF_KIND_STRUCT)) l.file_type = *file;
    else l.rdonly_cast = 0;
  }
  return l;
}

}  // namespace ebpfpub::detail

namespace ebpfpub::detail {

expected<path_layout> path_layout_for(std::span<const plan> plans, bool fd_path_filters) {
  const bool wanted = std::any_of(plans.begin(), plans.end(), [](const plan& p) {
    return std::any_of(p.captures.begin(), p.captures.end(),
                       [](const capture& c) { return c.op == capture_op::base_directory; });
  });
  path_layout l;
  if (!wanted && !fd_path_filters) return l;
  member_offsets at(wanted ? "resolved paths" : "filters on an fd's path",
                    wanted ? "plan_options::resolve_paths" : "the filters on .path");
  l.needed = true;
  l.task_fs = at({{"task_struct", "fs"}});
  l.fs_pwd = at({{"fs_struct", "pwd"}});
  l.fs_root = at({{"fs_struct", "root"}});
  l.path_mnt = at({{"path", "mnt"}});
  l.path_dentry = at({{"path", "dentry"}});
  l.dentry_parent = at({{"dentry", "d_parent"}});
  l.dentry_name = at({{"dentry", "d_name"}, {"qstr", "name"}});
  l.dentry_name_len = at({{"dentry", "d_name"}, {"qstr", "len"}});
  l.dentry_hash_pprev = at({{"dentry", "d_hash"}, {"hlist_bl_node", "pprev"}});
  l.vfsmount_root = at({{"vfsmount", "mnt_root"}});
  l.mount_mnt = at({{"mount", "mnt"}});
  l.mount_parent = at({{"mount", "mnt_parent"}});
  l.mount_mountpoint = at({{"mount", "mnt_mountpoint"}});
  l.task_files = at({{"task_struct", "files"}});
  l.files_fdt = at({{"files_struct", "fdt"}});
  l.fdt_max_fds = at({{"fdtable", "max_fds"}});
  l.fdt_fd = at({{"fdtable", "fd"}});
  l.file_path = at({{"file", "f_path"}});
  if (at.missing) return *at.missing;
  return l;
}

}  // namespace ebpfpub::detail
