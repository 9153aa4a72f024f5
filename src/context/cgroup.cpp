#include <ebpfpub/context/cgroup.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kernel/unique_fd.hpp"

namespace ebpfpub {
namespace detail {

struct cgroup_state {
  std::string mount_point;
  unique_fd root;
  std::size_t capacity = 0;
  bool by_handle = true;
  std::list<std::pair<std::uint64_t, std::string>> lru;  // most recently used first
  std::unordered_map<std::uint64_t, decltype(lru)::iterator> index;
  cache_statistics stats;
};

}  // namespace detail

namespace {

bool is_hex_id(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (!part.empty()) out.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// "<prefix><id><suffix>" with a 64-hex id.
std::optional<std::string> scoped_id(std::string_view part, std::string_view prefix, std::string_view suffix) {
  if (!part.starts_with(prefix) || !part.ends_with(suffix)) return std::nullopt;
  part.remove_prefix(prefix.size());
  part.remove_suffix(suffix.size());
  if (!is_hex_id(part)) return std::nullopt;
  return std::string(part);
}

std::string pod_uid_of(const std::vector<std::string_view>& parts) {
  // cgroupfs: /kubepods/burstable/pod<uid>/; systemd: kubepods-burstable-pod<uid>.slice,
  // where the uid's dashes are written as underscores.
  for (auto part : parts) {
    auto at = part.rfind("pod");
    if (at == std::string_view::npos || (!part.starts_with("kubepods") && !part.starts_with("pod"))) continue;
    auto uid = part.substr(at + 3);
    if (uid.ends_with(".slice")) uid.remove_suffix(6);
    if (uid.size() < 32) continue;
    std::string out(uid);
    for (char& c : out)
      if (c == '_') c = '-';
    return out;
  }
  return {};
}

// The mount point of the cgroup2 file system, from /proc/self/mountinfo (field 5 is the
// mount point; after " - " come the type and source).
std::string find_cgroup2() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, dev, root, mount;
    if (fields >> id >> parent >> dev >> root >> mount) return mount;
  }
  return {};
}

// FILEID_KERNFS (include/linux/exportfs.h): a cgroup2 directory's file handle is its
// 64-bit kernfs node id, the cgroup id bpf_get_current_cgroup_id() returns.
constexpr int fileid_kernfs = 0xfe;

std::optional<std::string> walk(const std::string& mount_point, std::uint64_t id);

}  // namespace

std::optional<container_info> container_of(std::string_view cgroup_path) {
  const auto parts = components(cgroup_path);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const auto part = *it;
    const auto found = [&](std::string runtime, std::string id) -> std::optional<container_info> {
      return container_info{std::move(runtime), std::move(id), pod_uid_of(parts)};
    };
    if (part.starts_with("libpod-conmon-")) continue;  // podman's monitor, not the container
    if (auto id = scoped_id(part, "docker-", ".scope")) return found("docker", *id);
    if (auto id = scoped_id(part, "cri-containerd-", ".scope")) return found("containerd", *id);
    if (auto id = scoped_id(part, "crio-", ".scope")) return found("cri-o", *id);
    if (auto id = scoped_id(part, "crio-", "")) return found("cri-o", *id);
    if (auto id = scoped_id(part, "libpod-", ".scope")) return found("podman", *id);
    if (auto id = scoped_id(part, "libpod-", "")) return found("podman", *id);
    if (part.starts_with("lxc.payload.") && part.size() > 12) return found("lxc", std::string(part.substr(12)));
    if (is_hex_id(part) && it + 1 != parts.rend()) {
      const auto parent = *(it + 1);
      if (parent == "docker") return found("docker", std::string(part));
      // cgroupfs-driver Kubernetes: /kubepods/<qos>/pod<uid>/<id>, runtime unknown from
      // the path alone; containerd is the common one, CRI-O names its own with crio-.
      if (parent.starts_with("pod")) return found("containerd", std::string(part));
    }
    if (it + 1 != parts.rend() && *(it + 1) == "lxc") return found("lxc", std::string(part));
  }
  return std::nullopt;
}

