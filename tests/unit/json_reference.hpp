#pragma once
// The JSON ebpftracer printed before the library had its own writer: an nlohmann DOM per
// event (examples/ebpftracer/json_format.cpp at bd0c63d), kept here only as the golden
// reference the streaming writer must equal byte for byte. The old code, unchanged but
// for `inline` and an alternative for custom values (which did not exist).

#include <string>

#include <nlohmann/json.hpp>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/symbols/symbols.hpp>

namespace ebpfpub::test::reference {

using json = nlohmann::ordered_json;

inline std::string base64(const std::vector<std::uint8_t>& data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    const std::uint32_t n = data[i] << 16;
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8);
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
inline std::size_t utf8_sequence(std::string_view s) {
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

inline std::string json_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const auto n = utf8_sequence(bytes);
    if (n == 0) {
      static constexpr char hex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(bytes.front());
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      bytes.remove_prefix(1);
    } else {
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
  }
  return out;
}

inline json capture_json(ebpfpub::capture_status status, std::uint64_t address) {
  return {{"address", address}, {"error", std::string(ebpfpub::to_string(status))}};
}

inline bool usable(ebpfpub::capture_status s) {
  return s == ebpfpub::capture_status::ok || s == ebpfpub::capture_status::truncated;
}

struct value_json {
  json operator()(std::int64_t v) const { return v; }
  json operator()(std::uint64_t v) const { return v; }
  json operator()(const ebpfpub::fd& v) const { return v.value; }
  json operator()(const ebpfpub::user_pointer& v) const { return v.address; }
  json operator()(const ebpfpub::user_string& v) const {
    if (v.status == ebpfpub::capture_status::not_captured) return v.address;
    if (!usable(v.status)) return capture_json(v.status, v.address);
    return json_text(v.value);
  }
  json operator()(const ebpfpub::user_buffer& v) const {
    if (v.status == ebpfpub::capture_status::not_captured) return v.address;
    if (!usable(v.status)) return capture_json(v.status, v.address);
    return base64(v.data);
  }
  json operator()(const ebpfpub::user_sockaddr& v) const {
    if (v.status == ebpfpub::capture_status::not_captured) return v.address;
    if (!usable(v.status)) return capture_json(v.status, v.address);
    ebpfpub::socket_address a;
    const bool whole = ebpfpub::decode_sockaddr(v.data, a);
    const auto family = ebpfpub::family_name(a.family);
    if (whole && !a.address.empty())
      return {{"family", family}, {"address", a.address}, {"port", a.port}};
    if (whole && family == "AF_UNIX") return {{"family", "AF_UNIX"}, {"path", json_text(a.path)}};
    return {{"family", a.family}, {"data", base64(a.data)}};
  }
  json operator()(const ebpfpub::user_string_array& v) const {
    if (v.status == ebpfpub::capture_status::not_captured) return v.address;
    if (!usable(v.status)) return capture_json(v.status, v.address);
    json items = json::array();
    for (const auto& s : v.values) items.push_back(json_text(s));
    return items;
  }
  json operator()(const ebpfpub::fd_pair& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_json(v.status, v.address);
    return json::array({v.first, v.second});
  }
  json operator()(const ebpfpub::open_how& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_json(v.status, v.address);
    return {{"flags", v.flags}, {"mode", v.mode}, {"resolve", v.resolve}};
  }
  json operator()(const ebpfpub::custom_value&) const { return "custom"; }
  json operator()(const ebpfpub::signal_mask& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_json(v.status, v.address);
    json names = json::array();
    for (unsigned bit = 0; bit < 64; ++bit)
      if (v.mask >> bit & 1) names.push_back(std::string(ebpfpub::symbols::signal_name(bit + 1)));
    return {{"mask", v.mask}, {"signals", names}};
  }
  json operator()(const ebpfpub::clone_args& v) const {
    if (v.status != ebpfpub::capture_status::ok) return capture_json(v.status, v.address);
    return {{"flags", v.flags}, {"exit_signal", v.exit_signal}};
  }
};


inline std::string format_json(const ebpfpub::dynamic_event& e) {
  const auto& h = e.header;
  json args = json::object();
  for (const auto& a : e.args) args[std::string(a.name)] = std::visit(value_json{}, a.value);
  const json event = {{"timestamp", h.timestamp}, {"process_id", h.process_id},
                      {"thread_id", h.thread_id},  {"user_id", h.user_id},
                      {"group_id", h.group_id},    {"syscall", h.syscall},
                      {"exit_code", h.exit_code},  {"duration_ns", h.duration_ns},
                      {"probe_error", h.probe_error},
                      {"args", std::move(args)}};
  return event.dump();
}

inline std::string format_json_summary(const ebpfpub::statistics& stats) {
  json by_syscall = json::object();
  for (const auto& s : stats.by_syscall) by_syscall[s.syscall] = {{"events", s.events}, {"lost", s.lost()}};
  const json summary = {{"summary", {{"events", stats.events()}, {"lost", stats.lost()},
                                     {"probe_errors", stats.probe_errors()},
                                     {"by_syscall", std::move(by_syscall)}}}};
  return summary.dump();
}


}  // namespace ebpfpub::test::reference
