// JSON written as it goes. The output is byte for byte what nlohmann::ordered_json's
// dump() printed when ebpftracer built a document per event (tests/unit/json_test.cpp
// keeps that writer as the reference); building the document cost 2.5-3.5 us an event.
#include <ebpfpub/format/json.hpp>

#include <optional>

#include <ebpfpub/symbols/symbols.hpp>

#include <ebpfpub/format/escape.hpp>

#include "writers.hpp"

namespace ebpfpub {
namespace {

using detail::put;

template <std::size_t N>
void raw(fmt::memory_buffer& out, const char (&s)[N]) {
  detail::put_literal(out, s);
}

template <typename T>
void number(fmt::memory_buffer& out, T v) {
  detail::put_number(out, v);
}

// `"name":`, for names that need no escaping (ours and the kernel's field names).
void key(fmt::memory_buffer& out, std::string_view name) {
  out.push_back('"');
  put(out, name);
  raw(out, "\":");
}

void bytes(fmt::memory_buffer& out, std::span<const std::uint8_t> data) {
  out.push_back('"');
  append_base64(out, data);
  out.push_back('"');
}

void failed_capture(fmt::memory_buffer& out, capture_status status, std::uint64_t address) {
  raw(out, "{\"address\":");
  number(out, address);
  raw(out, ",\"error\":");
  append_json_string(out, to_string(status));
  out.push_back('}');
}

bool usable(capture_status s) { return s == capture_status::ok || s == capture_status::truncated; }

struct value_json {
  fmt::memory_buffer& out;

