// fd identities read in the kernel, against what the child itself sees of its fds (fstat,
// F_GETFL, readlink /proc/self/fd/N): files of each kind, and the cases a per-process fd
// table in user space gets wrong (dup2, fork, threads sharing the table, exec with
// close-on-exec, files deleted or renamed while open).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/fd_probe.hpp"
#include "support/serializer_helpers.hpp"

using ebpfpub::fd_state;
using ebpfpub::file_kind;
using ebpfpub::test::check_same_file;
using ebpfpub::test::child_process;
using ebpfpub::test::fd_session;
using ebpfpub::test::fd_truth;
using ebpfpub::test::probe_fd;
using ebpfpub::test::random_marker;
using ebpfpub::test::scratch_dir;
using ebpfpub::test::shared;
using ebpfpub::test::truth_of;

TEST_CASE("an fd's identity is the device, inode, mode and open flags fstat and F_GETFL give") {
  fd_session s;
  scratch_dir dir;
  const auto file = (dir.path / "data.log").string();
  const long m = random_marker();
  struct seen {
    fd_truth file, directory, null, memfd, eventfd, pipe_read, pipe_write;
  };
  shared<seen> truth;
  child_process child([&] {
    ebpfpub::test::close_inherited_fds();
    const int f = ::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND, 0640);
    const int d = ::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY);
    const int n = ::open("/dev/null", O_WRONLY);
    const int mem = ::memfd_create("fdcontext", 0);
    const int ev = ::eventfd(0, EFD_NONBLOCK);
    int p[2];
    if (::pipe(p) != 0) return 1;
    *truth = {truth_of(f), truth_of(d), truth_of(n), truth_of(mem), truth_of(ev), truth_of(p[0]), truth_of(p[1])};
    for (int i = 0; i < 7; ++i) probe_fd(3 + i, m + i);  // f, d, n, mem, ev, p[0], p[1]
    ::close(n);
    probe_fd(5, m + 7);       // closed: within the table, no file
    probe_fd(60, m + 8);      // never opened, within the 64 slots a new table has
    probe_fd(100000, m + 9);  // beyond the table
    probe_fd(-1, m + 10);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  REQUIRE(s.at(m).descriptor.value == 3);

  const auto& regular = s.identity(m);
  check_same_file(regular, truth->file);
  CHECK(regular.kind == file_kind::regular);
  CHECK(regular.name == "data.log");
  CHECK((regular.flags & O_APPEND) != 0);
  CHECK((regular.flags & O_ACCMODE) == O_RDWR);
  CHECK(regular.mode == (S_IFREG | 0640));

  check_same_file(s.identity(m + 1), truth->directory);
  CHECK(s.identity(m + 1).kind == file_kind::directory);
  CHECK(s.identity(m + 1).name == dir.path.filename().string());

  check_same_file(s.identity(m + 2), truth->null);
  CHECK(s.identity(m + 2).kind == file_kind::character_device);
  CHECK(s.identity(m + 2).name == "null");

  check_same_file(s.identity(m + 3), truth->memfd);
  CHECK(s.identity(m + 3).kind == file_kind::regular);
  CHECK(s.identity(m + 3).name == "memfd:fdcontext");

  check_same_file(s.identity(m + 4), truth->eventfd);
  CHECK(s.identity(m + 4).kind == file_kind::anon_inode);
  CHECK(s.identity(m + 4).name == "[eventfd]");
  CHECK(std::string(truth->eventfd.link) == "anon_inode:[eventfd]");

  for (auto [marker, end] : {std::pair{m + 5, &truth->pipe_read}, std::pair{m + 6, &truth->pipe_write}}) {
    check_same_file(s.identity(marker), *end);
    CHECK(s.identity(marker).kind == file_kind::fifo);
    CHECK(std::string(end->link) == "pipe:[" + std::to_string(end->inode) + "]");
  }
  CHECK(s.identity(m + 5).inode == s.identity(m + 6).inode);  // one pipe, two ends

  CHECK(s.identity(m + 7).state == fd_state::not_open);
  CHECK(s.identity(m + 8).state == fd_state::not_open);
  CHECK(s.identity(m + 9).state == fd_state::bad_fd);
  CHECK(s.identity(m + 10).state == fd_state::bad_fd);
}

