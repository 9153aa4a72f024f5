// Filters on an fd's full path (`read.fd.path`): the program walks the file's dentries up
// to the caller's root when the filter asks. A child opens files (on the disk, on a tmpfs
// the test mounts, through a chdir and a relative path, in a directory renamed after the
// open, one unlinked), a pipe, a socket and the root, and reads each fd once, with the
// fd's index as the count; exactly the calls whose path matches arrive, the rest are
// counted filtered. The child checks every path against readlink(/proc/self/fd/N).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "support/filtered_run.hpp"

namespace sys = ebpfpub::syscalls;
namespace fs = std::filesystem;
using ebpfpub::test::run_filtered;
using ebpfpub::test::scratch_dir;

namespace {

// What /proc/self/fd/N says of `fd`, or "!" and the errno.
std::string proc_path(int fd, int proc_fd = AT_FDCWD) {
  char buffer[8192];
  const auto name = proc_fd == AT_FDCWD ? fmt::format("/proc/self/fd/{}", fd) : std::to_string(fd);
  const auto n = ::readlinkat(proc_fd, name.c_str(), buffer, sizeof buffer);
  if (n < 0) return fmt::format("!{}", errno);
  return std::string(buffer, static_cast<std::size_t>(n));
}

// Reads each fd once, `count` its index + 1, so each event says which fd it was.
void read_each(const std::vector<int>& fds) {
  char buffer[64];
  for (std::size_t i = 0; i < fds.size(); ++i) ::syscall(SYS_read, fds[i], buffer, i + 1);
}

template <typename Run>
std::vector<std::size_t> indices_of(const Run& run) {
  std::vector<std::size_t> seen;
  for (const auto& e : run.events) seen.push_back(e.args.count - 1);
  return seen;
}

ebpfpub::tracer_options with_fd_identity() {
  ebpfpub::tracer_options options;
  options.capture.fd_identity = true;
  return options;
}

// A tmpfs mounted for the tests that need a path across a mount; unmounted at the end.
struct tmpfs_mount {
  fs::path path;
  explicit tmpfs_mount(fs::path p) : path(std::move(p)) {
    fs::create_directory(path);
    REQUIRE(::mount("ebpfpub-test", path.c_str(), "tmpfs", 0, "size=1m") == 0);
  }
  ~tmpfs_mount() { ::umount2(path.c_str(), MNT_DETACH); }
};

// The files of the first test, made again before each run (the child renames and unlinks).
struct path_tree {
  scratch_dir dir;
  fs::path run = dir.path / "run";
  tmpfs_mount mnt{dir.path / "mnt"};

  void reset() const {
    fs::remove_all(run);
    fs::create_directories(run / "a");
    fs::create_directories(run / "rel" / "sub");
    fs::create_directories(run / "old");
    for (const auto& f : {run / "a" / "file.log", run / "rel" / "sub" / "x.conf", run / "old" / "moved.txt",
                          run / "gone.txt", mnt.path / "inside.txt"})
      std::ofstream(f) << "x";
  }
};

constexpr std::size_t fd_count = 10;

// The child: the fds in index order, each checked against what /proc shows; 0 when all
// agree, 10 + the index of the first that does not.
int open_and_read(const path_tree& t) {
  const auto run = t.run.string();
  std::vector<int> fds;
  fds.push_back(::open((t.run / "a" / "file.log").c_str(), O_RDONLY));        // 0
  fds.push_back(::open((t.mnt.path / "inside.txt").c_str(), O_RDONLY));       // 1: on the tmpfs
  if (::chdir((t.run / "rel").c_str()) != 0) return 2;
  fds.push_back(::open("sub/x.conf", O_RDONLY));                              // 2: relative
  fds.push_back(::open((t.run / "old" / "moved.txt").c_str(), O_RDONLY));     // 3: renamed below
  if (::rename((t.run / "old").c_str(), (t.run / "new").c_str()) != 0) return 3;
  fds.push_back(::open((t.run / "gone.txt").c_str(), O_RDONLY));              // 4: unlinked below
  if (::unlink((t.run / "gone.txt").c_str()) != 0) return 4;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_NONBLOCK) != 0) return 5;
  fds.push_back(pipe_fds[0]);                                                 // 5: a pipe
  fds.push_back(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));            // 6: a socket
  fds.push_back(-1);                                                          // 7: no fd
  fds.push_back(::open(run.c_str(), O_RDONLY | O_DIRECTORY));                 // 8: a directory
  fds.push_back(::open("/", O_RDONLY | O_DIRECTORY));                         // 9: the root
  const std::vector<std::string> expected = {
      run + "/a/file.log", t.mnt.path.string() + "/inside.txt", run + "/rel/sub/x.conf",
      run + "/new/moved.txt", run + "/gone.txt (deleted)", "pipe:[", "socket:[", fmt::format("!{}", ENOENT), run, "/"};
  for (std::size_t i = 0; i < fd_count; ++i) {
    const auto seen = proc_path(fds[i]);
    const bool made_up = i == 5 || i == 6;  // pipe:[ino], socket:[ino]: names, not paths
    if (made_up ? !seen.starts_with(expected[i]) : seen != expected[i]) return static_cast<int>(10 + i);
  }
  read_each(fds);
  return 0;
}

}  // namespace

