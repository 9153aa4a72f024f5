#include <ebpfpub/context/paths.hpp>

#include <filesystem>
#include <list>
#include <unordered_map>

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace ebpfpub {

namespace {
struct identity_hash {
  std::size_t operator()(const file_identity& f) const noexcept {
    return std::hash<std::uint64_t>()(f.inode * 0x9e3779b97f4a7c15ULL ^ f.device);
  }
};
constexpr std::string_view deleted_suffix = " (deleted)";
}  // namespace

struct path_cache::state {
  std::size_t capacity = 0;
  std::list<std::pair<file_identity, known_path>> lru;  // most recently used first
  std::unordered_map<file_identity, decltype(lru)::iterator, identity_hash> index;
  cache_statistics stats;
  std::uint64_t unreadable = 0;
};

file_identity file_identity::from_kernel(std::uint32_t s_dev, std::uint64_t inode) noexcept {
  // include/linux/kdev_t.h: MAJOR(dev) = dev >> 20, MINOR(dev) = dev & 0xfffff.
  return {static_cast<std::uint64_t>(::makedev(s_dev >> 20, s_dev & 0xfffff)), inode};
}

path_cache::path_cache() : path_cache(options{}) {}
path_cache::path_cache(options o) : state_(std::make_unique<state>()) {
  state_->capacity = o.capacity == 0 ? 1 : o.capacity;
  state_->stats.capacity = state_->capacity;
}
path_cache::path_cache(path_cache&&) noexcept = default;
path_cache& path_cache::operator=(path_cache&&) noexcept = default;
path_cache::~path_cache() = default;

void path_cache::remember(file_identity file, std::string path, path_origin origin) {
  auto& s = *state_;
  known_path known{std::move(path), origin, false};
  if (known.path.ends_with(deleted_suffix)) {
    known.path.resize(known.path.size() - deleted_suffix.size());
    known.stale = true;
  }
  if (const auto it = s.index.find(file); it != s.index.end()) {
    it->second->second = std::move(known);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  if (s.lru.size() >= s.capacity) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
    ++s.stats.evictions;
  }
  s.lru.emplace_front(file, std::move(known));
  s.index[file] = s.lru.begin();
}

std::optional<known_path> path_cache::find(file_identity file, bool verify) {
  auto& s = *state_;
  const auto it = s.index.find(file);
  if (it == s.index.end()) {
    ++s.stats.misses;
    return std::nullopt;
  }
  ++s.stats.hits;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  auto& known = it->second->second;
  if (verify && !known.stale) {
    struct stat st {};
    known.stale = ::stat(known.path.c_str(), &st) != 0 || st.st_ino != file.inode ||
                  static_cast<std::uint64_t>(st.st_dev) != file.device;
  }
  return known;
}

std::size_t path_cache::seed_from_proc() {
  std::size_t added = 0;
  std::error_code ec;
  for (const auto& process : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = process.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    std::filesystem::directory_iterator fds(process.path() / "fd", fd_ec);
    if (fd_ec) {
      // Gone since the listing (ENOENT) is not a failure; anything else is.
      if (fd_ec != std::errc::no_such_file_or_directory) ++state_->unreadable;
      continue;
    }
    for (const auto& fd : fds) {
      std::error_code link_ec;
      auto target = std::filesystem::read_symlink(fd.path(), link_ec).string();
      if (link_ec || !target.starts_with('/')) continue;  // sockets, pipes, anon inodes
      struct stat st {};
      if (::stat(fd.path().c_str(), &st) != 0) continue;  // follows the fd, even if deleted
      remember({static_cast<std::uint64_t>(st.st_dev), st.st_ino}, std::move(target), path_origin::proc_fd);
      ++added;
    }
  }
  return added;
}

std::uint64_t path_cache::unreadable_processes() const noexcept { return state_->unreadable; }

cache_statistics path_cache::stats() const noexcept {
  auto s = state_->stats;
  s.size = state_->lru.size();
  return s;
}

}  // namespace ebpfpub
