// Catch2 runner. Kernel test binaries first check that this machine can run them (root,
// tracefs, BPF); when it cannot, they say why and exit 77 so ctest reports a skip.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "support/kernel.hpp"

int main(int argc, char** argv) {
#ifdef EBPFPUB_KERNEL_TEST
  if (const auto reason = ebpfpub::test::kernel_unavailable_reason(); !reason.empty()) {
    std::fprintf(stderr, "SKIPPED: %s\n", reason.c_str());
    return 77;
  }
#endif
  return Catch::Session().run(argc, argv);
}
