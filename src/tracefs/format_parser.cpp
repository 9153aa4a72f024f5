// Parser for tracepoint `format` files. The text comes from the kernel, but the parser
// treats it as untrusted (it is fuzzed): every number is range-checked, every error
// names the source and the line.

#include <ebpfpub/tracefs.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace ebpfpub {
namespace {

constexpr std::string_view whitespace = " \t\r";

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(whitespace);
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(whitespace);
  return s.substr(begin, end - begin + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

template <typename Int>
bool parse_number(std::string_view text, Int& out) {
  text = trim(text);
  if (text.empty()) return false;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_';
}

class line_parser {
 public:
  line_parser(std::string_view source, std::size_t line) : source_(source), line_(line) {}

  error fail(std::string_view what) const {
    return error(errc::malformed_input, fmt::format("{}:{}: {}", source_, line_, what));
  }

  // "unsigned short common_type" -> {"unsigned short", "common_type"};
  // "char comm[16]" -> {"char[16]", "comm"}; "__data_loc char[] name" -> {"__data_loc char[]", "name"}
  expected<std::pair<std::string, std::string>> split_declaration(std::string_view decl) const {
    decl = trim(decl);
    std::string_view array_suffix;
    if (!decl.empty() && decl.back() == ']') {
      const auto open = decl.rfind('[');
      if (open == std::string_view::npos) return fail("unbalanced ']' in field declaration");
      array_suffix = decl.substr(open);
      decl = trim(decl.substr(0, open));
    }
    std::size_t name_begin = decl.size();
    while (name_begin > 0 && is_identifier_char(decl[name_begin - 1])) --name_begin;
    const auto name = decl.substr(name_begin);
    const auto type = trim(decl.substr(0, name_begin));
    if (name.empty()) return fail(fmt::format("field declaration '{}' has no name", decl));
    if (type.empty()) return fail(fmt::format("field '{}' has no type", name));
    if (name.front() >= '0' && name.front() <= '9')
      return fail(fmt::format("field name '{}' starts with a digit", name));
    return std::pair{std::string(type) + std::string(array_suffix), std::string(name)};
  }

  template <typename Int>
  expected<Int> attribute(std::string_view part, std::string_view key) const {
    part = trim(part);
    if (!starts_with(part, key) || part.size() <= key.size() || part[key.size()] != ':')
      return fail(fmt::format("expected '{}:<number>', found '{}'", key, part));
    Int value{};
    if (!parse_number(part.substr(key.size() + 1), value))
      return fail(fmt::format("'{}' is not a valid {} (expected a number that fits {} bits)",
                              part.substr(key.size() + 1), key, sizeof(Int) * 8));
    return value;
  }

  // "field:int dfd;\toffset:16;\tsize:8;\tsigned:0;"
  expected<format_field> field(std::string_view text) const {
    std::vector<std::string_view> parts;
    while (!text.empty()) {
      const auto semi = text.find(';');
      if (semi == std::string_view::npos) {
        if (!trim(text).empty()) parts.push_back(text);
        break;
      }
      parts.push_back(text.substr(0, semi));
      text.remove_prefix(semi + 1);
    }
    if (parts.size() != 4)
      return fail(fmt::format("expected 'field:<decl>; offset:N; size:N; signed:N;', found {} "
                              "part(s) separated by ';'", parts.size()));
    auto decl = split_declaration(trim(parts[0]).substr(std::string_view("field:").size()));
    if (!decl) return decl.error();
    auto offset = attribute<std::uint32_t>(parts[1], "offset");
    if (!offset) return offset.error();
    auto size = attribute<std::uint32_t>(parts[2], "size");
    if (!size) return size.error();
    auto is_signed = attribute<std::uint32_t>(parts[3], "signed");
    if (!is_signed) return is_signed.error();
    if (*size == 0) return fail(fmt::format("field '{}' has size 0", decl->second));
    if (*is_signed > 1) return fail(fmt::format("field '{}' has signed:{} (expected 0 or 1)",
                                                decl->second, *is_signed));
    if (std::uint64_t{*offset} + *size > std::uint64_t{UINT32_MAX})
      return fail(fmt::format("field '{}' ends beyond 4 GiB", decl->second));
    return format_field{std::move(decl->first), std::move(decl->second), *offset, *size,
                        *is_signed == 1};
  }

 private:
  std::string_view source_;
  std::size_t line_;
};

}  // namespace

const format_field* tracepoint_format::find(std::string_view field_name) const noexcept {
  for (const auto& f : fields)
    if (f.name == field_name) return &f;
  return nullptr;
}

std::span<const format_field> tracepoint_format::payload() const noexcept {
  std::size_t first = 0;
  while (first < fields.size() &&
         (starts_with(fields[first].name, "common_") || fields[first].name == "__syscall_nr"))
    ++first;
  return std::span(fields).subspan(first);
}

expected<tracepoint_format> parse_tracepoint_format(std::string_view text,
                                                    std::string_view source) {
  tracepoint_format result;
  bool have_name = false, have_id = false, in_format = false;
  std::size_t line_number = 0;

  while (!text.empty()) {
    const auto newline = text.find('\n');
    auto line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    const line_parser parser(source, line_number);

    if (line.find('\0') != std::string_view::npos) return parser.fail("unexpected NUL byte");
    const auto content = trim(line);
    if (content.empty()) continue;
    if (starts_with(content, "print fmt:")) break;  // the rest is C, which we do not need

    if (starts_with(content, "name:")) {
      if (have_name) return parser.fail("a second 'name:' line");
      result.name = std::string(trim(content.substr(5)));
      if (result.name.empty()) return parser.fail("'name:' without a name");
      have_name = true;
    } else if (starts_with(content, "ID:")) {
      if (have_id) return parser.fail("a second 'ID:' line");
      if (!parse_number(content.substr(3), result.id))
        return parser.fail(fmt::format("'{}' is not a valid ID", trim(content.substr(3))));
      have_id = true;
    } else if (content == "format:") {
      in_format = true;
    } else if (starts_with(content, "field:")) {
      if (!in_format) return parser.fail("'field:' before the 'format:' line");
      auto field = parser.field(content);
      if (!field) return field.error();
      if (result.find(field->name))
        return parser.fail(fmt::format("field '{}' appears twice", field->name));
      if (!result.fields.empty()) {
        const auto& previous = result.fields.back();
        if (field->offset < previous.offset + previous.size)
          return parser.fail(fmt::format("field '{}' at offset {} overlaps '{}' ({}+{})",
                                         field->name, field->offset, previous.name,
                                         previous.offset, previous.size));
      }
      result.fields.push_back(std::move(*field));
    } else {
      return parser.fail(fmt::format("unexpected line '{}'", content.substr(0, 80)));
    }
  }

  if (!have_name) return error(errc::malformed_input, fmt::format("{}: no 'name:' line", source));
  if (!have_id) return error(errc::malformed_input, fmt::format("{}: no 'ID:' line", source));
  if (result.fields.empty())
    return error(errc::malformed_input, fmt::format("{}: no fields", source));
  return result;
}

std::vector<std::string> closest_names(std::string_view name,
                                       std::span<const std::string> candidates,
                                       std::size_t limit) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    std::size_t d = distance(name, candidate);
    // A name that contains the query ("open" -> "openat") is a better hint than its
    // edit distance says.
    if (!name.empty() && candidate.find(name) != std::string::npos) d = std::min<std::size_t>(d, 1);
    scored.emplace_back(d, candidate);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> result;
  const std::size_t max_distance = std::max<std::size_t>(2, name.size() / 2);
  for (auto& [d, candidate] : scored) {
    if (result.size() == limit || d > max_distance) break;
    result.push_back(std::move(candidate));
  }
  return result;
}

}  // namespace ebpfpub
