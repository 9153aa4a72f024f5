// Finding (and when needed mounting) tracefs, and reading syscall tracepoints from it.

#include <ebpfpub/tracefs.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <fmt/format.h>

namespace ebpfpub {
namespace {

// From <linux/magic.h>; spelled out so the build needs no kernel headers.
constexpr long tracefs_magic = 0x74726163;

bool is_tracefs(const std::string& path) {
  struct statfs info {};
  return ::statfs(path.c_str(), &info) == 0 && info.f_type == tracefs_magic;
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

expected<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in && (errno == EACCES || errno == EPERM))
    return error(errc::permission_denied,
                 fmt::format("opening {}: {}; tracefs is readable by root only and this process "
                             "lacks CAP_DAC_READ_SEARCH: run as root, or grant it with CAP_BPF and "
                             "CAP_PERFMON (docs/kernel-requirements.md)", path, std::strerror(errno)));
  if (!in) return error::from_errno(errno, fmt::format("opening {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return error::from_errno(errno, fmt::format("reading {}", path));
  return std::move(text).str();
}

}  // namespace

expected<tracefs> tracefs::open(const options& opts) {
  if (opts.candidates.empty())
    return error(errc::invalid_argument, "tracefs: no candidate mount points were given");

  for (const auto& candidate : opts.candidates)
    if (is_tracefs(candidate)) return tracefs(candidate, false);

  const auto& target = opts.candidates.front();
  const std::string manual = fmt::format("mount -t tracefs nodev {}", target);
  if (!opts.allow_mount)
    return error(errc::not_found,
                 fmt::format("tracefs is not mounted at {}; mount it as root with `{}`",
                             fmt::join(opts.candidates, " or "), manual));
  if (!is_directory(target))
    return error(errc::unsupported,
                 fmt::format("tracefs is not mounted and {} does not exist: this kernel seems "
                             "to lack tracefs (CONFIG_TRACING); mount it where it exists with `{}`",
                             target, manual));
  if (::mount("nodev", target.c_str(), "tracefs", 0, nullptr) != 0) {
    const int saved = errno;
    return error(saved == EPERM || saved == EACCES ? errc::permission_denied : errc::system,
                 fmt::format("tracefs is not mounted and mounting it at {} failed: {}; run as "
                             "root (CAP_SYS_ADMIN) or mount it first with `{}`",
                             target, std::strerror(saved), manual));
  }
  if (!is_tracefs(target))
    return error(errc::system, fmt::format("mounted tracefs at {} but it does not look like "
                                           "tracefs afterwards", target));
  return tracefs(target, true);
}

expected<std::vector<std::string>> tracefs::syscall_names() const {
  const std::string dir = root_ + "/events/syscalls";
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec)
    return error(ec == std::errc::no_such_file_or_directory ? errc::unsupported : errc::system,
                 fmt::format("listing {}: {}; syscall tracepoints need a kernel built with "
                             "CONFIG_FTRACE_SYSCALLS", dir, ec.message()));
  std::vector<std::string> enters;
  std::vector<std::string> exits;
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("sys_enter_")) enters.push_back(name.substr(10));
    if (name.starts_with("sys_exit_")) exits.push_back(name.substr(9));
  }
  std::sort(enters.begin(), enters.end());
  std::sort(exits.begin(), exits.end());
  std::vector<std::string> both;
  std::set_intersection(enters.begin(), enters.end(), exits.begin(), exits.end(),
                        std::back_inserter(both));
  return both;
}

expected<tracepoint_format> tracefs::format(std::string_view category,
                                            std::string_view event) const {
  const std::string path = fmt::format("{}/events/{}/{}/format", root_, category, event);
  auto text = read_file(path);
  if (!text) {
    if (text.error().code() == errc::not_found)
      return error(errc::not_found,
                   fmt::format("tracepoint {}:{} does not exist ({} is missing)", category,
                               event, path));
    return text.error();
  }
  return parse_tracepoint_format(*text, path);
}

expected<tracepoint_format> tracefs::syscall_format(std::string_view syscall,
                                                    syscall_phase phase) const {
  const auto event =
      fmt::format("{}{}", phase == syscall_phase::enter ? "sys_enter_" : "sys_exit_", syscall);
  auto result = format("syscalls", event);
  if (result || result.error().code() != errc::not_found) return result;

  auto names = syscall_names();
  std::string hint;
  if (names) {
    const auto close = closest_names(syscall, *names);
    if (!close.empty()) hint = fmt::format("; did you mean {}?", fmt::join(close, ", "));
  }
  return error(errc::not_found,
               fmt::format("syscall '{}' has no {} tracepoint on this kernel ({}/events/syscalls/{} "
                           "is missing){}", syscall,
                           phase == syscall_phase::enter ? "enter" : "exit", root_, event, hint));
}

}  // namespace ebpfpub
