#pragma once
/// \file
/// What a file descriptor named at the moment of a call, as the generated program read it
/// from the calling task's own fd table (`current->files->fdt->fd[fd]`, bounds-checked
/// against `fdt->max_fds`, every offset from the running kernel's BTF). Nothing is
/// tracked per process, so the identity is right under dup2, fork, threads that share
/// (CLONE_FILES) or do not share the table, close-on-exec and fd reuse.
///
/// Asked for with `plan_options::fd_identity` (every fd argument of every plan built from
/// the generic one) or by a capture of `capture_op::fd_identity`; it arrives in
/// `fd::identity`.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <ebpfpub/context/paths.hpp>

namespace ebpfpub {

/// What the fd table held at that number.
enum class fd_state : std::uint8_t {
  open = 0,        ///< a file: the identity's fields are filled
  not_open = 1,    ///< within the table, but no file (closed, never opened)
  bad_fd = 2,      ///< negative (AT_FDCWD too) or beyond the table's size
  unreadable = 3,  ///< a kernel read failed (the task is exiting: no fd table)
};

std::string_view to_string(fd_state state) noexcept;

/// The kind of file, from the inode's mode (S_IFMT), and anonymous inodes apart.
enum class file_kind : std::uint8_t {
  unknown,
  regular,
  directory,
  character_device,
  block_device,
  fifo,  ///< a pipe or a named FIFO
  symlink,
  socket,
  anon_inode,  ///< eventfd, epoll, signalfd, timerfd, pidfd, ...: `name` says which
};

std::string_view to_string(file_kind kind) noexcept;

/// One endpoint of an IP socket: the address in text (RFC 5952 for IPv6) and the port.
struct socket_endpoint {
  std::string address;
  std::uint16_t port = 0;
  friend bool operator==(const socket_endpoint&, const socket_endpoint&) = default;
};

/// A file's identity. `device` and `inode` are stat(2)'s st_dev and st_ino.
struct fd_identity {
  fd_state state = fd_state::not_open;
  file_kind kind = file_kind::unknown;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint32_t mode = 0;   ///< the inode's i_mode: type and permission bits
  std::uint32_t flags = 0;  ///< the open file's f_flags (O_RDONLY, O_APPEND, O_CLOEXEC is not one)
  /// The file's dentry name: the last component of a file's path (as it is now: a rename
  /// shows here), "[eventfd]" and such for anonymous inodes, "memfd:NAME"; empty for
  /// pipes and sockets.
  std::string name;
  // Sockets only.
  std::uint16_t family = 0;    ///< AF_INET, AF_INET6, AF_UNIX, ...
  std::uint16_t type = 0;      ///< SOCK_STREAM, SOCK_DGRAM, ...
  std::uint16_t protocol = 0;  ///< IPPROTO_TCP, IPPROTO_UDP, ... (0 for AF_UNIX)
  socket_endpoint local;       ///< AF_INET/AF_INET6
  socket_endpoint remote;
  /// AF_UNIX: the socket's bound path and its peer's (an abstract name starts with '@').
  std::string unix_path;
  std::string unix_peer_path;
  /// A path for the file, when the library knows one (a `path_cache` filled from traced
  /// opens and /proc/PID/fd): where it came from and whether it may be stale.
  std::optional<known_path> path;

  friend bool operator==(const fd_identity&, const fd_identity&) = default;
};

namespace record::fd_identity_layout {
/// The fixed-size capture a program writes for one fd (all little-endian):
///
///     offset size  field
///          0    1  state (fd_state)
///          2    2  family        sk->__sk_common.skc_family
///          4    4  mode          inode->i_mode
///          8    8  inode         inode->i_ino
///         16    4  device        inode->i_sb->s_dev (the kernel's encoding, major << 20)
///         20    4  flags         file->f_flags
///         24    2  type          sk->sk_type
///         26    2  protocol      sk->sk_protocol
///         28    2  local port    skc_num (host order)
///         30    2  remote port   skc_dport (network order)
///         32   16  local address  skc_rcv_saddr (4 bytes) or skc_v6_rcv_saddr
///         48   16  remote address skc_daddr or skc_v6_daddr
///         64    4  unix address length (the socket's own, with sun_family)
///         68    4  unix peer address length
///         72  108  unix path (sun_path)
///        180  108  unix peer path
///        288   64  dentry name, NUL-terminated
inline constexpr std::uint32_t state = 0, family = 2, mode = 4, inode = 8, device = 16,
                               flags = 20, type = 24, protocol = 26, local_port = 28,
                               remote_port = 30, local_address = 32, remote_address = 48,
                               unix_length = 64, unix_peer_length = 68, unix_path = 72,
                               unix_peer_path = 180, name = 288;
inline constexpr std::uint32_t unix_path_size = 108;
inline constexpr std::uint32_t name_size = 64;
inline constexpr std::uint32_t size = 352;
}  // namespace record::fd_identity_layout

/// Decodes a capture of that layout; nullopt when it is shorter than the layout or its
/// state is unknown (a malformed record).
std::optional<fd_identity> decode_fd_identity(std::span<const std::uint8_t> bytes);

/// Gives an open file's identity the path `paths` knows for it. The path is flagged stale
/// when the cache says so (deleted when seen), or when its last component is not the
/// dentry name the kernel gave (renamed since).
void attach_path(fd_identity& id, path_cache& paths);

}  // namespace ebpfpub
