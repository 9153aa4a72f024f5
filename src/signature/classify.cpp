// From a C type text and a field name to what the argument is. Used by the table
// generator (tools/) and by the run-time path, so both describe a syscall the same way.

#include <ebpfpub/signature.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace ebpfpub {
namespace {

struct scalar {
  std::string_view type;
  std::uint8_t width;
  bool is_signed;
};

// Every scalar type text the x86_64 and arm64 syscall tracepoints use, with its C width
// and sign (include/linux/types.h, include/uapi/asm-generic/posix_types.h).
constexpr std::array scalars{
    scalar{"char", 1, true},           scalar{"unsigned char", 1, false},
    scalar{"short", 2, true},          scalar{"unsigned short", 2, false},
    scalar{"int", 4, true},            scalar{"unsigned int", 4, false},
    scalar{"unsigned", 4, false},      scalar{"long", 8, true},
    scalar{"unsigned long", 8, false}, scalar{"long long", 8, true},
    scalar{"unsigned long long", 8, false},
    scalar{"u8", 1, false},            scalar{"u16", 2, false},
    scalar{"u32", 4, false},           scalar{"u64", 8, false},
    scalar{"s32", 4, true},            scalar{"s64", 8, true},
    scalar{"__u32", 4, false},         scalar{"__u64", 8, false},
    scalar{"__s32", 4, true},          scalar{"__s64", 8, true},
    scalar{"size_t", 8, false},        scalar{"ssize_t", 8, true},
    scalar{"loff_t", 8, true},         scalar{"off_t", 8, true},
    scalar{"pid_t", 4, true},          scalar{"uid_t", 4, false},
    scalar{"gid_t", 4, false},         scalar{"qid_t", 4, false},
    scalar{"umode_t", 2, false},       scalar{"mode_t", 4, false},
    scalar{"clockid_t", 4, true},      scalar{"timer_t", 4, true},
    scalar{"mqd_t", 4, true},          scalar{"key_t", 4, true},
    scalar{"key_serial_t", 4, true},   scalar{"rwf_t", 4, true},
    scalar{"aio_context_t", 8, false}, scalar{"__kernel_old_time_t", 8, true},
    scalar{"time_t", 8, true},
};

// Pointer typedefs that hide their '*'.
constexpr std::array<std::string_view, 2> pointer_typedefs{"cap_user_header_t",
                                                           "cap_user_data_t"};

std::string_view strip_const(std::string_view type) {
  for (;;) {
    if (type.starts_with("const ")) type.remove_prefix(6);
    else if (type.starts_with("volatile ")) type.remove_prefix(9);
    else if (type.ends_with(" const")) type.remove_suffix(6);
    else return type;
  }
}

bool names_an_fd(std::string_view name) {
  if (name == "nfds") return false;
  return name.ends_with("fd") || name.starts_with("fd_") || name == "fdin" ||
         name == "fdout";
}

}  // namespace

classification classify_argument(std::string_view type, std::string_view name) noexcept {
  // Normalise "char *", "char * *" and "const char *const *" to a canonical spacing.
  std::string canonical;
  for (char c : type) {
    if (c == ' ' && (canonical.empty() || canonical.back() == ' ')) continue;
    canonical += c;
  }
  while (!canonical.empty() && canonical.back() == ' ') canonical.pop_back();
  std::string_view t = canonical;

  const auto stars = std::count(t.begin(), t.end(), '*');
  if (stars > 0) {
    // "const char *const *" and "char * *" (two levels: arrays of strings or pointers).
    if (stars == 2 && strip_const(t.substr(0, t.find('*'))).starts_with("char"))
      return {arg_kind::user_string_array, 8, false};
    if (stars == 1) {
      std::string_view pointee = t.substr(0, t.find('*'));
      while (pointee.ends_with(' ')) pointee.remove_suffix(1);
      const bool is_const = pointee.starts_with("const ");
      pointee = strip_const(pointee);
      if (pointee == "char") return {is_const ? arg_kind::user_string : arg_kind::user_buffer, 8, false};
      if (pointee == "void" || pointee == "unsigned char")
        return {arg_kind::user_buffer, 8, false};
      if (pointee == "struct sockaddr") return {arg_kind::user_sockaddr, 8, false};
    }
    return {arg_kind::user_pointer, 8, false};
  }

  std::string_view bare = strip_const(t);
  if (bare.starts_with("enum ")) return {arg_kind::integer, 4, false};
  if (std::find(pointer_typedefs.begin(), pointer_typedefs.end(), bare) != pointer_typedefs.end())
    return {arg_kind::user_pointer, 8, false};
  for (const auto& s : scalars) {
    if (s.type != bare) continue;
    // A descriptor is an int whatever the prototype says (`unsigned int fd` of close,
    // `unsigned long fd` of mmap): its low 32 bits, signed, so -1 reads as -1.
    if (s.width >= 4 && names_an_fd(name)) return {arg_kind::fd, 4, true};
    return {arg_kind::integer, s.width, s.is_signed};
  }
  return {arg_kind::integer, 8, false, false};
}

signal_mask_source signal_mask_of(std::string_view type) noexcept {
  // The tracepoints spell it "const sigset_t *" or "sigset_t *"; a typedef hides no '*'.
  while (type.ends_with(' ')) type.remove_suffix(1);
  if (!type.ends_with('*')) return signal_mask_source::none;
  type.remove_suffix(1);
  while (type.ends_with(' ')) type.remove_suffix(1);
  const bool is_const = type.starts_with("const ") || type.ends_with(" const");
  if (strip_const(type) != "sigset_t") return signal_mask_source::none;
  return is_const ? signal_mask_source::enter : signal_mask_source::exit;
}

std::string_view to_string(arg_kind kind) noexcept {
  switch (kind) {
    case arg_kind::integer: return "integer";
    case arg_kind::fd: return "fd";
    case arg_kind::user_string: return "user_string";
    case arg_kind::user_buffer: return "user_buffer";
    case arg_kind::user_sockaddr: return "user_sockaddr";
    case arg_kind::user_string_array: return "user_string_array";
    case arg_kind::user_pointer: return "user_pointer";
  }
  return "unknown";
}

std::string_view to_string(capture_status status) noexcept {
  switch (status) {
    case capture_status::ok: return "ok";
    case capture_status::not_captured: return "not captured";
    case capture_status::truncated: return "truncated";
    case capture_status::fault: return "bad pointer";
    case capture_status::null_pointer: return "null pointer";
    case capture_status::no_space: return "storage exhausted";
  }
  return "unknown";
}

}  // namespace ebpfpub
