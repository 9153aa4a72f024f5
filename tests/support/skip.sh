# Sourced by the shell tests: skip_test REASON exits 77 (ctest's skip), or 1 when
# EBPFPUB_REQUIRE_KERNEL_TESTS=1 (CI runs as root on a machine with BPF: a skip there
# means a broken environment, and must not pass as green).
skip_test() {
  if [ "${EBPFPUB_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then
    echo "FAILED: $* (EBPFPUB_REQUIRE_KERNEL_TESTS is set: a skip is a failure)" >&2
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}
