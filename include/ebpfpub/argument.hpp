#pragma once
/// \file
/// What a syscall argument is: the kinds the signatures use, and the decoded value types
/// that appear as members of `S::arguments` (see syscalls/).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/resolved_path.hpp>

namespace ebpfpub {

/// The kind of a syscall argument, derived from its C type and name.
enum class arg_kind : std::uint8_t {
  integer,            ///< an integer (or enum, or opaque scalar typedef) of `width` bytes
  fd,                 ///< an int that names a file descriptor
  user_string,        ///< `const char *`: a NUL-terminated string in the caller's memory
  user_buffer,        ///< `void *`, `char *` ...: bytes whose length another argument says
  user_sockaddr,      ///< `struct sockaddr *`
  user_string_array,  ///< `const char *const *`: a NULL-terminated array of strings (argv)
  user_pointer,       ///< any other pointer: kept as an address
};

std::string_view to_string(arg_kind kind) noexcept;

/// How a capture of user memory went; `ok` unless the event's `probe_error` is set.
enum class capture_status : std::uint8_t {
  ok = 0,
  not_captured = 1,    ///< the serializer did not ask for this argument's memory
  truncated = 2,       ///< longer than the capture limit: the first bytes are kept
  fault = 3,           ///< the pointer was invalid (the read faulted)
  null_pointer = 4,    ///< the pointer was NULL
  no_space = 5,        ///< the event's capture storage was exhausted
};

std::string_view to_string(capture_status status) noexcept;

/// True for statuses that count as a probe error: the data is missing or incomplete.
constexpr bool is_probe_error(capture_status s) noexcept {
  return s != capture_status::ok && s != capture_status::not_captured;
}

/// A file descriptor argument (`int fd`, `int dfd`, ...). AT_FDCWD is -100.
struct fd {
  std::int32_t value = 0;
  /// What the descriptor named when the call began, when the plan captured it
  /// (`capture_op::fd_identity`, `plan_options::fd_identity`).
  std::optional<fd_identity> identity;
  friend bool operator==(const fd&, const fd&) = default;
};

/// A pointer whose memory is not captured.
struct user_pointer {
  std::uint64_t address = 0;
  friend bool operator==(const user_pointer&, const user_pointer&) = default;
};

/// A `const char *`: its address and, when captured, its text.
struct user_string {
  std::uint64_t address = 0;
  std::string value;
  capture_status status = capture_status::not_captured;
  /// The path as the call saw it, when the plan resolved it in the kernel
  /// (`capture_op::base_directory`, `plan_options::resolve_paths`).
  std::optional<resolved_path> resolved;
  friend bool operator==(const user_string&, const user_string&) = default;
};

/// Bytes in the caller's memory.
struct user_buffer {
  std::uint64_t address = 0;
  std::vector<std::uint8_t> data;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const user_buffer&, const user_buffer&) = default;
};

/// A `struct sockaddr *`: the raw bytes when captured (the specialized network
/// serializers decode them by family).
struct user_sockaddr {
  std::uint64_t address = 0;
  std::vector<std::uint8_t> data;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const user_sockaddr&, const user_sockaddr&) = default;
};

/// A NULL-terminated array of strings (argv, envp).
struct user_string_array {
  std::uint64_t address = 0;
  std::vector<std::string> values;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const user_string_array&, const user_string_array&) = default;
};

/// Two descriptors the kernel wrote back (pipe's `fildes`, socketpair's `usockvec`).
struct fd_pair {
  std::uint64_t address = 0;
  std::int32_t first = -1;
  std::int32_t second = -1;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const fd_pair&, const fd_pair&) = default;
};

/// openat2's `struct open_how`.
struct open_how {
  std::uint64_t address = 0;
  std::uint64_t flags = 0;
  std::uint64_t mode = 0;
  std::uint64_t resolve = 0;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const open_how&, const open_how&) = default;
};

/// clone3's `struct clone_args`: the fields that say what kind of child it is.
struct clone_args {
  std::uint64_t address = 0;
  std::uint64_t flags = 0;
  std::uint64_t exit_signal = 0;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const clone_args&, const clone_args&) = default;
};

/// A `sigset_t *`: the 64 signals of an x86_64/arm64 kernel sigset, bit n-1 for signal n
/// (SIGUSR1, 10, is bit 9). NULL is `null_pointer`: "not provided".
struct signal_mask {
  std::uint64_t address = 0;
  std::uint64_t mask = 0;
  capture_status status = capture_status::not_captured;
  friend bool operator==(const signal_mask&, const signal_mask&) = default;
};

/// A socket address decoded by family. AF_INET and AF_INET6 fill `address` (text, RFC
/// 5952 for IPv6) and `port`; AF_UNIX fills `path` (an abstract name starts with '@');
/// other families keep their bytes after the family in `data`.
struct socket_address {
  std::uint16_t family = 0;
  std::string address;
  std::uint16_t port = 0;
  std::string path;
  std::vector<std::uint8_t> data;
  friend bool operator==(const socket_address&, const socket_address&) = default;
};

/// Decodes the bytes of a `struct sockaddr`; false when there are fewer than the family's
/// fixed part (a truncated capture), in which case `out` keeps the family and raw bytes.
bool decode_sockaddr(const std::vector<std::uint8_t>& bytes, socket_address& out);

/// "AF_INET", "AF_INET6", "AF_UNIX", ... or empty for a family without a name here.
std::string_view family_name(std::uint16_t family) noexcept;

/// The `arg_kind` a member type of `S::arguments` stands for.
template <typename T>
struct kind_of;
template <typename T>
  requires std::is_integral_v<T>
struct kind_of<T> : std::integral_constant<arg_kind, arg_kind::integer> {};
template <> struct kind_of<fd> : std::integral_constant<arg_kind, arg_kind::fd> {};
template <> struct kind_of<user_pointer> : std::integral_constant<arg_kind, arg_kind::user_pointer> {};
template <> struct kind_of<user_string> : std::integral_constant<arg_kind, arg_kind::user_string> {};
template <> struct kind_of<user_buffer> : std::integral_constant<arg_kind, arg_kind::user_buffer> {};
template <> struct kind_of<user_sockaddr> : std::integral_constant<arg_kind, arg_kind::user_sockaddr> {};
template <> struct kind_of<user_string_array>
    : std::integral_constant<arg_kind, arg_kind::user_string_array> {};

}  // namespace ebpfpub
