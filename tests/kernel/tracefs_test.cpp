#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ebpfpub/signature.hpp>

#include "support/kernel.hpp"

using ebpfpub::tracefs;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ebpfpub-test-XXXXXX").string();
    path = ::mkdtemp(templ.data());
  }
  ~temp_dir() {
    ::umount2(path.c_str(), MNT_DETACH);
    std::filesystem::remove_all(path);
  }
};

// Runs `body` in a child process with a private mount namespace, so it can unmount
// tracefs without touching the rest of the machine. Returns the child's exit code.
template <typename F>
int in_private_mount_namespace(F body) {
  const pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(100);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(101);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("tracefs is found where the kernel mounted it") {
  auto fs = tracefs::open();
  REQUIRE(fs);
  CHECK((fs->root() == "/sys/kernel/tracing" || fs->root() == "/sys/kernel/debug/tracing"));
}

TEST_CASE("tracefs is mounted when absent, as on a fresh machine") {
  // Unmount every tracefs the namespace sees, then open() must mount it again.
  const int code = in_private_mount_namespace([] {
    ::umount2("/sys/kernel/debug/tracing", MNT_DETACH);
    ::umount2("/sys/kernel/tracing", MNT_DETACH);
    if (tracefs::open({.candidates = {"/sys/kernel/tracing"}, .allow_mount = false})) return 2;
    auto fs = tracefs::open();
    if (!fs) return 3;
    if (!fs->mounted_here() || fs->root() != "/sys/kernel/tracing") return 4;
    auto names = fs->syscall_names();
    return names && !names->empty() ? 0 : 5;
  });
  CHECK(code == 0);
}

TEST_CASE("tracefs discovery mounts on the first candidate and explains what to run otherwise") {
  temp_dir dir;
  SECTION("not allowed to mount: the error names the command") {
    auto fs = tracefs::open({.candidates = {dir.path.string()}, .allow_mount = false});
    REQUIRE_FALSE(fs);
    CHECK(fs.error().code() == ebpfpub::errc::not_found);
    CHECK(fs.error().message() ==
          "tracefs is not mounted at " + dir.path.string() +
              "; mount it as root with `mount -t tracefs nodev " + dir.path.string() + "`");
  }
  SECTION("allowed: it mounts and lists syscalls") {
    auto fs = tracefs::open({.candidates = {dir.path.string()}, .allow_mount = true});
    REQUIRE(fs);
    CHECK(fs->mounted_here());
    CHECK(fs->root() == dir.path.string());
    auto names = fs->syscall_names();
    REQUIRE(names);
    CHECK(std::find(names->begin(), names->end(), "openat") != names->end());
  }
  SECTION("a mount point that does not exist") {
    auto fs = tracefs::open({.candidates = {(dir.path / "missing").string()}});
    REQUIRE_FALSE(fs);
    CHECK(fs.error().code() == ebpfpub::errc::unsupported);
  }
  SECTION("no permission to mount") {
    // Without CAP_SYS_ADMIN the mount fails; the message says to run as root.
    const int code = in_private_mount_namespace([&] {
      if (::setresuid(65534, 65534, 65534) != 0) return 10;
      auto fs = tracefs::open({.candidates = {dir.path.string()}});
      if (fs) return 11;
      if (fs.error().code() != ebpfpub::errc::permission_denied) return 12;
      return fs.error().message().find("run as root") != std::string::npos ? 0 : 13;
    });
    CHECK(code == 0);
  }
}

TEST_CASE("an unknown syscall's error suggests the closest names") {
  const auto fs = ebpfpub::test::live_tracefs();
  auto format = fs.syscall_format("opnat", ebpfpub::syscall_phase::enter);
  REQUIRE_FALSE(format);
  CHECK(format.error().code() == ebpfpub::errc::not_found);
  CHECK(format.error().message().find("did you mean openat") != std::string::npos);
}

TEST_CASE("every syscall format of the running kernel parses, in order, with C-sized fields") {
  const auto fs = ebpfpub::test::live_tracefs();
  auto names = fs.syscall_names();
  REQUIRE(names);
  CHECK(names->size() > 300);

  // The common fields and the sizes of their C types.
  const std::map<std::string, std::uint32_t> c_sizes{{"unsigned short", 2}, {"unsigned char", 1},
                                                     {"int", 4}, {"long", 8}};
  std::size_t formats = 0;
  for (const auto& name : *names) {
    for (auto phase : {ebpfpub::syscall_phase::enter, ebpfpub::syscall_phase::exit}) {
      auto format = fs.syscall_format(name, phase);
      INFO(name);
      REQUIRE(format);
      ++formats;
      CHECK(format->id > 0);
      for (std::size_t i = 1; i < format->fields.size(); ++i)
        CHECK(format->fields[i].offset > format->fields[i - 1].offset);
      for (const auto& field : format->fields) {
        if (field.name.starts_with("common_") || field.name == "__syscall_nr" ||
            field.name == "ret") {
          REQUIRE(c_sizes.count(field.type) == 1);
          CHECK(field.size == c_sizes.at(field.type));
        } else {
          // Syscall arguments travel in 8-byte slots at least as wide as their C type.
          CHECK(field.size == 8);
          CHECK(ebpfpub::classify_argument(field.type, field.name).width <= field.size);
        }
      }
      CHECK(format->payload().size() <= 6);
    }
  }
  CHECK(formats == 2 * names->size());
}