  void operator()(std::int64_t v) const { number(out, v); }
  void operator()(std::uint64_t v) const { number(out, v); }
  void operator()(const fd& v) const { detail::append_fd_json(out, v); }
  void operator()(const user_pointer& v) const { number(out, v.address); }
  void operator()(const user_string& v) const {
    if (v.status == capture_status::not_captured) return number(out, v.address);
    if (!usable(v.status)) return failed_capture(out, v.status, v.address);
    if (!v.resolved) return append_json_string(out, v.value);
    // A resolved path argument is an object, as an fd with its identity is.
    put(out, "{\"value\":");
    append_json_string(out, v.value);
    put(out, ",\"path_state\":");
    append_json_string(out, to_string(v.resolved->state));
    if (!v.resolved->path.empty()) {
      put(out, ",\"path\":");
      append_json_string(out, v.resolved->path);
    }
    if (v.resolved->state == path_base_state::truncated) {
      put(out, ",\"directory_tail\":");
      append_json_string(out, v.resolved->directory);
    }
    out.push_back('}');
  }
  void operator()(const user_buffer& v) const {
    if (v.status == capture_status::not_captured) return number(out, v.address);
    if (!usable(v.status)) return failed_capture(out, v.status, v.address);
    bytes(out, v.data);
  }
  void operator()(const user_sockaddr& v) const {
    if (v.status == capture_status::not_captured) return number(out, v.address);
    if (!usable(v.status)) return failed_capture(out, v.status, v.address);
    socket_address a;
    const bool whole = decode_sockaddr(v.data, a);
    const auto family = family_name(a.family);
    if (whole && !a.address.empty()) {
      raw(out, "{\"family\":");
      append_json_string(out, family);
      raw(out, ",\"address\":");
      append_json_string(out, a.address);
      raw(out, ",\"port\":");
      number(out, a.port);
      out.push_back('}');
    } else if (whole && family == "AF_UNIX") {
      raw(out, "{\"family\":\"AF_UNIX\",\"path\":");
      append_json_string(out, a.path);
      out.push_back('}');
    } else {
      raw(out, "{\"family\":");
      number(out, a.family);
      raw(out, ",\"data\":");
      bytes(out, a.data);
      out.push_back('}');
    }
  }
  void operator()(const user_string_array& v) const {
    if (v.status == capture_status::not_captured) return number(out, v.address);
    if (!usable(v.status)) return failed_capture(out, v.status, v.address);
    out.push_back('[');
    for (std::size_t i = 0; i < v.values.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_json_string(out, v.values[i]);
    }
    out.push_back(']');
  }
  void operator()(const fd_pair& v) const {
    if (v.status != capture_status::ok) return failed_capture(out, v.status, v.address);
    out.push_back('[');
    number(out, v.first);
    out.push_back(',');
    number(out, v.second);
    out.push_back(']');
  }
  void operator()(const open_how& v) const {
    if (v.status != capture_status::ok) return failed_capture(out, v.status, v.address);
    raw(out, "{\"flags\":");
    number(out, v.flags);
    raw(out, ",\"mode\":");
    number(out, v.mode);
    raw(out, ",\"resolve\":");
    number(out, v.resolve);
    out.push_back('}');
  }
  void operator()(const clone_args& v) const {
    if (v.status != capture_status::ok) return failed_capture(out, v.status, v.address);
    raw(out, "{\"flags\":");
    number(out, v.flags);
    raw(out, ",\"exit_signal\":");
    number(out, v.exit_signal);
    out.push_back('}');
  }
  void operator()(const signal_mask& v) const {
    if (v.status != capture_status::ok) return failed_capture(out, v.status, v.address);
    raw(out, "{\"mask\":");
    number(out, v.mask);
    raw(out, ",\"signals\":[");
    bool first = true;
    for (unsigned bit = 0; bit < 64; ++bit) {
      if (!(v.mask >> bit & 1)) continue;
      if (!first) out.push_back(',');
      first = false;
      const auto name = symbols::signal_name(bit + 1);
      if (name.empty()) number(out, bit + 1);
      else append_json_string(out, name);
    }
    raw(out, "]}");
  }
  void operator()(const custom_value& v) const {
    detail::json_value_writer w(out);
    v.describe(w);
  }
};

}  // namespace

void append_json(fmt::memory_buffer& out, const dynamic_value& v) { std::visit(value_json{out}, v); }

namespace {
// `,"names":{..}` for the arguments that take a set of names, `,"error":"E.."` for a failed
// call (docs/event-format.md).
void append_names(fmt::memory_buffer& out, const dynamic_event& e) {
  bool first = true;
  const detail::argument_numbers numbers(e);
  for (const auto& a : e.args) {
    const auto name = detail::argument_name(e.header.syscall, a.name, a.value, numbers.all());
    if (!name) continue;
    if (first)
      raw(out, ",\"names\":{");
    else
      out.push_back(',');
    first = false;
    key(out, a.name);
    append_json_string(out, *name);
  }
  if (!first) out.push_back('}');
  if (const auto error = symbols::error_name(e.header.exit_code); !e.header.sent_at_enter && !error.empty()) {
    raw(out, ",\"error\":");
    append_json_string(out, error);
  }
}
}  // namespace

void append_json(fmt::memory_buffer& out, const dynamic_event& e) { append_json(out, e, json_style::numbers); }

void append_json(fmt::memory_buffer& out, const dynamic_event& e, json_style style) {
  const auto& h = e.header;
  raw(out, "{\"timestamp\":");
  number(out, h.timestamp);
  raw(out, ",\"process_id\":");
  number(out, h.process_id);
  raw(out, ",\"thread_id\":");
  number(out, h.thread_id);
  raw(out, ",\"user_id\":");
  number(out, h.user_id);
  raw(out, ",\"group_id\":");
  number(out, h.group_id);
  raw(out, ",\"syscall\":");
  append_json_string(out, h.syscall);
  raw(out, ",\"exit_code\":");
  number(out, h.exit_code);
  raw(out, ",\"duration_ns\":");
  number(out, h.duration_ns);
  if (h.returned_fd) {
    raw(out, ",\"returned_fd\":");
    detail::append_fd_json(out, fd{static_cast<std::int32_t>(h.exit_code), h.returned_fd});
  }
  if (!h.context.fields.empty()) detail::append_context_json(out, h.context);
  if (h.probe_error)
    raw(out, ",\"probe_error\":true,\"args\":{");
  else
    raw(out, ",\"probe_error\":false,\"args\":{");
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    if (i > 0) out.push_back(',');
    key(out, e.args[i].name);
    append_json(out, e.args[i].value);
  }
  raw(out, "}");
  if (style == json_style::names) append_names(out, e);
  raw(out, "}");
}

namespace detail {

void json_value_writer::write_signed(std::int64_t v) {
  before_value();
  number(out_, v);
}
void json_value_writer::write_unsigned(std::uint64_t v) {
  before_value();
  number(out_, v);
}
void json_value_writer::write_bool(bool v) {
  before_value();
  if (v)
    raw(out_, "true");
  else
    raw(out_, "false");
}
void json_value_writer::write_string(std::string_view text) {
  before_value();
  append_json_string(out_, text);
}
void json_value_writer::write_bytes(std::span<const std::uint8_t> data) {
  before_value();
  bytes(out_, data);
}
void json_value_writer::key(std::string_view name) {
  before_key();
  append_json_string(out_, name);
  out_.push_back(':');
}

}  // namespace detail
}  // namespace ebpfpub
