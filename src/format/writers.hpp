#pragma once
// The two value_writers behind custom_value: text (`{cur: 1, max: 2}`) and JSON.

#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <ebpfpub/event.hpp>
#include <ebpfpub/format/value_writer.hpp>
#include <ebpfpub/symbols/symbols.hpp>

namespace ebpfpub::detail {

/// Appends `n` bytes. fmt's buffer::append is out of line and loops for any length; an
/// event is ~25 short pieces, and with it the JSON of an openat record took 210 ns. This
/// inlines to a capacity check and (for a literal) a few moves.
inline void put(fmt::memory_buffer& out, const char* s, std::size_t n) {
  const auto size = out.size();
  out.resize(size + n);
  std::memcpy(out.data() + size, s, n);
}
inline void put(fmt::memory_buffer& out, std::string_view s) { put(out, s.data(), s.size()); }
template <std::size_t N>
inline void put_literal(fmt::memory_buffer& out, const char (&s)[N]) {
  put(out, s, N - 1);
}
/// An integer in decimal (fmt::format_int: no format string to parse).
template <typename T>
inline void put_number(fmt::memory_buffer& out, T v) {
  const fmt::format_int text(v);
  put(out, text.data(), text.size());
}

/// The process context (format/context.cpp): text appends ` executable: '...' ...` to the
/// header line, JSON `,"context":{...}`; call only when `c.fields` is not empty.
void append_context_text(fmt::memory_buffer& out, const process_context& c);
void append_context_json(fmt::memory_buffer& out, const process_context& c);

/// Separators for nested arrays and objects, shared by both writers.
class nesting_writer : public value_writer {
 public:
  void begin_array() override { open('['); }
  void end_array() override { close(']'); }
  void begin_object() override { open('{'); }
  void end_object() override { close('}'); }

 protected:
  nesting_writer(fmt::memory_buffer& out, std::string_view separator) : out_(out), separator_(separator) {}
  // Called before every value: a separator unless it is the first of its container or
  // follows its key.
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_.append(separator_);
    first_.back() = false;
  }
  void open(char c) {
    before_value();
    out_.push_back(c);
    first_.push_back(true);
  }
  void close(char c) {
    out_.push_back(c);
    if (!first_.empty()) first_.pop_back();
  }
  void before_key() {
    if (!first_.empty()) {
      if (!first_.back()) out_.append(separator_);
      first_.back() = false;
    }
    after_key_ = true;
  }

  fmt::memory_buffer& out_;

 private:
  std::string_view separator_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

class text_value_writer final : public nesting_writer {
 public:
  explicit text_value_writer(fmt::memory_buffer& out) : nesting_writer(out, ", ") {}
  void write_signed(std::int64_t v) override;
  void write_unsigned(std::uint64_t v) override;
  void write_bool(bool v) override;
  void write_string(std::string_view text) override;
  void write_bytes(std::span<const std::uint8_t> bytes) override;
  void key(std::string_view name) override;
};

class json_value_writer final : public nesting_writer {
 public:
  explicit json_value_writer(fmt::memory_buffer& out) : nesting_writer(out, ",") {}
  void write_signed(std::int64_t v) override;
  void write_unsigned(std::uint64_t v) override;
  void write_bool(bool v) override;
  void write_string(std::string_view text) override;
  void write_bytes(std::span<const std::uint8_t> bytes) override;
  void key(std::string_view name) override;
};

/// An fd: its number, or with its identity an object (docs/event-format.md).
void append_fd_json(fmt::memory_buffer& out, const fd& v);

/// A number-valued argument's raw value (integers and fds, sign-extended), or nullopt.
inline std::optional<std::uint64_t> argument_number(const dynamic_value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<std::uint64_t>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&v)) return *u;
  if (const auto* f = std::get_if<fd>(&v)) return static_cast<std::uint64_t>(static_cast<std::int64_t>(f->value));
  return std::nullopt;
}

/// The event's number-valued arguments by name, for the sets that depend on another
/// argument (fcntl's arg on its cmd). A syscall has at most six: no allocation per event.
struct argument_numbers {
  explicit argument_numbers(const dynamic_event& e) {
    for (const auto& a : e.args)
      if (const auto n = argument_number(a.value); n && size < items.size()) items[size++] = {a.name, *n};
  }
  std::span<const named_value> all() const { return {items.data(), size}; }
  std::array<named_value, 6> items{};
  std::size_t size = 0;
};

/// A number-valued argument (an integer or an fd) by the names of the set it takes
/// (symbols/symbols.hpp), as strace prints it; nullopt for anything else. `others` are
/// the call's number-valued arguments (argument_numbers). Text and JSON both name
/// arguments through this.
inline std::optional<std::string> argument_name(std::string_view syscall, std::string_view name,
                                                const dynamic_value& v,
                                                std::span<const named_value> others) {
  // An fd that names a file shows what it names; AT_FDCWD (bad_fd) keeps its name.
  if (const auto* f = std::get_if<fd>(&v); f && f->identity && f->identity->state != fd_state::bad_fd)
    return std::nullopt;
  const auto n = argument_number(v);
  if (!n) return std::nullopt;
  return symbols::argument(syscall, name, *n, 8, !std::holds_alternative<std::uint64_t>(v), others);
}

}  // namespace ebpfpub::detail
