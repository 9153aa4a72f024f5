#pragma once
/// \file
/// The plan: the plain, per-syscall description of what the generated programs copy and
/// capture, at enter and at exit. Serializers (templates) produce plans; the compiled
/// backend (codegen, loader, decoder) sees nothing else. The by-name path produces the
/// same plans from a run-time `syscall_description`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ebpfpub/signature.hpp>
#include <ebpfpub/tracefs.hpp>

namespace ebpfpub {

/// What a capture reads from the caller's memory.
enum class capture_op : std::uint8_t {
  string,        ///< NUL-terminated string, up to `max_bytes` characters
  buffer,        ///< `length` bytes, at most `max_bytes`
  sockaddr,      ///< a socket address of `length` bytes, at most `max_bytes`
  string_array,  ///< NULL-terminated array of strings: `max_items`, `max_bytes` in all
  /// What the fd argument names in the caller's fd table (include/ebpfpub/fd_identity.hpp):
  /// a fixed-size record read from the kernel; `max_bytes` is that record's size.
  fd_identity,
  /// Where the path string at `argument` starts: the directory fd at argument `base_fd`,
  /// or the caller's cwd (`capture::current_directory`), walked up to the caller's root
  /// in the kernel (include/ebpfpub/resolved_path.hpp); `max_bytes` is the record's size.
  base_directory,
};

/// Where the length of a buffer or sockaddr capture comes from.
enum class length_source : std::uint8_t {
  fixed,             ///< always `max_bytes`
  argument,          ///< the value of argument `length_argument` (clamped to `max_bytes`)
  return_value,      ///< the syscall's return value, when positive (exit captures only)
  argument_pointer,  ///< the int that argument `length_argument` points to
  struct_field,      ///< the int at byte `length_offset` of the struct (see `indirect`)
};

/// Where, after a successful execve, a capture of the old image's memory can be read
/// again: the new image's stack holds the argv and envp strings and the file name the
/// kernel copied (mm->arg_start..arg_end, env_start..env_end, then the name).
enum class exec_image : std::uint8_t { none, filename, argv, envp };

/// One read of user memory.
struct capture {
  std::uint8_t argument = 0;  ///< index of the pointer argument
  capture_op op = capture_op::string;
  syscall_phase when = syscall_phase::enter;
  length_source length = length_source::fixed;
  std::uint8_t length_argument = 0;
  std::uint32_t max_bytes = 4096;
  std::uint32_t max_items = 0;
  /// Exit captures only: skip the capture when the call failed (ret < 0), because the
  /// kernel wrote nothing there (pipe's fds, accept's address).
  bool only_if_success = false;
  /// An enter capture that faulted is read again at exit; after a successful exec the
  /// old image is gone, and this says where the new one keeps the same bytes.
  exec_image image = exec_image::none;
  /// The kernel accepts NULL here (prlimit64's `new_rlim`, `old_rlim`): a NULL pointer is
  /// "not provided" (status `null_pointer`), not a probe error.
  bool nullable = false;
  /// The argument points to a struct in the caller's memory, and what to read is the
  /// pointer at byte `pointer_offset` in it (sendmsg's msg->msg_name: offset 0, its
  /// length msg_namelen an int at offset 8, read with length_source::struct_field).
  /// Buffers and socket addresses only; the struct's first `max_struct_head` bytes.
  bool indirect = false;
  std::uint16_t pointer_offset = 0;
  std::uint16_t length_offset = 0;
  /// fd identities only: the fd the call returned, read at exit after a successful call
  /// (openat's new fd, accept's). `argument` is then `returned_value`, which names no
  /// argument.
  bool of_return_value = false;
  /// Enter strings only: the memory the pointer names is still the caller's, and still
  /// holds what the call was given, when the call returns (an input path: the kernel
  /// copies it and leaves it). A ring session may then read it at exit, straight into
  /// the record's ring slot (resource_options::write), instead of at enter. Set for
  /// `const char *` arguments; not for memory the call replaces (execve's path).
  bool readable_at_exit = false;
  /// Base directory captures only: the argument holding the directory fd the path is
  /// relative to, or `current_directory` (no such argument: the cwd).
  std::uint8_t base_fd = current_directory;

  /// The `argument` of a capture of the return value.
  static constexpr std::uint8_t returned_value = 0xff;
  /// The `base_fd` of a path relative to the caller's cwd.
  static constexpr std::uint8_t current_directory = 0xff;
  /// How far into the struct an indirect capture may read its pointer and length.
  static constexpr std::uint32_t max_struct_head = 64;

