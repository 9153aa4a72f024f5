#pragma once
/// \file
/// A relative path argument resolved in the kernel, at the moment of the call, against
/// the directory it is relative to (the caller's cwd, or a directory fd):
/// capture_op::base_directory, plan_options::resolve_paths.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ebpfpub {

/// What the walk from the path's base directory up to the caller's root found.
enum class path_base_state : std::uint8_t {
  resolved = 1,     ///< the base directory, up to the caller's root (chroot included)
  absolute = 2,     ///< the path starts with '/': nothing to walk
  truncated = 3,    ///< deeper than the walk's bounds (component count or bytes)
  unreachable = 4,  ///< outside the caller's root, or disconnected (getcwd's "(unreachable)")
  deleted = 5,      ///< the base directory was removed (getcwd fails with ENOENT)
  bad_fd = 6,       ///< the directory fd is not open, or negative and not AT_FDCWD
  unreadable = 7,   ///< a kernel structure could not be read
};

std::string_view to_string(path_base_state state) noexcept;

/// A path argument as the call saw it.
struct resolved_path {
  path_base_state state = path_base_state::unreadable;
  /// The base directory, absolute, when `resolved` (for `truncated`: the components the
  /// walk read nearest the path, joined, without a leading '/').
  std::string directory;
  /// `directory` + "/" + the argument, joined lexically ("..", "." and symlinks in the
  /// argument are kept as written); the argument itself when `absolute`; empty otherwise.
  std::string path;
  friend bool operator==(const resolved_path&, const resolved_path&) = default;
};

/// `directory` + "/" + `argument` (no doubled '/'; an empty argument gives `directory`).
std::string join_path(std::string_view directory, std::string_view argument);

namespace record::base_directory_layout {
/// The capture a program writes for one path argument (little-endian):
///
///     offset size  field
///          0    1  state (path_base_state)
///          4    4  number of components
///          8    -  component names, leaf first, each NUL-terminated
inline constexpr std::uint32_t state = 0, count = 4, names = 8;
/// Bytes for the names: 100 nested directories of up to 39 characters fit.
inline constexpr std::uint32_t name_bytes = 4096;
/// One component is read whole (NAME_MAX and its NUL) or not at all.
inline constexpr std::uint32_t component_bytes = 256;
/// Steps of the walk (components and mount crossings).
inline constexpr std::uint32_t max_steps = 160;
inline constexpr std::uint32_t size = names + name_bytes;
}  // namespace record::base_directory_layout

/// Decodes a capture of that layout against the raw argument; nullopt when it is
/// malformed (shorter than its header, an unknown state, a count the names do not hold).
std::optional<resolved_path> decode_base_directory(std::span<const std::uint8_t> bytes,
                                                   std::string_view argument);

}  // namespace ebpfpub
