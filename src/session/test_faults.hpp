#pragma once
// Test-only fault injection, so tests can prove that a start() which fails half-way
// leaves nothing behind. Read from the environment by the session alone:
//
//   EBPFPUB_TEST_FAIL=map:N      the N-th map the session creates is one the kernel rejects
//   EBPFPUB_TEST_FAIL=program:N  the N-th program loaded is one the verifier rejects
//   EBPFPUB_TEST_FAIL=attach:N   the N-th attachment goes to a tracepoint that does not exist
//
// N counts from 1 within one start() (or prepare()). Unset, or anything else, injects
// nothing. Every failure comes from the kernel itself, through the same error paths a
// real one takes; only the object asked for is wrong.
//
// And, so that the whole kernel suite runs in each attach mode:
//
//   EBPFPUB_TEST_ATTACH=dispatch|tracepoints  what attach_mode::automatic resolves to
//
// And, so that the fd identity, process context and dispatch suites also run the reads
// an older kernel gets (this one takes the typed loads):
//
//   EBPFPUB_TEST_READS=helpers  no bpf_rdonly_cast and no inline dentry names: the
//                               programs read from fd[fd] on, and every name, by helper;
//                               and dispatch mode's programs are raw tracepoint ones,
//                               reading the registers and the thread's status by helper
//                               (as where the kernel refuses them as tp_btf programs)

#include <cstdint>
#include <string_view>
#include <vector>

#include <linux/bpf.h>

#include <ebpfpub/error.hpp>
#include <ebpfpub/tracer.hpp>

#include "kernel/kernel.hpp"

namespace ebpfpub::detail {

class injected_faults {
 public:
  enum class kind : std::uint8_t { none, map, program, attach };

  /// What EBPFPUB_TEST_FAIL asks for, counted from now.
  static injected_faults from_environment();

  /// Whether the next object of `k` is the one to fail (and counts it).
  bool fail_next(kind k);

  /// A map creation the kernel refuses (an array with 0-byte values), named `name`.
  static expected<map> rejected_map(std::string_view name);
  /// A program the verifier refuses: it reads above its stack frame.
  static const std::vector<bpf_insn>& rejected_program();
  /// A tracepoint id no tracepoint has.
  static constexpr std::uint32_t missing_tracepoint = 0x7fffffff;

 private:
  kind kind_ = kind::none;
  std::uint32_t at_ = 0;
  std::uint32_t seen_ = 0;
};

/// `mode`, or when it is automatic, what EBPFPUB_TEST_ATTACH asks for instead.
attach_mode attach_mode_for_tests(attach_mode mode);
/// `write`, or when it is the default (staged), what EBPFPUB_TEST_RING_WRITE
/// ("reserved", "automatic" or "staged") asks for instead: the suites run in each way.
ring_write ring_write_for_tests(ring_write write);

/// Whether EBPFPUB_TEST_READS=helpers asks for the helper-call reads of older kernels.
bool helper_reads_for_tests();

}  // namespace ebpfpub::detail
