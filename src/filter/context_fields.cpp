// Filter fields beyond a syscall's arguments: the process context block and an fd
// argument's identity record, each a fixed offset in a block the enter program writes.
#include "filter/context_fields.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <ebpfpub/context/cgroup.hpp>
#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/record.hpp>

namespace ebpfpub::filter::detail {
namespace {

using source = operand_source::kind;

struct context_entry {
  std::string_view name;
  std::string_view alias;   // as the text and JSON print it
  std::string_view member;  // exe.<member>
  context_field needs;
  std::string_view needs_name;
  std::uint16_t offset;
  std::uint8_t width;  // 0: a NUL-terminated string
  bool device = false;
};

namespace off = record::context_offset;
constexpr context_entry context_entries[] = {
    {"ppid", "parent_process_id", "", context_field::parent, "parent", off::parent_pid, 4},
    {"cgroup", "cgroup_id", "", context_field::cgroup, "cgroup", off::cgroup_id, 8},
    {"mnt_ns", "mntns", "", context_field::namespaces, "namespaces", off::mnt_ns, 4},
    {"pid_ns", "pidns", "", context_field::namespaces, "namespaces", off::pid_ns, 4},
    {"net_ns", "netns", "", context_field::namespaces, "namespaces", off::net_ns, 4},
    {"user_ns", "userns", "", context_field::namespaces, "namespaces", off::user_ns, 4},
    {"exe", "", "inode", context_field::executable, "executable", off::exe_inode, 8},
    {"exe", "", "device", context_field::executable, "executable", off::exe_device, 4, true},
    {"exe", "", "name", context_field::executable, "executable", off::exe_name, 0},
};

struct fd_entry {
  std::string_view member;
  source kind;
  std::uint16_t offset;
  std::uint8_t width;
  bool network_order = false;
  bool device = false;
};

namespace layout = record::fd_identity_layout;
constexpr fd_entry fd_entries[] = {
    {"kind", source::fd_kind, layout::mode, 4},
    {"type", source::fd_number, layout::type, 2},
    {"protocol", source::fd_number, layout::protocol, 2},
    {"family", source::fd_number, layout::family, 2},
    {"port", source::fd_number, layout::local_port, 2},
    {"remote_port", source::fd_number, layout::remote_port, 2, true},
    {"address", source::fd_address, layout::local_address, 16},
    {"remote_address", source::fd_address, layout::remote_address, 16},
    {"inode", source::fd_number, layout::inode, 8},
    {"device", source::fd_number, layout::device, 4, false, true},
    {"flags", source::fd_number, layout::flags, 4},
    {"mode", source::fd_number, layout::mode, 4},
    {"name", source::fd_string, layout::name, 0},
    // Not in the record: the program walks the file's dentries when a filter asks.
    {"path", source::fd_path, 0, 0},
};

struct kind_name {
  std::string_view name;
  std::int64_t bits;
};
constexpr kind_name kind_names[] = {
    {"regular", S_IFREG},        {"directory", S_IFDIR}, {"dir", S_IFDIR},
    {"character_device", S_IFCHR}, {"block_device", S_IFBLK}, {"fifo", S_IFIFO},
    {"pipe", S_IFIFO},           {"symlink", S_IFLNK},  {"socket", S_IFSOCK},
    {"anon_inode", 0},
};

}  // namespace

std::optional<expected<operand_source>> resolve_context_field(const field_ref& f, context_fields context,
                                                              const field_error& fail) {
  if (!f.syscall.empty()) return std::nullopt;
  bool named = false;
  for (const auto& e : context_entries) {
    if (f.name != e.name && (e.alias.empty() || f.name != e.alias)) continue;
    named = true;
    if (f.member != e.member) continue;
    // cgroup is read for the cgroup and for the container field alike.
    const bool on = e.needs == context_field::cgroup ? context.wants_cgroup_id() : context.has(e.needs);
    const auto written = e.member.empty() ? std::string(f.name) : fmt::format("{}.{}", f.name, f.member);
    if (!on)
      return expected<operand_source>(fail(fmt::format("{} is a process context field, which this tracer does not read: add "
                              "context_field::{} to tracer_options::context", written, e.needs_name)));
    operand_source s;
    s.type = e.width == 0 ? source::context_string : source::context_number;
    s.offset = e.offset;
    s.width = e.width == 0 ? 8 : e.width;
    s.size = e.width == 0 ? record::context_name_size : 0;
    s.device = e.device;
    s.phase = syscall_phase::enter;
    return expected<operand_source>(s);
  }
  if (!named) return std::nullopt;
  if (f.name == "exe" || f.name == "executable")
    return expected<operand_source>(fail(fmt::format("exe has no member {}: compare exe.inode, exe.device or exe.name",
                                                     f.member.empty() ? std::string("(none)") : f.member)));
  return expected<operand_source>(fail(fmt::format("{} is a number: it has no member {}", f.name, f.member)));
}

expected<operand_source> resolve_fd_member(std::string_view member, std::uint8_t argument,
                                           std::uint8_t capture, syscall_phase when,
                                           const field_error& fail) {
  for (const auto& e : fd_entries) {
    if (member != e.member) continue;
    operand_source s;
    s.type = e.kind;
    s.argument = argument;
    s.capture = capture;
    s.offset = e.offset;
    s.width = e.kind == source::fd_string || e.kind == source::fd_path ? 8 : e.width;
    s.size = e.kind == source::fd_string ? layout::name_size : 0;
    s.network_order = e.network_order;
    s.device = e.device;
    s.phase = when;
    return s;
  }
  return fail(fmt::format("an fd's identity has no member {} (its members: {})", member, fd_member_list()));
}

std::string fd_member_list() {
  std::vector<std::string_view> names;
  for (const auto& e : fd_entries) names.push_back(e.member);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::optional<std::int64_t> file_kind_bits(std::string_view name) {
  for (const auto& k : kind_names)
    if (k.name == name) return k.bits;
  return std::nullopt;
}

std::string file_kind_list() {
  std::vector<std::string_view> names;
  for (const auto& k : kind_names) names.push_back(k.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string_view symbols_of(const operand_source& s) {
  if (s.type != source::fd_number) return {};
  switch (s.offset) {
    case layout::family: return "address_families";
    case layout::type: return "socket_types";
    case layout::flags: return "open_flags";
    default: return {};
  }
}

expected<std::uint64_t> cgroup_id_of(std::string_view path) {
  auto resolver = cgroup_resolver::create();
  if (!resolver) return resolver.error();
  std::string_view relative = path;
  const auto& mount = resolver->mount_point();
  if (relative.starts_with(mount) && (relative.size() == mount.size() || relative[mount.size()] == '/'))
    relative.remove_prefix(mount.size());
  auto id = resolver->id_of(relative.empty() ? std::string_view("/") : relative);
  if (!id)
    return error(id.error().code(), fmt::format("{} is no cgroup under the cgroup2 mount {} ({})", path, mount,
                                                id.error().message()));
  return *id;
}

std::uint64_t kernel_device(std::uint64_t user_device) {
  return (std::uint64_t{major(user_device)} << 20) | minor(user_device);
}

}  // namespace ebpfpub::filter::detail
