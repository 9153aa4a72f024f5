#pragma once
/// \file
/// The wire format of an event record, as the generated programs write it and the
/// decoder reads it. All fields are little-endian (BPF runs in the host's byte order,
/// and ebpfpub supports little-endian hosts).
///
///     offset  size  field
///          0     4  size            whole record in bytes, header included
///          4     2  syscall         index of the syscall's plan in the session
///          6     1  flags           record_flags
///          7     1  argument_count  n
///          8     8  timestamp       bpf_ktime_get_ns(): CLOCK_MONOTONIC, ns
///         16     4  process_id      tgid
///         20     4  thread_id       pid
///         24     4  user_id
///         28     4  group_id
///         32     8  exit_code       the syscall's return value (signed)
///         40     8  duration        ns from enter to exit (0 when sent at enter)
///         48   8*n  arguments       each argument's raw 8-byte slot
///     then, for each capture that ran, 8-byte aligned:
///          0     1  capture         index of the capture in the plan
///          1     1  status          capture_status
///          2     2  (zero)
///          4     4  length          bytes of data that follow
///          8     …  data, padded with zeros to a multiple of 8
///     a capture block with index 255 (`context_capture`) is the process context, when
///     the session asked for one (tracer_options::context); its status is ok and its
///     80 bytes of data are:
///          0     4  fields          context_fields' bits: what was read
///          4     4  parent_pid      real_parent->tgid
///          8     8  cgroup_id       bpf_get_current_cgroup_id()
///         16     8  exe_inode       mm->exe_file->f_inode->i_ino
///         24     4  exe_device      ...->i_sb->s_dev (the kernel's major << 20 | minor)
///         28     4  mnt_ns, pid_ns, net_ns, user_ns (4 each): namespace inode numbers
///         44     4  (zero)
///         48    32  exe_name        the exe_file dentry's name, NUL-terminated

#include <cstdint>

namespace ebpfpub::record {

inline constexpr std::uint32_t header_size = 48;
inline constexpr std::uint32_t capture_header_size = 8;
inline constexpr std::uint32_t max_arguments = 6;

/// The capture index of the process context block.
inline constexpr std::uint8_t context_capture = 255;
inline constexpr std::uint32_t context_size = 80;
inline constexpr std::uint32_t context_name_size = 32;

namespace context_offset {
inline constexpr std::uint32_t fields = 0;
inline constexpr std::uint32_t parent_pid = 4;
inline constexpr std::uint32_t cgroup_id = 8;
inline constexpr std::uint32_t exe_inode = 16;
inline constexpr std::uint32_t exe_device = 24;
inline constexpr std::uint32_t mnt_ns = 28;
inline constexpr std::uint32_t pid_ns = 32;
inline constexpr std::uint32_t net_ns = 36;
inline constexpr std::uint32_t user_ns = 40;
inline constexpr std::uint32_t exe_name = 48;
}  // namespace context_offset

namespace offset {
inline constexpr std::uint32_t size = 0;
inline constexpr std::uint32_t syscall = 4;
inline constexpr std::uint32_t flags = 6;
inline constexpr std::uint32_t argument_count = 7;
inline constexpr std::uint32_t timestamp = 8;
inline constexpr std::uint32_t process_id = 16;
inline constexpr std::uint32_t thread_id = 20;
inline constexpr std::uint32_t user_id = 24;
inline constexpr std::uint32_t group_id = 28;
inline constexpr std::uint32_t exit_code = 32;
inline constexpr std::uint32_t duration = 40;
inline constexpr std::uint32_t arguments = 48;
}  // namespace offset

enum flags : std::uint8_t {
  /// Sent at enter (exit, exit_group): there is no exit code.
  sent_at_enter = 1 << 0,
  /// In the in-flight entry only: string capture i (i < 6) faulted at enter and is
  /// read again at exit (bit 1 << (i + 1)). Never set in a sent record.
  retry_at_exit = 0x7e,
  /// Set between enter and exit in the in-flight entry; never set in a sent record.
  in_flight = 1 << 7,
};

/// Captures with an index below this can be retried at exit.
inline constexpr std::uint8_t max_retried_captures = 6;
constexpr std::uint8_t retry_bit(std::uint8_t capture) { return static_cast<std::uint8_t>(1u << (capture + 1)); }

constexpr std::uint32_t align8(std::uint32_t n) { return (n + 7) & ~std::uint32_t{7}; }

}  // namespace ebpfpub::record
