#include "session/fd_paths.hpp"

#include <optional>
#include <string>

namespace ebpfpub::detail {
namespace {

// The open path argument and the directory fd it is relative to, by the kernel's names
// (open, creat: `filename`; openat, openat2: `dfd` and `filename`; open_by_handle_at has
// none).
struct open_arguments {
  std::optional<std::size_t> path;
  std::optional<std::size_t> dfd;
};

open_arguments find_arguments(const plan& p) {
  open_arguments a;
  const auto& args = p.syscall.arguments;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind == arg_kind::user_string && (args[i].name == "filename" || args[i].name == "pathname"))
      a.path = i;
    if (args[i].kind == arg_kind::fd && args[i].name == "dfd") a.dfd = i;
  }
  return a;
}

}  // namespace

void learn_opened_path(const record_view& r, path_cache& paths) {
  const auto& returned = r.header().returned_fd;
  if (!returned || returned->state != fd_state::open || r.header().exit_code < 0) return;
  const auto where = find_arguments(r.plan());
  if (!where.path) return;
  const auto name = r.capture_of(*where.path);
  if (name.status != capture_status::ok || name.data.empty()) return;
  std::string path(reinterpret_cast<const char*>(name.data.data()), name.data.size());
  // Resolved in the kernel at the call (plan_options::resolve_paths): the base the call
  // itself used, whatever the cwd or the dfd's cached path say now.
  if (const auto base = r.capture_of(*where.path, capture_op::base_directory);
      path.front() != '/' && base.status == capture_status::ok) {
    const auto resolved = decode_base_directory(base.data, path);
    if (!resolved || resolved->state != path_base_state::resolved) return;
    path = resolved->path;
  } else if (path.front() != '/') {
    if (!where.dfd) return;
    const auto dfd = r.capture_of(*where.dfd);
    if (dfd.status != capture_status::ok || !dfd.spec || dfd.spec->op != capture_op::fd_identity) return;
    auto directory = decode_fd_identity(dfd.data);
    if (!directory) return;
    attach_path(*directory, paths);
    if (!directory->path || directory->path->stale) return;
    const auto& base = directory->path->path;
    path = base + (base.ends_with('/') ? "" : "/") + path;
  }
  paths.remember({returned->device, returned->inode}, std::move(path), path_origin::traced_open);
}

}  // namespace ebpfpub::detail
