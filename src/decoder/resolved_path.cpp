// Decoding a base directory capture (include/ebpfpub/resolved_path.hpp): the component
// names the walk wrote leaf first, reversed and joined, then the argument joined to them.

#include <ebpfpub/resolved_path.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace ebpfpub {

std::string_view to_string(path_base_state state) noexcept {
  switch (state) {
    case path_base_state::resolved: return "resolved";
    case path_base_state::absolute: return "absolute";
    case path_base_state::truncated: return "truncated";
    case path_base_state::unreachable: return "unreachable";
    case path_base_state::deleted: return "deleted";
    case path_base_state::bad_fd: return "bad fd";
    case path_base_state::unreadable: return "unreadable";
  }
  return "unknown";
}

std::string join_path(std::string_view directory, std::string_view argument) {
  std::string out(directory);
  if (argument.empty()) return out;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(argument);
  return out;
}

std::optional<resolved_path> decode_base_directory(std::span<const std::uint8_t> bytes,
                                                   std::string_view argument) {
  namespace layout = record::base_directory_layout;
  if (bytes.size() < layout::names) return std::nullopt;
  const auto state = static_cast<path_base_state>(bytes[layout::state]);
  if (bytes[layout::state] < static_cast<std::uint8_t>(path_base_state::resolved) ||
      bytes[layout::state] > static_cast<std::uint8_t>(path_base_state::unreadable))
    return std::nullopt;
  std::uint32_t count = 0;
  std::memcpy(&count, bytes.data() + layout::count, sizeof count);
  // Each name ends with its NUL; the count must be exactly the names there are.
  std::vector<std::string_view> names;
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  for (std::size_t at = layout::names; at < bytes.size();) {
    const auto* end = static_cast<const char*>(std::memchr(text + at, 0, bytes.size() - at));
    if (!end) return std::nullopt;
    names.emplace_back(text + at, static_cast<std::size_t>(end - (text + at)));
    at = static_cast<std::size_t>(end - text) + 1;
  }
  if (names.size() != count) return std::nullopt;
  const bool any_slash = std::any_of(names.begin(), names.end(), [](std::string_view n) {
    return n.empty() || n.find('/') != std::string_view::npos;
  });
  if (any_slash) return std::nullopt;  // a dentry name is never empty and holds no '/'
  resolved_path out;
  out.state = state;
  std::string joined;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (!joined.empty() || state == path_base_state::resolved) joined.push_back('/');
    joined.append(*it);
  }
  switch (state) {
    case path_base_state::resolved:
      out.directory = joined.empty() ? "/" : joined;
      out.path = join_path(out.directory, argument);
      break;
    case path_base_state::absolute:
      if (count != 0) return std::nullopt;
      out.path = std::string(argument);
      break;
    case path_base_state::truncated: out.directory = joined; break;
    default: break;  // unreachable may have read names before it knew: they lead nowhere
  }
  // The walk ran for a path whose text it could not read at enter; absolute after all.
  if (state != path_base_state::absolute && argument.starts_with('/')) {
    out.state = path_base_state::absolute;
    out.directory.clear();
    out.path = std::string(argument);
  }
  return out;
}

}  // namespace ebpfpub
