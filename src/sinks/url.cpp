// Sink URLs: scheme://authority/path?key=value&key=value. Only what the sinks need: no
// percent-decoding (subjects, topics and paths here are plain).

#include <fmt/format.h>

#include <charconv>

#include "sinks/transport.hpp"

namespace ebpfpub::sinks::detail {

expected<url_parts> parse_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return error(errc::invalid_argument,
                 fmt::format("sink URL '{}': {}; expected scheme://host/path, e.g. "
                             "file:///var/log/ebpfpub.jsonl or nats://127.0.0.1:4222/subject",
                             url, why));
  };
  const auto colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return bad("no scheme");
  url_parts u;
  u.scheme = std::string(url.substr(0, colon));
  std::string_view rest = url.substr(colon + 3);
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no path");
  u.authority = std::string(rest.substr(0, slash));
  u.path = std::string(rest.substr(slash + 1));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return bad(fmt::format("query item '{}' is not key=value", item));
    u.query[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return u;
}

expected<std::uint64_t> query_number(const url_parts& u, std::string_view key,
                                     std::uint64_t fallback, std::string_view url) {
  const auto it = u.query.find(std::string(key));
  if (it == u.query.end()) return fallback;
  std::uint64_t value = 0;
  const auto& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return error(errc::invalid_argument,
                 fmt::format("sink URL '{}': {}={} is not a non-negative integer", url, key, text));
  return value;
}

}  // namespace ebpfpub::sinks::detail
