#pragma once
// Cgroups made for a test in the real cgroup2 hierarchy, named as container runtimes name
// theirs, and removed after it.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "support/child.hpp"

namespace ebpfpub::test {

/// 64 random hex digits: a container id as docker and containerd write them.
inline std::string hex_id() {
  std::string id;
  while (id.size() < 64) id += random_name(16);
  for (char& c : id)
    if (c > 'f' && c <= 'z') c = static_cast<char>('a' + (c - 'g') % 6);
  return id.substr(0, 64);
}

/// A cgroup made for the test, removed with it (after its processes have left), with the
/// parents made for it up to the first one named ebpfpub.
struct test_cgroup {
  std::filesystem::path path;
  explicit test_cgroup(std::filesystem::path p) : path(std::move(p)) {
    std::filesystem::create_directories(path);
  }
  test_cgroup(const test_cgroup&) = delete;
  test_cgroup& operator=(const test_cgroup&) = delete;
  ~test_cgroup() {
    std::error_code ec;
    for (auto p = path; p.has_relative_path() && std::filesystem::remove(p, ec);
         p = p.parent_path())
      if (p.filename().string().find("ebpfpub") != std::string::npos) break;
  }
  void add(pid_t pid) const {
    std::ofstream procs(path / "cgroup.procs");
    procs << pid << std::flush;
    REQUIRE(procs.good());
  }
};

}  // namespace ebpfpub::test
