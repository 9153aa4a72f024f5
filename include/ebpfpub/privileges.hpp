#pragma once
/// \file
/// Least privilege. Tracing needs CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH (tracefs's
/// format files are readable by root only) to start; once the programs are attached, the
/// tracer needs none: the ring buffer is mapped, its counters are maps whose descriptors it
/// holds. `drop_privileges()` gives everything up, so decoding the bytes that every process
/// on the machine controls runs without privilege.
///
///     tracer->start();
///     ebpfpub::drop_privileges({.user = "nobody"});   // or {} to keep the uid
///     while (running) tracer->poll(100ms);

#include <cstdint>
#include <string>

#include <ebpfpub/error.hpp>

namespace ebpfpub {

struct privilege_options {
  /// Switch to this user (a name or a number) and its primary group, with no
  /// supplementary groups; empty: keep the current user.
  std::string user;
  /// Capabilities to keep (bit N for capability N) in the effective and permitted sets
  /// and the bounding set, across the user switch; every other one goes. E.g.
  /// 1 << CAP_SYS_PTRACE, which reading another process's /proc/PID/exe needs when it
  /// holds capabilities the tracer would not (the executable context's path).
  std::uint64_t keep = 0;
};

/// Drops every capability but `keep` (effective, permitted, inheritable, ambient and, while
/// CAP_SETPCAP allows, the bounding set), switches user when asked, and sets no_new_privs
/// so no later exec can regain any. The error names what could not be dropped.
expected<void> drop_privileges(const privilege_options& options = {});

/// The capabilities this process holds now (its effective set, bit N for capability N).
std::uint64_t effective_capabilities();

}  // namespace ebpfpub
