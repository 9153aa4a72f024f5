// Paths for fd identities: learnt from the opens the tracer sees (absolute, or relative to
// a dfd whose path is known), seeded from /proc/PID/fd at start, and flagged stale when
// the file was deleted or renamed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "support/fd_probe.hpp"
#include "support/serializer_helpers.hpp"

using ebpfpub::path_origin;
using ebpfpub::test::child_process;
using ebpfpub::test::fd_session;
using ebpfpub::test::fd_truth;
using ebpfpub::test::probe_fd;
using ebpfpub::test::random_marker;
using ebpfpub::test::scratch_dir;
using ebpfpub::test::shared;
using ebpfpub::test::truth_of;

TEST_CASE("an fd gets the path its traced open named, or /proc's from before tracing, with its staleness") {
  fd_session s;
  std::vector<ebpfpub::dynamic_event> opens;
  auto traced = s.session().get().trace("openat", [&](const ebpfpub::dynamic_event& e) { opens.push_back(e); });
  if (!traced) FAIL(traced.error().what());
  scratch_dir dir;
  const auto early = (dir.path / "early").string(), gone = (dir.path / "gone").string();
  const auto opened = (dir.path / "traced").string(), moved = (dir.path / "moved").string();
  // Opened before tracing starts, and inherited by the child: /proc/PID/fd names them.
  const int early_fd = ::open(early.c_str(), O_RDWR | O_CREAT, 0600);
  const int gone_fd = ::open(gone.c_str(), O_RDWR | O_CREAT, 0600);
  ::unlink(gone.c_str());
  const long m = random_marker();
  struct seen {
    fd_truth directory, relative;
    int relative_fd = -1;
  };
  shared<seen> truth;
  child_process child([&] {
    probe_fd(early_fd, m);
    probe_fd(gone_fd, m + 1);
    const int t = ::openat(AT_FDCWD, opened.c_str(), O_RDWR | O_CREAT, 0600);
    probe_fd(t, m + 2);
    const int d = ::openat(AT_FDCWD, dir.path.c_str(), O_RDONLY | O_DIRECTORY);
    truth->directory = truth_of(d);
    truth->relative_fd = ::openat(d, "relative", O_RDWR | O_CREAT, 0600);
    truth->relative = truth_of(truth->relative_fd);
    probe_fd(truth->relative_fd, m + 3);
    ::rename(opened.c_str(), moved.c_str());
    probe_fd(t, m + 4);
    return 0;
  });
  ::close(early_fd);
  ::close(gone_fd);
  REQUIRE(s.run(child) == 0);

  const auto& e = s.identity(m);
  REQUIRE(e.path);
  CHECK(e.path->path == early);
  CHECK(e.path->origin == path_origin::proc_fd);
  CHECK_FALSE(e.path->stale);

  const auto& g = s.identity(m + 1);
  REQUIRE(g.path);
  CHECK(g.path->path == gone);  // without /proc's " (deleted)"
  CHECK(g.path->origin == path_origin::proc_fd);
  CHECK(g.path->stale);

  const auto& t = s.identity(m + 2);
  REQUIRE(t.path);
  CHECK(t.path->path == opened);
  CHECK(t.path->origin == path_origin::traced_open);
  CHECK_FALSE(t.path->stale);

  const auto& r = s.identity(m + 3);
  REQUIRE(r.path);
  CHECK(r.path->path == (dir.path / "relative").string());
  CHECK(r.inode == truth->relative.inode);
  CHECK(r.path->origin == path_origin::traced_open);

  const auto& renamed = s.identity(m + 4);
  REQUIRE(renamed.path);
  CHECK(renamed.path->path == opened);  // what it was opened as
  CHECK(renamed.name == "moved");       // what the kernel calls it now
  CHECK(renamed.path->stale);

  // The opens' own events carry the returned fd's identity, with its path.
  const ebpfpub::dynamic_event* relative_open = nullptr;
  for (const auto& o : opens)
    if (o.header.process_id == static_cast<std::uint32_t>(child.pid()) &&
        o.header.exit_code == truth->relative_fd)
      relative_open = &o;
  REQUIRE(relative_open);
  REQUIRE(relative_open->header.returned_fd);
  CHECK(relative_open->header.returned_fd->inode == truth->relative.inode);
  REQUIRE(relative_open->header.returned_fd->path);
  CHECK(relative_open->header.returned_fd->path->path == (dir.path / "relative").string());
  const auto& dfd = std::get<ebpfpub::fd>(relative_open->args[0].value);
  REQUIRE(dfd.identity);
  CHECK(dfd.identity->inode == truth->directory.inode);
  REQUIRE(dfd.identity->path);
  CHECK(dfd.identity->path->path == dir.path.string());
  REQUIRE(s.session().get().paths());
  CHECK(s.session().get().paths()->stats().hits > 0);
}
