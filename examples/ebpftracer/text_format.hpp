#pragma once
// The seed's text output: a header line and an argument line per event.

#include <string>
#include <string_view>

#include <ebpfpub/event.hpp>

namespace ebpftracer {

/// A traced string made safe for a terminal: printable ASCII as is, quotes and
/// backslashes escaped, every other byte (control characters, escape sequences, bytes
/// of invalid UTF-8) as \xNN, so traced data cannot rewrite the user's screen.
std::string escape(std::string_view bytes);

/// O_WRONLY|O_CREAT|O_CLOEXEC: the access mode, then each flag set, then any bits left
/// in octal.
std::string open_flags_text(std::uint64_t flags);
/// A file mode in octal: 0644.
std::string mode_text(std::uint64_t mode);

/// `timestamp: .. process_id: .. thread_id: .. user_id: .. group_id: .. exit_code: ..
/// probe_error: ..` then `syscall: mkdir mode: 511 pathname: 'x'` (arguments in name
/// order, as the seed printed them), each line ending in a newline.
std::string format_text(const ebpfpub::dynamic_event& e);

}  // namespace ebpftracer