TEST_CASE("a filter on an fd's path passes exactly the calls on the files at that path") {
  static path_tree t;
  const auto run = t.run.string();
  const auto mnt = t.mnt.path.string();
  std::string suffixes = "{\".conf\"";
  for (int i = 0; i < 17; ++i) suffixes += fmt::format(", \".other-{}\"", i);
  std::string paths = fmt::format("{{\"{}/a/file.log\"", run);
  for (int i = 0; i < 17; ++i) paths += fmt::format(", \"{}/other-{}\"", run, i);
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {fmt::format("read.fd.path == \"{}/a/file.log\"", run), {0}},
      {fmt::format("read.fd.path startswith \"{}/\"", run), {0, 2, 3, 4}},
      {fmt::format("read.fd.path startswith \"{}/\"", mnt), {1}},
      {fmt::format("read.fd.path == \"{}/inside.txt\"", mnt), {1}},
      {"read.fd.path endswith \"/rel/sub/x.conf\"", {2}},
      {fmt::format("read.fd.path == \"{}/new/moved.txt\"", run), {3}},
      {"read.fd.path contains \"/old/\"", {}},
      {fmt::format("read.fd.path == \"{}/gone.txt (deleted)\"", run), {4}},
      {fmt::format("read.fd.path == \"{}/gone.txt\"", run), {}},
      {fmt::format("read.fd.path == \"{}\"", run), {8}},
      {"read.fd.path == \"/\"", {9}},
      // No path (the pipe, the socket) equals no constant; no fd (-1) passes no test.
      {fmt::format("read.fd.path != \"{}/a/file.log\"", run), {1, 2, 3, 4, 5, 6, 8, 9}},
      {"not read.fd.path startswith \"/\"", {5, 6, 7}},
      {fmt::format("read.fd.path in {{\"{}/a/file.log\", \"{}\"}}", run, run), {0, 8}},
      {fmt::format("read.fd.path startswith {{\"{}/\", \"{}/rel/\"}}", mnt, run), {1, 2}},
      {"read.fd.kind == regular and read.fd.path endswith \".txt\"", {1, 3}},
      {"read.fd.path contains \"rel/sub\" or read.fd.kind == pipe", {2, 5}},
      // More than 16: a map lookup.
      {"read.fd.path endswith " + suffixes + "}", {2}},
      {"read.fd.path in " + paths + "}", {0}},
  }));
  INFO(filter);
  t.reset();
  const auto result = run_filtered<sys::read>({filter}, fd_count, [] { return open_and_read(t); }, with_fd_identity());
  CHECK(indices_of(result) == expected);
  CHECK(result.stats.events == expected.size());
  CHECK(result.stats.filtered == fd_count - expected.size());
  CHECK(result.stats.lost() == 0);
}

namespace {

// A file whose path is exactly filter::max_path_bytes long, one a byte longer, and one
// short in bytes but 170 components deep (past the walk's 160 steps). Made through
// directory fds: a path this long cannot be named whole.
struct deep_tree {
  scratch_dir dir;
  std::string component = std::string(200, 'd');
  std::string at_bound, past_bound;  // file names in the deep directory
  std::string deep_path;             // the deep directory's path
  int deep = -1, many = -1;          // directory fds

  deep_tree() {
    deep_path = dir.path.string();
    deep = ::open(deep_path.c_str(), O_RDONLY | O_DIRECTORY);
    const auto bound = ebpfpub::filter::max_path_bytes;
    while (deep_path.size() + 1 + component.size() + 1 + 2 < bound) {
      REQUIRE(::mkdirat(deep, component.c_str(), 0755) == 0);
      const int next = ::openat(deep, component.c_str(), O_RDONLY | O_DIRECTORY);
      ::close(deep);
      deep = next;
      deep_path += "/" + component;
    }
    at_bound = std::string(bound - deep_path.size() - 1, 'f');
    past_bound = at_bound + "g";
    for (const auto& name : {at_bound, past_bound}) ::close(::openat(deep, name.c_str(), O_CREAT | O_WRONLY, 0644));
    many = ::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 170; ++i) {
      REQUIRE(::mkdirat(many, "a", 0755) == 0);
      const int next = ::openat(many, "a", O_RDONLY | O_DIRECTORY);
      ::close(many);
      many = next;
    }
    ::close(::openat(many, "f", O_CREAT | O_WRONLY, 0644));
  }
  ~deep_tree() {
    ::close(deep);
    ::close(many);
  }
};

}  // namespace

