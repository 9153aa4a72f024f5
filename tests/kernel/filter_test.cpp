// In-kernel filters: by process (and children), user, command name and result.
#include <catch2/catch.hpp>

#include <filesystem>

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <sys/wait.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;
using ebpfpub::test::random_name;

namespace {

// Runs children that each mkdir a path, under a tracer with `filter`; returns the paths
// the tracer saw, in order.
std::vector<std::string> mkdirs_seen(ebpfpub::filter_options filter,
                                     std::vector<std::unique_ptr<child_process>>& children,
                                     const std::function<void(ebpfpub::tracer&)>& after_start = {}) {
  ebpfpub::tracer_options options;
  options.filter = std::move(filter);
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<std::string> seen;
  REQUIRE(tracer->trace<sys::mkdir>([&](const auto& e) { seen.push_back(e.args.pathname.value); }));
  REQUIRE(tracer->start());
  if (after_start) after_start(*tracer);
  for (auto& c : children) {
    c->go();
    CHECK(c->wait() == 0);
  }
  for (int i = 0; i < 5; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  return seen;
}

}  // namespace

TEST_CASE("a user id filter drops another user's calls in the kernel") {
  ebpfpub::test::scratch_dir dir;
  const auto mine = (dir.path / random_name()).string();
  const auto theirs = (dir.path / random_name()).string();
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(std::make_unique<child_process>([&] {
    if (::setresuid(4343, 4343, 4343) != 0) return 10;
    return ::syscall(SYS_mkdir, mine.c_str(), 0700) == 0 ? 0 : 11;
  }));
  children.push_back(std::make_unique<child_process>([&] {
    return ::syscall(SYS_mkdir, theirs.c_str(), 0700) == 0 ? 0 : 11;
  }));
  ebpfpub::filter_options filter;
  filter.user_ids = {4343};
  CHECK(mkdirs_seen(filter, children) == std::vector<std::string>{mine});
}

TEST_CASE("a process filter follows children and ignores everyone else") {
  ebpfpub::test::scratch_dir dir;
  const auto parent_path = (dir.path / random_name()).string();
  const auto child_path = (dir.path / random_name()).string();
  const auto other_path = (dir.path / random_name()).string();
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(std::make_unique<child_process>([&] {
    ::syscall(SYS_mkdir, parent_path.c_str(), 0700);
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(::syscall(SYS_mkdir, child_path.c_str(), 0700) == 0 ? 0 : 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WEXITSTATUS(status);
  }));
  children.push_back(std::make_unique<child_process>([&] {
    return ::syscall(SYS_mkdir, other_path.c_str(), 0700) == 0 ? 0 : 11;
  }));
  ebpfpub::filter_options filter;
  filter.process_ids = {static_cast<std::uint32_t>(children[0]->pid())};
  filter.follow_children = GENERATE(true, false);
  INFO("follow_children " << filter.follow_children);
  // Without following, the forked child's mkdir is dropped (and no fork tracking is loaded).
  const auto want = filter.follow_children ? std::vector<std::string>{parent_path, child_path}
                                           : std::vector<std::string>{parent_path};
  CHECK(mkdirs_seen(filter, children) == want);
}

TEST_CASE("a command-name filter keeps only threads of that name") {
  ebpfpub::test::scratch_dir dir;
  const auto named = (dir.path / random_name()).string();
  const auto other = (dir.path / random_name()).string();
  const auto comm = "eb" + random_name(10);
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(std::make_unique<child_process>([&] {
    ::prctl(PR_SET_NAME, comm.c_str());
    return ::syscall(SYS_mkdir, named.c_str(), 0700) == 0 ? 0 : 11;
  }));
  children.push_back(std::make_unique<child_process>([&] {
    return ::syscall(SYS_mkdir, other.c_str(), 0700) == 0 ? 0 : 11;
  }));
  ebpfpub::filter_options filter;
  filter.commands = {comm};
  CHECK(mkdirs_seen(filter, children) == std::vector<std::string>{named});
}

TEST_CASE("result filters keep only failed or only successful calls") {
  // Two paths, so the two filters must keep different calls: one mkdir succeeds, the
  // other fails with EEXIST on a directory made beforehand.
  ebpfpub::test::scratch_dir dir;
  const auto made = (dir.path / random_name()).string();
  const auto existing = (dir.path / random_name()).string();
  std::filesystem::create_directory(existing);
  const auto want = GENERATE(ebpfpub::result_filter::failed, ebpfpub::result_filter::succeeded);
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(std::make_unique<child_process>([&] {
    if (::syscall(SYS_mkdir, made.c_str(), 0700) != 0) return 1;      // succeeds
    if (::syscall(SYS_mkdir, existing.c_str(), 0700) != -1) return 2;  // EEXIST
    return 0;
  }));
  ebpfpub::filter_options filter;
  filter.process_ids = {static_cast<std::uint32_t>(children[0]->pid())};
  filter.result = want;
  const auto seen = mkdirs_seen(filter, children);
  const auto expected = want == ebpfpub::result_filter::failed ? existing : made;
  CHECK(seen == std::vector<std::string>{expected});
}