TEST_CASE("after dup2 over an open fd, both numbers name the first file; the second is gone") {
  fd_session s;
  scratch_dir dir;
  const auto first = (dir.path / "first").string(), second = (dir.path / "second").string();
  const long m = random_marker();
  shared<fd_truth> truth;
  child_process child([&] {
    const int a = ::open(first.c_str(), O_WRONLY | O_CREAT, 0600);
    const int b = ::open(second.c_str(), O_RDONLY | O_CREAT, 0600);
    probe_fd(b, m);
    if (::dup2(a, b) != b) return 1;
    *truth = truth_of(a);
    probe_fd(b, m + 1);
    probe_fd(a, m + 2);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  CHECK(s.identity(m).name == "second");
  check_same_file(s.identity(m + 1), *truth);
  CHECK(s.identity(m + 1).name == "first");
  CHECK(s.identity(m + 2) == s.identity(m + 1));
}

TEST_CASE("an fd inherited across fork names the same file in the child, which closes its own copy") {
  fd_session s;
  scratch_dir dir;
  const auto path = (dir.path / "inherited").string();
  const long m = random_marker();
  struct seen {
    fd_truth file;
    int descriptor = -1;
    pid_t grandchild = 0;
  };
  shared<seen> truth;
  child_process child([&] {
    const int f = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
    truth->file = truth_of(f);
    truth->descriptor = f;
    const pid_t pid = ::fork();
    if (pid == 0) {
      probe_fd(f, m);
      ::close(f);  // the child's table only
      probe_fd(f, m + 1);
      ::_exit(0);
    }
    truth->grandchild = pid;
    int status = 0;
    ::waitpid(pid, &status, 0);
    probe_fd(f, m + 2);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
  });
  REQUIRE(s.run(child) == 0);
  CHECK(s.at(m).process_id == static_cast<std::uint32_t>(truth->grandchild));
  check_same_file(s.identity(m), truth->file);
  CHECK(s.identity(m + 1).state == fd_state::not_open);
  CHECK(s.at(m + 2).process_id == static_cast<std::uint32_t>(child.pid()));
  check_same_file(s.identity(m + 2), truth->file);
}

TEST_CASE("threads share one fd table: a number one thread closes and another reuses names the new file") {
  fd_session s;
  scratch_dir dir;
  const auto old_path = (dir.path / "old").string(), new_path = (dir.path / "new").string();
  const long m = random_marker();
  struct seen {
    fd_truth old_file, new_file;
    int old_fd = -1, new_fd = -1;
  };
  shared<seen> truth;
  child_process child([&] {
    const int f = ::open(old_path.c_str(), O_RDWR | O_CREAT, 0600);
    truth->old_fd = f;
    truth->old_file = truth_of(f);
    // A process forked now has a table of its own (no CLONE_FILES): it keeps the old file.
    int go[2];
    if (::pipe(go) != 0) return 1;
    const pid_t copy = ::fork();
    if (copy == 0) {
      char byte;
      if (::read(go[0], &byte, 1) != 1) ::_exit(3);
      probe_fd(f, m + 3);
      ::_exit(0);
    }
    std::thread([&] {
      ::close(f);
      probe_fd(f, m);
    }).join();
    truth->new_fd = ::open(new_path.c_str(), O_RDONLY | O_CREAT, 0600);  // the lowest free number
    truth->new_file = truth_of(truth->new_fd);
    std::thread([&] { probe_fd(f, m + 1); }).join();
    probe_fd(f, m + 2);
    if (::write(go[1], "x", 1) != 1) return 4;
    int status = 0;
    ::waitpid(copy, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
  });
  REQUIRE(s.run(child) == 0);
  REQUIRE(truth->new_fd == truth->old_fd);
  CHECK(s.at(m).thread_id != s.at(m).process_id);
  CHECK(s.identity(m).state == fd_state::not_open);
  check_same_file(s.identity(m + 1), truth->new_file);
  CHECK(s.identity(m + 1).name == "new");
  CHECK(s.at(m + 1).thread_id != s.at(m).thread_id);
  check_same_file(s.identity(m + 2), truth->new_file);
  check_same_file(s.identity(m + 3), truth->old_file);
  CHECK(s.identity(m + 3).name == "old");
}

TEST_CASE("exec closes the close-on-exec fds: the new image finds only the others open") {
  fd_session s;
  scratch_dir dir;
  const auto kept = (dir.path / "kept").string(), closed = (dir.path / "closed").string();
  const long m = random_marker();
  shared<fd_truth> truth;
  child_process child([&] {
    const int c = ::open(closed.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    const int k = ::open(kept.c_str(), O_RDWR | O_CREAT, 0600);
    *truth = truth_of(k);
    probe_fd(c, m + 10);  // before exec: still open
    const auto marker = std::to_string(m), cs = std::to_string(c), ks = std::to_string(k);
    ::execl(FD_PROBE_PATH, "fd_probe", marker.c_str(), cs.c_str(), ks.c_str(), nullptr);
    return 99;
  });
  CHECK(s.run(child) == 1);  // fd_probe: one fd was not open
  CHECK(s.identity(m + 10).name == "closed");
  CHECK(s.identity(m).state == fd_state::not_open);
  check_same_file(s.identity(m + 1), *truth);
  CHECK(s.identity(m + 1).name == "kept");
}

TEST_CASE("a file deleted or renamed while open keeps its identity; its name follows the rename") {
  fd_session s;
  scratch_dir dir;
  const auto doomed = (dir.path / "doomed").string();
  // A name of 50 bytes does not fit inline in its dentry (40): read through its pointer.
  const auto long_name = std::string(50, 'a');
  const auto before = (dir.path / "before").string(), after = (dir.path / long_name).string();
  const long m = random_marker();
  struct seen {
    fd_truth deleted, renamed;
  };
  shared<seen> truth;
  child_process child([&] {
    const int d = ::open(doomed.c_str(), O_RDWR | O_CREAT, 0600);
    const int r = ::open(before.c_str(), O_RDWR | O_CREAT, 0600);
    ::unlink(doomed.c_str());
    ::rename(before.c_str(), after.c_str());
    truth->deleted = truth_of(d);
    truth->renamed = truth_of(r);
    probe_fd(d, m);
    probe_fd(r, m + 1);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  check_same_file(s.identity(m), truth->deleted);
  CHECK(std::string(truth->deleted.link) == doomed + " (deleted)");
  CHECK(s.identity(m).name == "doomed");
  check_same_file(s.identity(m + 1), truth->renamed);
  CHECK(std::string(truth->renamed.link) == after);
  CHECK(s.identity(m + 1).name == long_name);
}
