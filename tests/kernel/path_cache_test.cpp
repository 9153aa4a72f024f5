// Paths by file identity: seeded from /proc/*/fd, kept from opens, flagged when stale.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ebpfpub/context/paths.hpp>

#include "support/child.hpp"

namespace {
ebpfpub::file_identity identity_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return {static_cast<std::uint64_t>(st.st_dev), st.st_ino};
}
}  // namespace

TEST_CASE("seeding from /proc finds a child's open file, and flags one deleted while open") {
  ebpfpub::test::scratch_dir dir;
  const auto kept = dir.path / ebpfpub::test::random_name();
  const auto removed = dir.path / ebpfpub::test::random_name();
  std::ofstream(kept) << "kept";
  std::ofstream(removed) << "removed";
  // The child holds both open (the second already unlinked) until told to go.
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  ebpfpub::test::child_process child([&] {
    const int a = ::open(kept.c_str(), O_RDONLY);
    const int b = ::open(removed.c_str(), O_RDONLY);
    ::unlink(removed.c_str());
    const char byte = (a >= 0 && b >= 0) ? static_cast<char>(b) : 0;  // which fd holds the deleted file
    (void)::write(ready[1], &byte, 1);
    pause();
    return 0;
  });
  child.go();
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  REQUIRE(byte > 0);

  const int a = ::open(kept.c_str(), O_RDONLY);
  const auto kept_id = identity_of(a);
  ::close(a);
  const int b = ::open((std::string("/proc/") + std::to_string(child.pid()) + "/fd/" + std::to_string(byte)).c_str(), O_RDONLY);
  const auto removed_id = identity_of(b);
  ::close(b);

  ebpfpub::path_cache cache;
  CHECK(cache.seed_from_proc() > 0);
  CHECK(cache.unreadable_processes() == 0);  // root reads every process
  const auto found = cache.find(kept_id);
  REQUIRE(found);
  CHECK(found->path == kept.string());
  CHECK(found->origin == ebpfpub::path_origin::proc_fd);
  CHECK_FALSE(found->stale);
  const auto gone = cache.find(removed_id);
  REQUIRE(gone);
  CHECK(gone->path == removed.string());
  CHECK(gone->stale);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("a remembered path is flagged stale once the file is renamed, when asked to verify") {
  ebpfpub::test::scratch_dir dir;
  const auto before = dir.path / "before", after = dir.path / "after";
  std::ofstream(before) << "x";
  const int fd = ::open(before.c_str(), O_RDONLY);
  const auto id = identity_of(fd);
  ::close(fd);
  ebpfpub::path_cache cache;
  cache.remember(id, before.string(), ebpfpub::path_origin::traced_open);
  CHECK_FALSE(cache.find(id, true)->stale);
  std::filesystem::rename(before, after);
  const auto p = cache.find(id, true);
  REQUIRE(p);
  CHECK(p->path == before.string());
  CHECK(p->stale);
  CHECK(p->origin == ebpfpub::path_origin::traced_open);
}

TEST_CASE("the path cache is bounded and counts its evictions") {
  ebpfpub::path_cache cache({.capacity = 3});
  for (std::uint64_t i = 0; i < 5; ++i) cache.remember({1, i}, "/f" + std::to_string(i), ebpfpub::path_origin::traced_open);
  CHECK(cache.stats().size == 3);
  CHECK(cache.stats().evictions == 2);
  CHECK_FALSE(cache.find({1, 0}));
  CHECK(cache.find({1, 4})->path == "/f4");
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().misses == 1);
}

TEST_CASE("a kernel device number converts to stat's") {
  struct stat st {};
  REQUIRE(::stat("/", &st) == 0);
  const auto major = static_cast<std::uint32_t>(::major(st.st_dev)), minor = static_cast<std::uint32_t>(::minor(st.st_dev));
  CHECK(ebpfpub::file_identity::from_kernel(major << 20 | minor, 7).device == static_cast<std::uint64_t>(st.st_dev));
}
