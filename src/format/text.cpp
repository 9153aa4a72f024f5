// The seed's text for events and every argument type.
#include <ebpfpub/format/text.hpp>

#include <algorithm>
#include <bit>
#include <vector>

#include <ebpfpub/format/escape.hpp>
#include <ebpfpub/format/symbols.hpp>
#include <ebpfpub/symbols/symbols.hpp>

#include "writers.hpp"

namespace ebpfpub {
namespace {

void append(fmt::memory_buffer& out, std::string_view s) { out.append(s); }

void append_quoted(fmt::memory_buffer& out, std::string_view bytes) {
  out.push_back('\'');
  append_terminal_escaped(out, bytes);
  out.push_back('\'');
}

std::string_view as_text(const std::vector<std::uint8_t>& data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// A capture that did not give usable bytes: NULL, the bare address when nothing was
// asked, else `<fault 0x...>`.
void append_capture(fmt::memory_buffer& out, capture_status status, std::string_view captured,
                    std::uint64_t address) {
  switch (status) {
    case capture_status::ok: append_quoted(out, captured); return;
    case capture_status::truncated:
      append_quoted(out, captured);
      append(out, "(truncated)");
      return;
    case capture_status::null_pointer: append(out, "NULL"); return;
    case capture_status::not_captured: fmt::format_to(std::back_inserter(out), "{:#x}", address); return;
    case capture_status::fault:
    case capture_status::no_space:
      fmt::format_to(std::back_inserter(out), "<{} {:#x}>", to_string(status), address);
      return;
  }
  append(out, "?");
}

struct value_text {
  fmt::memory_buffer& out;
  std::string_view syscall;
  std::string_view name;

  // open, openat and creat flags and modes read as the C source spells them (other modes
  // stay decimal, as the seed printed mkdir's).
  bool is_open_flags() const { return name == "flags" && (syscall == "open" || syscall == "openat"); }
  bool is_mode() const {
    return name == "mode" && (syscall == "open" || syscall == "openat" || syscall == "creat");
  }

  void operator()(std::int64_t v) const {
    if (is_open_flags()) return append(out, open_flags_name(static_cast<std::uint64_t>(v)));
    detail::put_number(out, v);
  }
  void operator()(std::uint64_t v) const {
    if (is_mode()) return append(out, mode_name(v));
    detail::put_number(out, v);
  }
  template <typename T>
  void operator()(const T& v) const {
    append_text(out, v);
  }
};

}  // namespace

void append_text(fmt::memory_buffer& out, const event_header& h, text_options options) {
  fmt::format_to(std::back_inserter(out),
                 "timestamp: {} process_id: {} thread_id: {} user_id: {} group_id: {} exit_code: {} "
                 "probe_error: {}",
                 h.timestamp, h.process_id, h.thread_id, h.user_id, h.group_id,
                 options.names && !h.sent_at_enter ? symbols::exit_code(h.exit_code)
                                                   : fmt::format("{}", h.exit_code),
                 h.probe_error ? 1 : 0);
  // Calls sent at enter never return: they have no duration to show.
  if (options.duration && !h.sent_at_enter)
    fmt::format_to(std::back_inserter(out), " duration_ns: {}", h.duration_ns);
  if (h.returned_fd) {
    append(out, " returned_fd: ");
    append_text(out, fd{static_cast<std::int32_t>(h.exit_code), h.returned_fd});
  }
  if (!h.context.fields.empty()) detail::append_context_text(out, h.context);
}

void append_text(fmt::memory_buffer& out, const dynamic_event& e, text_options options) {
  append_text(out, e.header, options);
  append(out, "\nsyscall: ");
  append(out, e.header.syscall);
  std::vector<const dynamic_argument*> args;
  args.reserve(e.args.size());
  for (const auto& a : e.args) args.push_back(&a);
  std::sort(args.begin(), args.end(), [](auto* a, auto* b) { return a->name < b->name; });
  const detail::argument_numbers numbers(e);
  for (const auto* a : args) {
    out.push_back(' ');
    append(out, a->name);
    append(out, ": ");
    if (options.names)
      if (const auto name = detail::argument_name(e.header.syscall, a->name, a->value, numbers.all())) {
        append(out, *name);
        continue;
      }
    std::visit(value_text{out, e.header.syscall, a->name}, a->value);
  }
}

void append_text(fmt::memory_buffer& out, const dynamic_value& v, std::string_view syscall,
                 std::string_view name) {
  std::visit(value_text{out, syscall, name}, v);
}

void append_text(fmt::memory_buffer& out, const user_pointer& v) {
  fmt::format_to(std::back_inserter(out), "{:#x}", v.address);
}

void append_text(fmt::memory_buffer& out, const user_string& v) {
  append_capture(out, v.status, v.value, v.address);
  // The path the call saw, in strace -y's brackets right after the argument (which stays
  // as the caller wrote it): 'x'</tmp/a/x>. An absolute argument is its own path.
  if (!v.resolved || v.resolved->state == path_base_state::absolute) return;
  out.push_back('<');
  if (v.resolved->state == path_base_state::resolved) append_terminal_escaped(out, v.resolved->path);
  else fmt::format_to(std::back_inserter(out), "({})", to_string(v.resolved->state));
  out.push_back('>');
}

void append_text(fmt::memory_buffer& out, const user_buffer& v) {
  append_capture(out, v.status, as_text(v.data), v.address);
}

void append_text(fmt::memory_buffer& out, const socket_address& a) {
  const auto family = family_name(a.family);
  if (!a.address.empty()) {
    if (a.address.find(':') != std::string::npos)  // IPv6: brackets, as in a URL
      fmt::format_to(std::back_inserter(out), "{{{} [{}]:{}}}", family, a.address, a.port);
    else
      fmt::format_to(std::back_inserter(out), "{{{} {}:{}}}", family, a.address, a.port);
  } else if (family == "AF_UNIX") {
    append(out, "{AF_UNIX ");
    append_quoted(out, a.path);
    out.push_back('}');
  } else {
    fmt::format_to(std::back_inserter(out), "{{family: {} data: ", a.family);
    append_quoted(out, as_text(a.data));
    out.push_back('}');
  }
}

void append_text(fmt::memory_buffer& out, const user_sockaddr& v) {
  if (v.status != capture_status::ok && v.status != capture_status::truncated)
    return append_capture(out, v.status, {}, v.address);
  socket_address a;
  if (!decode_sockaddr(v.data, a)) {
    fmt::format_to(std::back_inserter(out), "{{family: {} data: ", a.family);
    append_quoted(out, as_text(a.data));
    out.push_back('}');
    return;
  }
  append_text(out, a);
}

void append_text(fmt::memory_buffer& out, const user_string_array& v) {
  if (v.status == capture_status::not_captured || v.status == capture_status::null_pointer)
    return append_capture(out, v.status, {}, v.address);
  out.push_back('[');
  for (std::size_t i = 0; i < v.values.size(); ++i) {
    if (i > 0) append(out, ", ");
    append_quoted(out, v.values[i]);
  }
  out.push_back(']');
  if (v.status != capture_status::ok) append(out, "(truncated)");
}

void append_text(fmt::memory_buffer& out, const fd_pair& v) {
  if (v.status != capture_status::ok) return append_capture(out, v.status, {}, v.address);
  fmt::format_to(std::back_inserter(out), "[{}, {}]", v.first, v.second);
}

void append_text(fmt::memory_buffer& out, const open_how& v) {
  if (v.status != capture_status::ok) return append_capture(out, v.status, {}, v.address);
  fmt::format_to(std::back_inserter(out), "{{flags: {}, mode: {}, resolve: {:#x}}}", open_flags_name(v.flags),
                 mode_name(v.mode), v.resolve);
}

void append_text(fmt::memory_buffer& out, const clone_args& v) {
  if (v.status != capture_status::ok) return append_capture(out, v.status, {}, v.address);
  fmt::format_to(std::back_inserter(out), "{{flags: {:#x}, exit_signal: {}}}", v.flags, v.exit_signal);
}

void append_text(fmt::memory_buffer& out, const signal_mask& v) {
  if (v.status != capture_status::ok) return append_capture(out, v.status, {}, v.address);
  // strace's sprintsigmask_n: with 2/3 or more of the 64 bits set (43 and up: 64*2/3 is
  // 42), the complement is shorter to read; names lose their "SIG" (RTMIN, RT_1, USR1).
  std::uint64_t shown = v.mask;
  if (std::popcount(v.mask) >= 64 * 2 / 3) {
    out.push_back('~');
    shown = ~v.mask;
  }
  out.push_back('[');
  bool first = true;
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!(shown >> bit & 1)) continue;
    if (!first) out.push_back(' ');
    first = false;
    const auto name = symbols::signal_name(bit + 1);
    if (name.starts_with("SIG")) append(out, name.substr(3));
    else fmt::format_to(std::back_inserter(out), "{}", bit + 1);
  }
  out.push_back(']');
}

void append_text(fmt::memory_buffer& out, const custom_value& v) {
  detail::text_value_writer w(out);
  v.describe(w);
}

void append_text(fmt::memory_buffer& out, capture_status v) { append(out, to_string(v)); }

namespace detail {

void text_value_writer::write_signed(std::int64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}
void text_value_writer::write_unsigned(std::uint64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}
void text_value_writer::write_bool(bool v) {
  before_value();
  out_.append(std::string_view(v ? "true" : "false"));
}
void text_value_writer::write_string(std::string_view text) {
  before_value();
  append_quoted(out_, text);
}
void text_value_writer::write_bytes(std::span<const std::uint8_t> bytes) {
  before_value();
  append_quoted(out_, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}
void text_value_writer::key(std::string_view name) {
  before_key();
  out_.append(name);
  out_.append(std::string_view(": "));
}

}  // namespace detail
}  // namespace ebpfpub
