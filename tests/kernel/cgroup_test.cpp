// cgroup ids resolve to paths and containers, in a real cgroup2 hierarchy the test makes
// (no container runtime: the cgroups are named the way docker and containerd name theirs).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <ebpfpub/context/cgroup.hpp>

#include "support/cgroup.hpp"
#include "support/child.hpp"

using ebpfpub::test::child_process;
using ebpfpub::test::hex_id;
using ebpfpub::test::test_cgroup;

namespace {

std::string cgroup_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("0::")) return line.substr(3);
  return {};
}

}  // namespace

TEST_CASE("a process in a docker-named cgroup resolves to its path and container, by handle and by walk") {
  auto resolver = ebpfpub::cgroup_resolver::create();
  REQUIRE(resolver);
  const auto id = hex_id();
  test_cgroup scope(std::filesystem::path(resolver->mount_point()) / ("docker-" + id + ".scope"));
  child_process child([] { return 0; });
  scope.add(child.pid());
  const auto relative = "/docker-" + id + ".scope";
  CHECK(cgroup_of(child.pid()) == relative);  // what the kernel says of the child

  const auto cgroup_id = resolver->id_of(relative);
  REQUIRE(cgroup_id);
  const auto by_handle = resolver->path_of(*cgroup_id);
  REQUIRE(by_handle);
  CHECK(*by_handle == relative);
  CHECK(ebpfpub::container_of(*by_handle) == ebpfpub::container_info{"docker", id, ""});
  CHECK(resolver->path_of(*cgroup_id).value() == relative);  // from the cache
  CHECK(resolver->stats().hits == 1);
  CHECK(resolver->stats().misses == 1);

  auto walker = ebpfpub::cgroup_resolver::create({.by_handle = false});
  REQUIRE(walker);
  CHECK(walker->path_of(*cgroup_id).value() == relative);
  child.go();
  CHECK(child.wait() == 0);
}

TEST_CASE("a CRI-style nested cgroup resolves to containerd and the pod uid") {
  auto resolver = ebpfpub::cgroup_resolver::create();
  REQUIRE(resolver);
  const auto id = hex_id();
  const std::string pod = "ebpfpub_" + ebpfpub::test::random_name(8) + "_0000_0000_000000000000";
  const std::string slice = "kubepods-besteffort-pod" + pod + ".slice";
  const auto relative = "/" + slice + "/cri-containerd-" + id + ".scope";
  test_cgroup scope(std::filesystem::path(resolver->mount_point()) / relative.substr(1));
  child_process child([] { return 0; });
  scope.add(child.pid());
  CHECK(cgroup_of(child.pid()) == relative);
  const auto path = resolver->path_of(resolver->id_of(relative).value());
  REQUIRE(path);
  CHECK(*path == relative);
  const auto c = ebpfpub::container_of(*path);
  REQUIRE(c);
  CHECK(c->runtime == "containerd");
  CHECK(c->id == id);
  std::string uid = pod;
  for (char& ch : uid)
    if (ch == '_') ch = '-';
  CHECK(c->pod_uid == uid);
  child.go();
  CHECK(child.wait() == 0);
}

TEST_CASE("the cache is bounded: evictions are counted, and a removed cgroup is an error") {
  auto resolver = ebpfpub::cgroup_resolver::create({.capacity = 2});
  REQUIRE(resolver);
  const auto root = std::filesystem::path(resolver->mount_point());
  std::vector<std::unique_ptr<test_cgroup>> groups;
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    groups.push_back(std::make_unique<test_cgroup>(root / ("ebpfpub-" + ebpfpub::test::random_name())));
    ids.push_back(resolver->id_of(groups.back()->path.string()).value());
    REQUIRE(resolver->path_of(ids.back()));
  }
  CHECK(resolver->stats().size == 2);
  CHECK(resolver->stats().evictions == 1);
  const auto gone = ids.front();
  groups.front().reset();
  const auto missing = resolver->path_of(gone);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find(std::to_string(gone)) != std::string::npos);
  CHECK(resolver->stats().failures == 1);
}
