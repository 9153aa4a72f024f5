#pragma once
/// \file
/// Traced bytes made safe for where they are printed: a terminal, a JSON string, base64.
/// Each has an `append_` form that writes into a reused buffer (the fast path of the
/// writers) and a form that returns a string.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace ebpfpub {

/// Terminal-safe text: printable ASCII as is, `'` and `\` escaped with a backslash, `\n`
/// and `\t` as such, every other byte (control characters, escape sequences, bytes of
/// UTF-8) as `\xNN`, so traced data cannot rewrite the user's screen.
void append_terminal_escaped(fmt::memory_buffer& out, std::string_view bytes);
std::string terminal_escape(std::string_view bytes);

/// Text for a JSON string, before JSON's own escaping: valid UTF-8 is kept; each byte of
/// invalid UTF-8 becomes the four characters `\xNN`.
std::string json_text(std::string_view bytes);

/// A JSON string literal, quotes included: `json_text` of `bytes`, then `"` `\` and
/// control characters escaped as JSON requires (`\n`, `\u001b`, ...).
void append_json_string(fmt::memory_buffer& out, std::string_view bytes);

/// Standard base64 (RFC 4648, with `=` padding).
void append_base64(fmt::memory_buffer& out, std::span<const std::uint8_t> bytes);
std::string base64(std::span<const std::uint8_t> bytes);

}  // namespace ebpfpub
