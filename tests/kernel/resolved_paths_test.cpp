// Relative path arguments resolved in the kernel at the call (plan_options::resolve_paths):
// against the cwd and against a dfd, through chdir between calls, a process that exits at
// once, 100 nested directories, a mount, a deleted cwd. The ground truth is the child's
// own getcwd(), taken just before its call.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "support/fd_probe.hpp"
#include "support/serializer_helpers.hpp"

using ebpfpub::path_base_state;
using ebpfpub::test::child_process;
using ebpfpub::test::child_session;
using ebpfpub::test::random_name;
using ebpfpub::test::scratch_dir;
using ebpfpub::test::shared;
namespace syscalls = ebpfpub::syscalls;

namespace {

ebpfpub::tracer_options resolving() {
  ebpfpub::tracer_options o;
  o.capture.resolve_paths = true;
  return o;
}

// Room for a cwd 100 directories deep, as the child's getcwd() wrote it.
struct cwd_truth {
  char first[4096] = {};
  char second[4096] = {};
};

// The events of `events` whose `member` argument is `value`.
template <typename Event, typename Member>
std::vector<Event> with_argument(const std::vector<Event>& events, Member member, const std::string& value) {
  std::vector<Event> out;
  for (const auto& e : events)
    if ((e.args.*member).value == value) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("a relative openat after chdir resolves to the child's getcwd() and the name", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  scratch_dir dir;
  const auto name = "file-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir(dir.path.c_str()) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 1;
    const int fd = ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600);
    return fd >= 0 ? 0 : 2;
  });
  REQUIRE(s.run(child) == 0);
  const auto mine = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(mine.size() == 1);
  const auto& resolved = mine[0].args.filename.resolved;
  REQUIRE(resolved.has_value());
  CHECK(resolved->state == path_base_state::resolved);
  CHECK(resolved->directory == std::string(truth->first));
  CHECK(resolved->path == std::string(truth->first) + "/" + name);
  CHECK_FALSE(mine[0].header.probe_error);
}

TEST_CASE("each open resolves against the cwd of its own moment, though the child then exits at once", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  scratch_dir a, b;
  const auto name = "x-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir(a.path.c_str()) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 1;
    if (::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) < 0) return 2;
    if (::chdir(b.path.c_str()) != 0 || !::getcwd(truth->second, sizeof truth->second)) return 3;
    if (::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) < 0) return 4;
    return 0;  // exit_group right away: the reader sees the events after the process is gone
  });
  REQUIRE(s.run(child) == 0);
  const auto mine = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(mine.size() == 2);
  REQUIRE(mine[0].args.filename.resolved);
  REQUIRE(mine[1].args.filename.resolved);
  CHECK(mine[0].args.filename.resolved->path == std::string(truth->first) + "/" + name);
  CHECK(mine[1].args.filename.resolved->path == std::string(truth->second) + "/" + name);
  CHECK(std::string(truth->first) != std::string(truth->second));
}

TEST_CASE("a path relative to a dfd resolves against the dfd's directory, not the cwd", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  auto& mkdirs = s.trace<syscalls::mkdirat>();
  auto& renames = s.trace<syscalls::renameat>();
  scratch_dir a, b, elsewhere;
  const auto name = "rel-" + random_name(), sub = "sub-" + random_name(), moved = "moved-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    const int da = ::open(a.path.c_str(), O_RDONLY | O_DIRECTORY);
    const int db = ::open(b.path.c_str(), O_RDONLY | O_DIRECTORY);
    if (da < 0 || db < 0 || ::chdir(elsewhere.path.c_str()) != 0) return 1;
    if (::fchdir(da) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 2;
    if (::fchdir(db) != 0 || !::getcwd(truth->second, sizeof truth->second)) return 3;
    if (::chdir(elsewhere.path.c_str()) != 0) return 4;
    const int fd = ::openat(da, name.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ::mkdirat(db, sub.c_str(), 0700) != 0) return 5;
    if (::syscall(SYS_renameat, da, name.c_str(), db, moved.c_str()) != 0) return 6;
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  const std::string in_a(truth->first), in_b(truth->second);
  const auto o = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(o.size() == 1);
  REQUIRE(o[0].args.filename.resolved);
  CHECK(o[0].args.filename.resolved->path == in_a + "/" + name);
  const auto m = with_argument(mkdirs, &syscalls::mkdirat::arguments::pathname, sub);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].args.pathname.resolved);
  CHECK(m[0].args.pathname.resolved->path == in_b + "/" + sub);
  const auto r = with_argument(renames, &syscalls::renameat::arguments::oldname, name);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].args.oldname.resolved);
  REQUIRE(r[0].args.newname.resolved);
  CHECK(r[0].args.oldname.resolved->path == in_a + "/" + name);
  CHECK(r[0].args.newname.resolved->path == in_b + "/" + moved);
  CHECK(r[0].header.exit_code == 0);
}

