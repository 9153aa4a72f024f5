#include "text_format.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace ebpftracer {
namespace {

std::string capture_text(ebpfpub::capture_status status, std::string_view captured,
                         std::uint64_t address) {
  using ebpfpub::capture_status;
  switch (status) {
    case capture_status::ok: return fmt::format("'{}'", escape(captured));
    case capture_status::truncated: return fmt::format("'{}'(truncated)", escape(captured));
    case capture_status::null_pointer: return "NULL";
    case capture_status::not_captured: return fmt::format("{:#x}", address);
    case capture_status::fault:
    case capture_status::no_space:
      return fmt::format("<{} {:#x}>", ebpfpub::to_string(status), address);
  }
  return "?";
}

struct value_text {
  std::string operator()(std::int64_t v) const { return fmt::format("{}", v); }
  std::string operator()(std::uint64_t v) const { return fmt::format("{}", v); }
  std::string operator()(const ebpfpub::fd& v) const { return fmt::format("{}", v.value); }
  std::string operator()(const ebpfpub::user_pointer& v) const { return fmt::format("{:#x}", v.address); }
  std::string operator()(const ebpfpub::user_string& v) const {
    return capture_text(v.status, v.value, v.address);
  }
  std::string operator()(const ebpfpub::user_buffer& v) const {
    return capture_text(v.status, {reinterpret_cast<const char*>(v.data.data()), v.data.size()}, v.address);
  }
  std::string operator()(const ebpfpub::user_sockaddr& v) const {
    return capture_text(v.status, {reinterpret_cast<const char*>(v.data.data()), v.data.size()}, v.address);
  }
  std::string operator()(const ebpfpub::user_string_array& v) const {
    if (v.status == ebpfpub::capture_status::not_captured || v.status == ebpfpub::capture_status::null_pointer)
      return capture_text(v.status, {}, v.address);
    std::vector<std::string> items;
    for (const auto& s : v.values) items.push_back(fmt::format("'{}'", escape(s)));
    return fmt::format("[{}]{}", fmt::join(items, ", "),
                       v.status == ebpfpub::capture_status::ok ? "" : "(truncated)");
  }
};

}  // namespace

std::string escape(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::string format_text(const ebpfpub::dynamic_event& e) {
  const auto& h = e.header;
  std::string out = fmt::format(
      "timestamp: {} process_id: {} thread_id: {} user_id: {} group_id: {} exit_code: {} "
      "probe_error: {}\nsyscall: {}",
      h.timestamp, h.process_id, h.thread_id, h.user_id, h.group_id, h.exit_code,
      h.probe_error ? 1 : 0, h.syscall);
  std::vector<const ebpfpub::dynamic_argument*> args;
  for (const auto& a : e.args) args.push_back(&a);
  std::sort(args.begin(), args.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const auto* a : args) out += fmt::format(" {}: {}", a->name, std::visit(value_text{}, a->value));
  out += '\n';
  return out;
}

}  // namespace ebpftracer
