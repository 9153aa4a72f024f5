#pragma once
// What kernel tests need from the machine, and helpers they share.

#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

#include <ebpfpub/tracefs.hpp>

namespace ebpfpub::test {

/// Empty when kernel tests can run here; otherwise why not.
inline std::string kernel_unavailable_reason() {
  if (::geteuid() != 0) return "kernel tests need root (run ctest as root)";
  auto fs = tracefs::open();
  if (!fs) return "kernel tests need tracefs: " + fs.error().what();
  auto names = fs->syscall_names();
  if (!names || names->empty()) return "kernel tests need syscall tracepoints (CONFIG_FTRACE_SYSCALLS)";
  return {};
}

/// True when EBPFPUB_REQUIRE_KERNEL_TESTS=1: a kernel test that cannot run fails instead
/// of reporting a skip (CI sets it).
inline bool kernel_tests_required() {
  const char* v = std::getenv("EBPFPUB_REQUIRE_KERNEL_TESTS");
  return v != nullptr && std::string_view(v) == "1";
}

inline tracefs live_tracefs() {
  auto fs = tracefs::open();
  if (!fs) throw std::runtime_error(fs.error().what());
  return *fs;
}

}  // namespace ebpfpub::test
