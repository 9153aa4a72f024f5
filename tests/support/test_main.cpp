// Catch2 runner. Kernel test binaries first check that this machine can run them (root,
// tracefs, BPF); when it cannot, they say why and exit 77 so ctest reports a skip.
// With EBPFPUB_REQUIRE_KERNEL_TESTS=1 (CI sets it: it runs as root on a machine with BPF)
// a skip is a failure, so a broken environment cannot pass as a green run.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "support/kernel.hpp"

int main(int argc, char** argv) {
#ifdef EBPFPUB_KERNEL_TEST
  if (const auto reason = ebpfpub::test::kernel_unavailable_reason(); !reason.empty()) {
    if (ebpfpub::test::kernel_tests_required()) {
      std::fprintf(stderr, "FAILED: %s (EBPFPUB_REQUIRE_KERNEL_TESTS is set: a skip is a failure)\n",
                   reason.c_str());
      return 1;
    }
    std::fprintf(stderr, "SKIPPED: %s\n", reason.c_str());
    return 77;
  }
#endif
  return Catch::Session().run(argc, argv);
}
