// Serializers ebpfpub does not ship (serializers.hpp): prlimit64's limits and
// newfstatat's stat buffer, declared by their argument types. docs/custom-serializers.md
// walks through them.
//
//   trace_limits              print every prlimit64 and newfstatat on the system until Ctrl-C
//   trace_limits --self-test  make known calls in a child and check what was traced

#include <atomic>
#include <csignal>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "serializers.hpp"

namespace {

std::atomic<bool> stop{false};

// The child's calls: set RLIMIT_NOFILE to 512/1024, then to 256/1024 reading the old one,
// then read it with a NULL new limit; stat "/" (whose inode number the parent knows).
int known_calls() {
  const ::rlimit64 first{512, 1024}, second{256, 1024};
  ::rlimit64 old{};
  struct ::stat st {};
  const bool ok = ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &first, nullptr) == 0 &&
                  ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &second, &old) == 0 &&
                  ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &old) == 0 &&
                  ::syscall(SYS_newfstatat, AT_FDCWD, "/", &st, 0) == 0;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool self_test = argc > 1 && std::string_view(argv[1]) == "--self-test";
  auto tracer = ebpfpub::tracer::create();
  if (!tracer) {
    fmt::print(stderr, "trace_limits: {}\n", tracer.error().what());
    return 1;
  }

  pid_t child = 0;
  int checks = 0;  // self-test: the calls traced with the values made
  auto limits = tracer->trace<sys::prlimit64>([&](const ebpfpub::event<sys::prlimit64>& e) {
    if (self_test && e.header.process_id != static_cast<std::uint32_t>(child)) return;
    const auto& a = e.args;
    auto limit = [](const auto& l) {  // NULL: the caller did not set (or read) this one
      return l.has_value() ? fmt::format("{}/{}", l->rlim_cur, l->rlim_max) : std::string("-");
    };
    fmt::print("process {} prlimit64 resource {}: new {}, old {} -> {}{}\n", e.header.process_id,
               a.resource, limit(a.new_rlim), limit(a.old_rlim), e.header.exit_code,
               e.header.probe_error ? " (probe error)" : "");
    if (!e.header.probe_error && a.new_rlim.has_value() == a.new_rlim.provided() &&
        a.old_rlim.has_value() == a.old_rlim.provided())
      checks += a.old_rlim.provided() && a.old_rlim->rlim_cur == (a.new_rlim.provided() ? 512 : 256);
  });
  auto stats = tracer->trace<sys::newfstatat>([&](const ebpfpub::event<sys::newfstatat>& e) {
    if (self_test && e.header.process_id != static_cast<std::uint32_t>(child)) return;
    fmt::print("process {} stat {}: inode {}, mode {:o}, size {} -> {}\n", e.header.process_id,
               e.args.filename.value, e.args.statbuf->st_ino, e.args.statbuf->st_mode,
               e.args.statbuf->st_size, e.header.exit_code);
    struct ::stat root {};
    checks += e.args.filename.value == "/" && ::stat("/", &root) == 0 &&
              e.args.statbuf->st_ino == root.st_ino;
  });
  if (!limits || !stats) {
    fmt::print(stderr, "trace_limits: {}\n", (!limits ? limits : stats).error().what());
    return 1;
  }
  if (auto started = tracer->start(); !started) {
    fmt::print(stderr, "trace_limits: {}\n", started.error().what());
    return 1;
  }

  if (!self_test) {
    std::signal(SIGINT, [](int) { stop = true; });
    return tracer->run_until(stop) ? 0 : 1;
  }

  child = ::fork();
  if (child == 0) ::_exit(known_calls());
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int i = 0; i < 20 && checks < 3; ++i) (void)tracer->poll(std::chrono::milliseconds(50));
  const bool passed = checks == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  fmt::print("{}\n", passed ? "self-test passed" : "self-test FAILED");
  return passed ? 0 : 1;
}