TEST_CASE("a cwd 100 directories deep resolves whole, as getcwd() gives it", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  scratch_dir dir;
  const auto name = "deep-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir(dir.path.c_str()) != 0) return 1;
    for (int i = 0; i < 100; ++i)
      if (::mkdir("d", 0700) != 0 || ::chdir("d") != 0) return 2;
    if (!::getcwd(truth->first, sizeof truth->first)) return 3;
    return ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) >= 0 ? 0 : 4;
  });
  REQUIRE(s.run(child) == 0);
  const auto mine = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(mine.size() == 1);
  const auto& resolved = mine[0].args.filename.resolved;
  REQUIRE(resolved);
  CHECK(resolved->state == path_base_state::resolved);
  CHECK(resolved->path == std::string(truth->first) + "/" + name);
  CHECK(std::count(resolved->directory.begin(), resolved->directory.end(), '/') >= 101);
}

TEST_CASE("a cwd inside a tmpfs mounted below a temp dir resolves across the mount", "[paths]") {
  scratch_dir dir;
  const auto point = dir.path / "mnt";
  std::filesystem::create_directory(point);
  REQUIRE(::mount("ebpfpub-test", point.c_str(), "tmpfs", 0, "size=1m") == 0);
  struct unmount_at_end {
    std::string path;
    ~unmount_at_end() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{point.string()};
  std::filesystem::create_directory(point / "sub");
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  const auto name = "m-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir((point / "sub").c_str()) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 1;
    if (::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) < 0) return 2;
    // The mount's root itself: its dentry is the top of the tmpfs.
    if (::chdir("..") != 0 || !::getcwd(truth->second, sizeof truth->second)) return 3;
    return ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) >= 0 ? 0 : 4;
  });
  REQUIRE(s.run(child) == 0);
  const auto mine = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(mine.size() == 2);
  REQUIRE(mine[0].args.filename.resolved);
  REQUIRE(mine[1].args.filename.resolved);
  CHECK(mine[0].args.filename.resolved->path == std::string(truth->first) + "/" + name);
  CHECK(mine[1].args.filename.resolved->path == std::string(truth->second) + "/" + name);
  CHECK(std::string(truth->second) == point.string());
}

TEST_CASE("plain open and mkdir, which have no dfd, resolve against the cwd", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::open>();
  auto& mkdirs = s.trace<syscalls::mkdir>();
  scratch_dir dir;
  const auto name = "o-" + random_name(), sub = "k-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir(dir.path.c_str()) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 1;
    if (::syscall(SYS_open, name.c_str(), O_RDWR | O_CREAT, 0600) < 0) return 2;
    return ::syscall(SYS_mkdir, sub.c_str(), 0700) == 0 ? 0 : 3;
  });
  REQUIRE(s.run(child) == 0);
  const auto o = with_argument(opens, &syscalls::open::arguments::filename, name);
  REQUIRE(o.size() == 1);
  REQUIRE(o[0].args.filename.resolved);
  CHECK(o[0].args.filename.resolved->path == std::string(truth->first) + "/" + name);
  const auto m = with_argument(mkdirs, &syscalls::mkdir::arguments::pathname, sub);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].args.pathname.resolved);
  CHECK(m[0].args.pathname.resolved->path == std::string(truth->first) + "/" + sub);
}

TEST_CASE("an absolute path is not walked; a deleted cwd says so", "[paths]") {
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  scratch_dir dir;
  const auto absolute = (dir.path / ("abs-" + random_name())).string();
  const auto gone = dir.path / ("gone-" + random_name());
  const auto name = "after-" + random_name();
  child_process child([&] {
    if (::openat(AT_FDCWD, absolute.c_str(), O_RDWR | O_CREAT, 0600) < 0) return 1;
    if (::mkdir(gone.c_str(), 0700) != 0 || ::chdir(gone.c_str()) != 0 || ::rmdir(gone.c_str()) != 0) return 2;
    return ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) < 0 ? 0 : 3;  // ENOENT
  });
  REQUIRE(s.run(child) == 0);
  const auto a = with_argument(opens, &syscalls::openat::arguments::filename, absolute);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].args.filename.resolved);
  CHECK(a[0].args.filename.resolved->state == path_base_state::absolute);
  CHECK(a[0].args.filename.resolved->path == absolute);
  CHECK(a[0].args.filename.resolved->directory.empty());
  const auto d = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(d.size() == 1);
  REQUIRE(d[0].args.filename.resolved);
  CHECK(d[0].args.filename.resolved->state == path_base_state::deleted);
  CHECK(d[0].args.filename.resolved->path.empty());
  CHECK(d[0].header.exit_code == -ENOENT);
}

