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

std::string bytes_text(const std::vector<std::uint8_t>& data) {
  return escape({reinterpret_cast<const char*>(data.data()), data.size()});
}

struct value_text {
  std::string_view syscall;
  std::string_view name;

  // open, openat, creat and openat2 flags and modes read as the C source spells them
  // (other modes stay decimal, as the seed printed mkdir's).
  bool is_open_flags() const {
    return name == "flags" && (syscall == "open" || syscall == "openat");
  }
  bool is_mode() const {
    return name == "mode" && (syscall == "open" || syscall == "openat" || syscall == "creat");
  }

  std::string operator()(std::int64_t v) const {
    if (is_open_flags()) return open_flags_text(static_cast<std::uint64_t>(v));
    return fmt::format("{}", v);
  }
  std::string operator()(std::uint64_t v) const {
    if (is_mode()) return mode_text(v);
    return fmt::format("{}", v);
  }
  std::string operator()(const ebpfpub::fd_pair& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_text(v.status, {}, v.address);
    return fmt::format("[{}, {}]", v.first, v.second);
  }
  std::string operator()(const ebpfpub::open_how& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_text(v.status, {}, v.address);
    return fmt::format("{{flags: {}, mode: {}, resolve: {:#x}}}", open_flags_text(v.flags),
                       mode_text(v.mode), v.resolve);
  }
  std::string operator()(const ebpfpub::clone_args& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_text(v.status, {}, v.address);
    return fmt::format("{{flags: {:#x}, exit_signal: {}}}", v.flags, v.exit_signal);
  }
  std::string operator()(const ebpfpub::fd& v) const { return fmt::format("{}", v.value); }
  std::string operator()(const ebpfpub::user_pointer& v) const { return fmt::format("{:#x}", v.address); }
  std::string operator()(const ebpfpub::user_string& v) const {
    return capture_text(v.status, v.value, v.address);
  }
  std::string operator()(const ebpfpub::user_buffer& v) const {
    return capture_text(v.status, {reinterpret_cast<const char*>(v.data.data()), v.data.size()}, v.address);
  }

  std::string operator()(const ebpfpub::user_sockaddr& v) const {
    if (v.status != ebpfpub::capture_status::ok && v.status != ebpfpub::capture_status::truncated)
      return capture_text(v.status, {}, v.address);
    ebpfpub::socket_address a;
    if (!ebpfpub::decode_sockaddr(v.data, a)) return fmt::format("{{family: {} data: '{}'}}", a.family, bytes_text(a.data));
    const auto family = ebpfpub::family_name(a.family);
    if (!a.address.empty())
      return a.address.find(':') != std::string::npos
                 ? fmt::format("{{{} [{}]:{}}}", family, a.address, a.port)
                 : fmt::format("{{{} {}:{}}}", family, a.address, a.port);
    if (family == "AF_UNIX") return fmt::format("{{AF_UNIX '{}'}}", escape(a.path));
    return fmt::format("{{family: {} data: '{}'}}", a.family, bytes_text(a.data));
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

std::string open_flags_text(std::uint64_t flags) {
  // Access mode first (it is a two-bit number, not a flag), then every flag set.
  static constexpr std::pair<std::uint64_t, std::string_view> names[] = {
      {0100, "O_CREAT"},      {0200, "O_EXCL"},        {0400, "O_NOCTTY"},
      {01000, "O_TRUNC"},     {02000, "O_APPEND"},     {04000, "O_NONBLOCK"},
      {010000, "O_DSYNC"},    {020000, "O_ASYNC"},     {040000, "O_DIRECT"},
      {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
      {02000000, "O_CLOEXEC"}, {04010000, "O_SYNC"},   {010000000, "O_PATH"},
      {020200000, "O_TMPFILE"}, {0100000, "O_LARGEFILE"}};
  static constexpr std::string_view access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  std::string out(access[flags & 3]);
  std::uint64_t rest = flags & ~std::uint64_t{3};
  for (const auto& [bit, name] : names) {
    if ((rest & bit) != bit) continue;
    out += '|';
    out += name;
    rest &= ~bit;
  }
  if (rest != 0) out += fmt::format("|{:#o}", rest);
  return out;
}

std::string mode_text(std::uint64_t mode) { return mode == 0 ? "0" : fmt::format("0{:o}", mode); }

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
  for (const auto* a : args)
    out += fmt::format(" {}: {}", a->name, std::visit(value_text{h.syscall, a->name}, a->value));
  out += '\n';
  return out;
}

}  // namespace ebpftracer