  friend bool operator==(const capture&, const capture&) = default;
};

/// Everything the backend needs to trace one syscall.
struct plan {
  syscall_description syscall;
  std::string serializer_name = "generic";
  std::vector<capture> captures;
  /// For calls that never reach their exit tracepoint (exit and exit_group, whose
  /// serializers set it): the event is sent at enter, without an exit code.
  bool emit_at_enter = false;
  /// Capture storage private to this syscall (its own in-flight map) instead of the one
  /// shared by all syscalls: keeps big captures (argv) from enlarging everyone's entry.
  bool private_storage = false;
  /// Other exit tracepoints where this syscall's call may end: after a successful
  /// execveat the kernel fires sys_exit_execve (seen on Linux 6.18).
  std::vector<std::string> exit_aliases;
};

/// Limits that shape the plans of the generic serializer.
struct plan_options {
  /// Longest string captured whole, in bytes without the NUL (PATH_MAX by default); a
  /// longer one is cut to this and flagged `truncated`.
  std::uint32_t string_size = 4096;
  /// Bytes of data captured from read/write buffers (never more than the call moved).
  std::uint32_t data_size = 256;
  /// execve's argv (and envp): at most this many strings, this many bytes in all.
  std::uint32_t argv_items = 64;
  std::uint32_t argv_size = 4096;
  /// Capture execve's environment too (off: it often holds secrets).
  bool capture_envp = false;
  /// Read, at enter, what every fd argument (`fd`, `dfd`, `oldfd`, ...: arg_kind::fd)
  /// names in the caller's fd table: device, inode, type, flags, socket endpoints. Off by
  /// default: it adds kernel reads (and 360 bytes of record) per fd argument.
  bool fd_identity = false;
  /// Resolve, at enter, every relative path argument (`filename`, `pathname`, `oldname`,
  /// ...) against its directory fd (`dfd`, `olddfd`, ...) or the cwd, in the kernel: the
  /// event carries the path as the call saw it even when the process changes its cwd or
  /// exits at once. Off by default: it walks one dentry per path component.
  bool resolve_paths = false;
};

/// A capture, at enter, of what fd argument `argument` names (capture_op::fd_identity).
capture fd_identity_capture(std::uint8_t argument);
/// A capture, at exit of a successful call, of what the returned fd names.
capture returned_fd_identity_capture();
/// A capture, at enter, of the base directory of the path at `path_argument`, relative to
/// the fd at `fd_argument` (or capture::current_directory).
capture base_directory_capture(std::uint8_t path_argument, std::uint8_t fd_argument);
/// The path arguments of `syscall` and, for each, the directory fd argument it is
/// relative to (capture::current_directory: the cwd), found by the kernel's argument
/// names: a path `<p>name`/`<p>pathname`/`<p>filename`/`<p>path` goes with the fd `<p>dfd`.
/// A path with no such fd in a call that has other fd arguments is left out (its fd's
/// role is not known by name: execveat's `fd`, inotify_add_watch's), and so is a
/// symlink's target (`symlink`'s and `symlinkat`'s `oldname`), which is no lookup.
std::vector<std::pair<std::uint8_t, std::uint8_t>> path_arguments(const syscall_description& syscall);
/// Whether `syscall` returns a new fd (open*, creat, socket, accept*, dup*, memfd_create,
/// eventfd*, epoll_create*, ...): its generic plan captures that fd's identity with
/// plan_options::fd_identity.
bool returns_fd(std::string_view syscall) noexcept;
/// Whether a call of `syscall` may change, between its enter and its exit, what a filter
/// on numbers reads of its caller: the registers that hold the arguments (execve and
/// execveat load a new program, rt_sigreturn restores the interrupted ones, and fork,
/// vfork, clone and clone3 stop inside the call for a ptrace tracer, which may rewrite
/// them), the real user and group ids (the setuid family) or the thread id (execve in a
/// thread takes the leader's). A filter on the numbers of any other call can be tested
/// again at its exit, so the enter of a call it rejects writes nothing.
bool changes_caller(std::string_view syscall) noexcept;

/// The generic serializer's plan: arguments by value, every `const char *` captured at
/// enter as a string, every `sigset_t *` as its 8 bytes (see `signal_mask_of`), the event
/// sent at exit.
plan make_generic_plan(syscall_description syscall, const plan_options& options);

/// Checks a plan for what the backend cannot do (bad argument indices, exit captures on a
/// syscall sent at enter, zero sizes); the error names the syscall and the capture.
expected<void> check_plan(const plan& p);

}  // namespace ebpfpub