TEST_CASE("a path at the bound compares, and one byte or one step past it equals no constant") {
  static deep_tree t;
  const auto root = t.dir.path.string();
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {fmt::format("read.fd.path startswith \"{}/{}\"", root, t.component.substr(0, 60)), {0}},
      {fmt::format("read.fd.path endswith \"{}\"", t.at_bound.substr(0, 100)), {0}},
      {fmt::format("read.fd.path startswith \"{}/\"", root), {0}},
      {"read.fd.path != \"/\"", {0, 1, 2}},
      {fmt::format("read.fd.path endswith \"{}g\"", t.at_bound.substr(0, 100)), {}},
  }));
  INFO(filter);
  const auto result = run_filtered<sys::read>({filter}, 3, [] {
    const std::vector<int> fds = {::openat(t.deep, t.at_bound.c_str(), O_RDONLY),
                                  ::openat(t.deep, t.past_bound.c_str(), O_RDONLY), ::openat(t.many, "f", O_RDONLY)};
    // What the filter compares is what /proc shows: the whole path at the bound, and
    // ENAMETOOLONG one byte past it.
    if (proc_path(fds[0]) != t.deep_path + "/" + t.at_bound) return 10;
    if (proc_path(fds[0]).size() != ebpfpub::filter::max_path_bytes) return 11;
    if (proc_path(fds[1]) != fmt::format("!{}", ENAMETOOLONG)) return 12;
    read_each(fds);
    return 0;
  }, with_fd_identity());
  CHECK(indices_of(result) == expected);
  CHECK(result.stats.filtered == 3 - expected.size());
  CHECK(result.stats.lost() == 0);
}

TEST_CASE("a chrooted caller's fd paths are relative to its root, as /proc shows them") {
  static scratch_dir dir;
  static const auto jail = dir.path / "jail";
  static const auto outside = dir.path / "out.txt";
  fs::create_directories(jail / "in");
  for (const auto& f : {jail / "in" / "f.txt", jail / "in" / "g.txt", outside}) std::ofstream(f) << "x";
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {"read.fd.path == \"/in/f.txt\"", {0}},
      {"read.fd.path startswith \"/in/\"", {0, 1}},
      // Outside the root: its path from the namespace's root, as d_path gives it.
      {fmt::format("read.fd.path == \"{}\"", outside.string()), {2}},
      {fmt::format("read.fd.path startswith \"{}\"", jail.string()), {}},
  }));
  INFO(filter);
  const auto result = run_filtered<sys::read>({filter}, 3, [] {
    std::vector<int> fds = {::open((jail / "in" / "f.txt").c_str(), O_RDONLY), -1,
                            ::open(outside.c_str(), O_RDONLY)};
    const int proc = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    if (::chroot(jail.c_str()) != 0 || ::chdir("/") != 0) return 2;
    fds[1] = ::open("/in/g.txt", O_RDONLY);
    if (proc_path(fds[0], proc) != "/in/f.txt") return 10;
    if (proc_path(fds[1], proc) != "/in/g.txt") return 11;
    if (proc_path(fds[2], proc) != outside.string()) return 12;
    read_each(fds);
    return 0;
  }, with_fd_identity());
  CHECK(indices_of(result) == expected);
  CHECK(result.stats.filtered == 3 - expected.size());
  CHECK(result.stats.lost() == 0);
}

TEST_CASE("a path filter on what is not an fd with an identity points at the field") {
  const auto [filter, fd_identity, message] = GENERATE(table<std::string, bool, std::string>({
      {"read.fd.path == \"/\"", false,
       "read.fd.path is a field of the fd's identity, which this plan does not read: set plan_options::fd_identity"},
      {"read.count.path == \"/\"", true, "read.count is a number: it has no member path"},
      {"read.buf.path == \"/\"", true, "read.buf (user_buffer) cannot be filtered on"},
      {"read.fd.path < 3", true, "fd is a string: this comparison does not apply to it"},
      {"read.fd.path == 3", true, "fd is a string: compare it with a \"string\""},
      {fmt::format("read.fd.path startswith \"{}\"", std::string(129, 'x')), true,
       "the string is 129 bytes; a filter compares at most 128"},
  }));
  INFO(filter);
  ebpfpub::tracer_options options;
  options.capture.fd_identity = fd_identity;
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  REQUIRE(t->trace<sys::read>([](const auto&) {}));
  auto added = t->add_filter(filter);
  REQUIRE_FALSE(added);
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains(message));
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains("^"));
}

TEST_CASE("memory_usage gives the path scratch's bytes per thread only when a filter tests a path") {
  ebpfpub::tracer_options options;
  options.capture.fd_identity = true;
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  REQUIRE(t->trace<sys::read>([](const auto&) {}));
  REQUIRE(t->add_filter("read.fd.kind == socket"));
  CHECK(t->memory().path_scratch_bytes == 0);
  REQUIRE(t->add_filter("read.fd.path != \"/\""));
  // Known before start() and after it (the map is made then), never in the total: it is
  // allocated per thread, on demand.
  const auto before = t->memory();
  CHECK(before.path_scratch_bytes == 8448);
  REQUIRE(t->start());
  const auto after = t->memory();
  CHECK(after.path_scratch_bytes == 8448);
  CHECK(after.total() == after.event_map_bytes + after.output_bytes + after.counters_bytes + after.summary_bytes +
                             after.filter_set_bytes);
  t->stop();
}
