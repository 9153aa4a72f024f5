#include <ebpfpub/format/escape.hpp>

#include "writers.hpp"

namespace ebpfpub {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at the start of `s` (not empty), or 0.
std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  std::uint32_t min = 0, cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, min = 0x80, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000, cp = c & 0x07;
  else return 0;
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// One character of JSON text, escaped as nlohmann::json's dump() escapes it (the format
// docs/event-format.md documents): the short forms, else \u00XX for control characters.
void append_json_char(fmt::memory_buffer& out, char c) {
  switch (c) {
    case '"': detail::put(out, std::string_view("\\\"")); return;
    case '\\': detail::put(out, std::string_view("\\\\")); return;
    case '\b': detail::put(out, std::string_view("\\b")); return;
    case '\f': detail::put(out, std::string_view("\\f")); return;
    case '\n': detail::put(out, std::string_view("\\n")); return;
    case '\r': detail::put(out, std::string_view("\\r")); return;
    case '\t': detail::put(out, std::string_view("\\t")); return;
    default: break;
  }
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20) {
    const char escaped[] = {'\\', 'u', '0', '0', hex_digits[u >> 4], hex_digits[u & 15]};
    detail::put(out, escaped, sizeof(escaped));
  } else {
    out.push_back(c);
  }
}

bool plain_json(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

}  // namespace

void append_terminal_escaped(fmt::memory_buffer& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else if (c == '\n') {
      detail::put(out, std::string_view("\\n"));
    } else if (c == '\t') {
      detail::put(out, std::string_view("\\t"));
    } else {
      const char escaped[] = {'\\', 'x', hex_digits[c >> 4], hex_digits[c & 15]};
      detail::put(out, escaped, sizeof(escaped));
    }
  }
}

std::string terminal_escape(std::string_view bytes) {
  fmt::memory_buffer out;
  append_terminal_escaped(out, bytes);
  return fmt::to_string(out);
}

std::string json_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const auto n = utf8_sequence(bytes);
    if (n == 0) {
      const auto c = static_cast<unsigned char>(bytes.front());
      out += "\\x";
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
      bytes.remove_prefix(1);
    } else {
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
  }
  return out;
}

void append_json_string(fmt::memory_buffer& out, std::string_view bytes) {
  out.push_back('"');
  while (!bytes.empty()) {
    // The common case, a run of plain ASCII, goes in one append.
    std::size_t plain = 0;
    while (plain < bytes.size() && plain_json(static_cast<unsigned char>(bytes[plain]))) ++plain;
    if (plain > 0) {
      detail::put(out, bytes.data(), plain);
      bytes.remove_prefix(plain);
      continue;
    }
    const auto n = utf8_sequence(bytes);
    if (n == 0) {
      // json_text's \xNN, whose backslash JSON then escapes.
      const auto c = static_cast<unsigned char>(bytes.front());
      const char escaped[] = {'\\', '\\', 'x', hex_digits[c >> 4], hex_digits[c & 15]};
      detail::put(out, escaped, sizeof(escaped));
      bytes.remove_prefix(1);
    } else if (n == 1) {
      append_json_char(out, bytes.front());
      bytes.remove_prefix(1);
    } else {
      detail::put(out, bytes.data(), n);
      bytes.remove_prefix(n);
    }
  }
  out.push_back('"');
}

void append_base64(fmt::memory_buffer& out, std::span<const std::uint8_t> data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    const char quad[] = {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], alphabet[n & 63]};
    detail::put(out, quad, 4);
  }
  if (i + 1 == data.size()) {
    const std::uint32_t n = data[i] << 16;
    const char quad[] = {alphabet[n >> 18], alphabet[(n >> 12) & 63], '=', '='};
    detail::put(out, quad, 4);
  } else if (i + 2 == data.size()) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8);
    const char quad[] = {alphabet[n >> 18], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], '='};
    detail::put(out, quad, 4);
  }
}

std::string base64(std::span<const std::uint8_t> bytes) {
  fmt::memory_buffer out;
  append_base64(out, bytes);
  return fmt::to_string(out);
}

}  // namespace ebpfpub
