#include "context/process_resolver.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <string>

namespace ebpfpub::detail {

process_resolver::process_resolver(std::size_t capacity)
    : executables_(capacity), cgroups_(capacity) {}

void process_resolver::resolve(record_view& r) {
  auto& c = r.context();
  if (c.fields.has(context_field::executable)) c.executable = executable(r);
  if (c.fields.wants_cgroup_id())
    c.cgroup = cgroup(c.cgroup_id, c.fields.has(context_field::container));
}

std::shared_ptr<const executable_file> process_resolver::executable(const record_view& r) {
  const auto& c = r.header().context;
  const identity key{c.executable_device, c.executable_inode};
  if (const auto* hit = executables_.find(key)) return *hit;
  auto file = std::make_shared<executable_file>();
  file->device = c.executable_device;
  file->inode = c.executable_inode;
  file->name = std::string(r.executable_name());
  // The process may have exec'd again (or exited, its pid reused) since the call: the
  // link counts only when it still names the same file.
  const auto link = "/proc/" + std::to_string(r.header().process_id) + "/exe";
  char target[PATH_MAX];
  const auto n = ::readlink(link.c_str(), target, sizeof(target));
  struct stat st {};
  if (n > 0 && static_cast<std::size_t>(n) < sizeof(target) && ::stat(link.c_str(), &st) == 0 &&
      static_cast<std::uint64_t>(st.st_dev) == key.first &&
      static_cast<std::uint64_t>(st.st_ino) == key.second) {
    file->path.assign(target, static_cast<std::size_t>(n));
    return executables_.insert(key, std::move(file));
  }
  // Not cached: a later event of the same file (from a live process) may still tell.
  executables_.failed();
  return file;
}

std::shared_ptr<const cgroup_info> process_resolver::cgroup(std::uint64_t id, bool with_container) {
  if (const auto* hit = cgroups_.find(id)) return *hit;
  if (!cgroup_paths_tried_) {
    cgroup_paths_tried_ = true;
    if (auto created = cgroup_resolver::create()) cgroup_paths_.emplace(std::move(*created));
  }
  auto info = std::make_shared<cgroup_info>();
  info->id = id;
  auto path = cgroup_paths_ ? cgroup_paths_->path_of(id)
                            : expected<std::string>(error(errc::not_found, ""));
  if (!path) {
    // Gone already (or no cgroup2 mount): the id is all there is; not cached.
    cgroups_.failed();
    return info;
  }
  info->path = std::move(*path);
  if (with_container) info->container = container_of(info->path);
  return cgroups_.insert(id, std::move(info));
}

}  // namespace ebpfpub::detail