cgroup_resolver::cgroup_resolver(std::unique_ptr<detail::cgroup_state> state) : state_(std::move(state)) {}
cgroup_resolver::cgroup_resolver(cgroup_resolver&&) noexcept = default;
cgroup_resolver& cgroup_resolver::operator=(cgroup_resolver&&) noexcept = default;
cgroup_resolver::~cgroup_resolver() = default;

expected<cgroup_resolver> cgroup_resolver::create(options o) {
  auto state = std::make_unique<detail::cgroup_state>();
  state->mount_point = o.mount_point.empty() ? find_cgroup2() : o.mount_point;
  if (state->mount_point.empty())
    return error(errc::not_found,
                 "cgroup resolver: no cgroup2 file system is mounted (/proc/self/mountinfo); mount "
                 "one (mount -t cgroup2 none /sys/fs/cgroup) or set options.mount_point");
  state->root = detail::unique_fd(::open(state->mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!state->root)
    return error::from_errno(errno, fmt::format("cgroup resolver: opening {}", state->mount_point));
  state->capacity = o.capacity == 0 ? 1 : o.capacity;
  state->stats.capacity = state->capacity;
  state->by_handle = o.by_handle;
  return cgroup_resolver(std::move(state));
}

const std::string& cgroup_resolver::mount_point() const noexcept { return state_->mount_point; }

cache_statistics cgroup_resolver::stats() const noexcept {
  auto s = state_->stats;
  s.size = state_->lru.size();
  return s;
}

expected<std::uint64_t> cgroup_resolver::id_of(std::string_view path) const {
  std::string full(path);
  if (!full.starts_with(state_->mount_point)) full = state_->mount_point + "/" + std::string(path);
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) return error::from_errno(errno, fmt::format("cgroup resolver: {}", full));
  return static_cast<std::uint64_t>(st.st_ino);
}

expected<std::string> cgroup_resolver::path_of(std::uint64_t cgroup_id) {
  auto& s = *state_;
  if (const auto hit = s.index.find(cgroup_id); hit != s.index.end()) {
    ++s.stats.hits;
    s.lru.splice(s.lru.begin(), s.lru, hit->second);
    return hit->second->second;
  }
  ++s.stats.misses;
  std::optional<std::string> path;
  // By handle first: one open_by_handle_at instead of a walk.
  // struct file_handle ends in a flexible array: room for its 8-byte id after it.
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + sizeof(std::uint64_t)] = {};
  auto* handle = reinterpret_cast<file_handle*>(storage);
  handle->handle_bytes = sizeof(std::uint64_t);
  handle->handle_type = fileid_kernfs;
  std::memcpy(storage + sizeof(file_handle), &cgroup_id, sizeof(cgroup_id));
  detail::unique_fd fd(s.by_handle ? ::open_by_handle_at(s.root.get(), handle, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                   : -1);
  if (fd) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(fmt::format("/proc/self/fd/{}", fd.get()), ec).string();
    if (!ec && target.starts_with(s.mount_point)) {
      auto rest = target.substr(s.mount_point.size());
      path = rest.empty() ? "/" : rest;
    }
  }
  // Without CAP_DAC_READ_SEARCH (or on a kernel without kernfs handles): walk the tree.
  if (!path) path = walk(s.mount_point, cgroup_id);
  if (!path) {
    ++s.stats.failures;
    return error(errc::not_found, fmt::format("cgroup resolver: no cgroup with id {} under {} (removed since "
                                              "the call?)", cgroup_id, s.mount_point));
  }
  if (s.lru.size() >= s.capacity) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
    ++s.stats.evictions;
  }
  s.lru.emplace_front(cgroup_id, *path);
  s.index[cgroup_id] = s.lru.begin();
  return *path;
}

namespace {
std::optional<std::string> walk(const std::string& mount_point, std::uint64_t id) {
  std::error_code ec;
  const std::filesystem::path root(mount_point);
  struct stat st {};
  if (::stat(root.c_str(), &st) == 0 && st.st_ino == id) return "/";
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (::stat(it->path().c_str(), &st) == 0 && st.st_ino == id)
      return "/" + std::filesystem::relative(it->path(), root, ec).string();
  }
  return std::nullopt;
}

}  // namespace

}  // namespace ebpfpub