TEST_CASE("the programs of every syscall load with paths resolved and fd identities on", "[paths][every_syscall]") {
  // Each syscall its own programs on its own tracepoints (dispatch mode shares them by shape).
  ebpfpub::tracer_options o = resolving();
  o.capture.fd_identity = true;
  o.attach = ebpfpub::attach_mode::tracepoints;
  auto tracer = ebpfpub::tracer::create(std::move(o));
  REQUIRE(tracer);
  auto names = tracer->available_syscalls();
  REQUIRE(names);
  for (const auto& name : *names) REQUIRE(tracer->trace(name, [](const ebpfpub::dynamic_event&) {}));
  const auto walked = std::count_if(tracer->plans().begin(), tracer->plans().end(), [](const ebpfpub::plan& p) {
    return std::any_of(p.captures.begin(), p.captures.end(),
                       [](const ebpfpub::capture& c) { return c.op == ebpfpub::capture_op::base_directory; });
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto started = tracer->start();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  if (!started) FAIL(started.error().what());
  CHECK(started->programs == 2 * names->size() - 2);  // exit and exit_group: enter only
  fmt::print("all {} syscalls ({} with a path resolved), paths and fd identities on: {} programs "
             "generated in {:.0f} ms, loaded in {:.0f} ms; {:.0f} ms in all\n",
             names->size(), walked, started->programs,
             std::chrono::duration<double, std::milli>(started->generate).count(),
             std::chrono::duration<double, std::milli>(started->load).count(),
             std::chrono::duration<double, std::milli>(elapsed).count());
  CHECK(walked >= 40);
  tracer->stop();
}

TEST_CASE("with fd identities, a relative open's fd is known by the path it resolved to, after a chdir", "[paths]") {
  ebpfpub::tracer_options o = resolving();
  o.capture.fd_identity = true;
  child_session s(o);
  auto& opens = s.trace<syscalls::openat>();  // the cache learns from the opens it sees
  const long marker = ebpfpub::test::random_marker();
  std::optional<ebpfpub::fd> probed;
  REQUIRE(s.get().trace("fcntl", [&](const ebpfpub::dynamic_event& e) {
    const auto* m = std::get_if<std::uint64_t>(&e.args[2].value);
    const auto* f = std::get_if<ebpfpub::fd>(&e.args[0].value);
    if (m && f && static_cast<long>(*m) == marker) probed = *f;
  }));
  scratch_dir a, b;
  const auto name = "known-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chdir(a.path.c_str()) != 0 || !::getcwd(truth->first, sizeof truth->first)) return 1;
    const int fd = ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600);
    // The cwd moves on: only the path resolved at the open still says where the file is.
    if (fd < 0 || ::chdir(b.path.c_str()) != 0) return 2;
    ebpfpub::test::probe_fd(fd, marker);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  REQUIRE(with_argument(opens, &syscalls::openat::arguments::filename, name).size() == 1);
  REQUIRE(probed);
  REQUIRE(probed->identity);
  REQUIRE(probed->identity->path);
  CHECK(probed->identity->path->path == std::string(truth->first) + "/" + name);
  CHECK(probed->identity->path->origin == ebpfpub::path_origin::traced_open);
  CHECK_FALSE(probed->identity->path->stale);
}

TEST_CASE("a chrooted caller's relative path resolves in its own view, as its getcwd() says", "[paths]") {
  scratch_dir dir;
  std::filesystem::create_directory(dir.path / "sub");
  child_session s(resolving());
  auto& opens = s.trace<syscalls::openat>();
  const auto name = "c-" + random_name();
  shared<cwd_truth> truth;
  child_process child([&] {
    if (::chroot(dir.path.c_str()) != 0 || ::chdir("/sub") != 0) return 1;
    if (!::getcwd(truth->first, sizeof truth->first)) return 2;
    return ::openat(AT_FDCWD, name.c_str(), O_RDWR | O_CREAT, 0600) >= 0 ? 0 : 3;
  });
  REQUIRE(s.run(child) == 0);
  CHECK(std::string(truth->first) == "/sub");
  const auto mine = with_argument(opens, &syscalls::openat::arguments::filename, name);
  REQUIRE(mine.size() == 1);
  REQUIRE(mine[0].args.filename.resolved);
  CHECK(mine[0].args.filename.resolved->state == path_base_state::resolved);
  CHECK(mine[0].args.filename.resolved->path == "/sub/" + name);
}
