// The filter language's lexer and recursive-descent parser (grammar in
// include/ebpfpub/filter/expression.hpp). The text comes from users and scripts: every
// error names what was expected and points at where.
#include <ebpfpub/filter/expression.hpp>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace ebpfpub::filter {
namespace {

struct token {
  enum class kind : std::uint8_t { end, word, number, address, string, symbol };
  kind type = kind::end;
  std::string text;  // word, number, address, symbol: as written; string: unescaped
  source_span where;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '/';
}

class lexer {
 public:
  explicit lexer(std::string_view text) : text_(text) {}

  expected<token> next() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    const std::size_t start = at_;
    if (at_ >= text_.size()) return token{token::kind::end, {}, {start, 0}};
    const char c = text_[at_];
    if (c == '"') return string(start);
    if (is_word_char(c)) {
      while (at_ < text_.size() && is_word_char(text_[at_])) ++at_;
      std::string word(text_.substr(start, at_ - start));
      const bool digit = std::isdigit(static_cast<unsigned char>(word[0]));
      const auto kind = word.find(':') != std::string::npos || (digit && word.find('.') != std::string::npos)
                            ? token::kind::address
                            : digit ? token::kind::number : token::kind::word;
      return token{kind, std::move(word), {start, at_ - start}};
    }
    for (std::string_view two : {"==", "!=", "<=", ">="})
      if (text_.substr(at_, 2) == two) {
        at_ += 2;
        return token{token::kind::symbol, std::string(two), {start, 2}};
      }
    if (std::string_view("<>&|(){},-").find(c) != std::string_view::npos) {
      ++at_;
      return token{token::kind::symbol, std::string(1, c), {start, 1}};
    }
    return error(errc::invalid_argument,
                 fmt::format("filter: unexpected character '{}'\n{}", c, caret(text_, {start, 1})));
  }

 private:
  expected<token> string(std::size_t start) {
    std::string out;
    ++at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      char c = text_[at_++];
      if (c == '\\' && at_ < text_.size()) {
        const char e = text_[at_++];
        if (e == 'n') c = '\n';
        else if (e == 't') c = '\t';
        else if (e == '0') c = '\0';
        else if (e == 'x' && at_ + 2 <= text_.size()) {
          unsigned byte = 0;
          const auto [p, ec] = std::from_chars(text_.data() + at_, text_.data() + at_ + 2, byte, 16);
          if (ec != std::errc() || p != text_.data() + at_ + 2)
            return error(errc::invalid_argument, fmt::format("filter: \\x needs two hex digits\n{}",
                                                             caret(text_, {at_ - 2, 4})));
          c = static_cast<char>(byte);
          at_ += 2;
        } else c = e;
      }
      out += c;
    }
    if (at_ >= text_.size())
      return error(errc::invalid_argument, fmt::format("filter: the string is not closed with \"\n{}",
                                                       caret(text_, {start, text_.size() - start})));
    ++at_;
    return token{token::kind::string, std::move(out), {start, at_ - start}};
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

constexpr int max_depth = 64;

class parser {
 public:
  explicit parser(std::string_view text) : text_(text), lex_(text) {}

  expected<expression> run() {
    if (auto ok = advance(); !ok) return ok.error();
    auto e = disjunction(0);
    if (!e) return e;
    if (current_.type != token::kind::end) return unexpected("'and', 'or' or the end");
    return e;
  }

 private:
  expected<void> advance() {
    auto t = lex_.next();
    if (!t) return t.error();
    current_ = std::move(*t);
    return {};
  }
  bool is(std::string_view symbol_or_keyword) const {
    return (current_.type == token::kind::symbol || current_.type == token::kind::word) &&
           current_.text == symbol_or_keyword;
  }
  error unexpected(std::string_view expected_what) const {
    const auto found = current_.type == token::kind::end ? std::string("the end")
                                                         : fmt::format("'{}'", text_.substr(current_.where.offset,
                                                                                            current_.where.length));
    const source_span where = current_.type == token::kind::end ? source_span{text_.size(), 1} : current_.where;
    return error(errc::invalid_argument,
                 fmt::format("filter: expected {}, found {}\n{}", expected_what, found, caret(text_, where)));
  }
  static source_span join(source_span a, source_span b) { return {a.offset, b.offset + b.length - a.offset}; }

  expected<expression> binary(int depth, expression::kind k, std::string_view keyword,
                              expected<expression> (parser::*operand)(int)) {
    auto first = (this->*operand)(depth);
    if (!first || !is(keyword)) return first;
    expression e{k, {}, {std::move(*first)}, {}};
    while (is(keyword)) {
      if (auto ok = advance(); !ok) return ok.error();
      auto next = (this->*operand)(depth);
      if (!next) return next;
      e.operands.push_back(std::move(*next));
    }
    e.where = join(e.operands.front().where, e.operands.back().where);
    return e;
  }
  expected<expression> disjunction(int depth) {
    if (depth > max_depth)
      return error(errc::invalid_argument, fmt::format("filter: nested more than {} deep\n{}", max_depth,
                                                       caret(text_, current_.where)));
    return binary(depth, expression::kind::any_of, "or", &parser::conjunction);
  }
  expected<expression> conjunction(int depth) {
    return binary(depth, expression::kind::all_of, "and", &parser::negation);
  }
  expected<expression> negation(int depth) {
    if (!is("not")) return primary(depth);
    const auto start = current_.where;
    if (auto ok = advance(); !ok) return ok.error();
    if (depth > max_depth) return unexpected("less nesting");
    auto inner = negation(depth + 1);
    if (!inner) return inner;
    const auto where = join(start, inner->where);
    return expression{expression::kind::negation, {}, {std::move(*inner)}, where};
  }
  expected<expression> primary(int depth) {
    if (is("(")) {
      const auto start = current_.where;
      if (auto ok = advance(); !ok) return ok.error();
      auto inner = disjunction(depth + 1);
      if (!inner) return inner;
      if (!is(")")) return unexpected("')'");
      inner->where = join(start, current_.where);
      if (auto ok = advance(); !ok) return ok.error();
      return inner;
    }
    return comparison_node();
  }

  expected<expression> comparison_node() {
    if (current_.type != token::kind::word) return unexpected("a field (uid, openat.filename, ...)");
    comparison c;
    c.field.where = current_.where;
    std::vector<std::string> parts;
    for (std::string_view rest = current_.text; !rest.empty();) {
      const auto dot = rest.find('.');
      parts.emplace_back(rest.substr(0, dot));
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (parts.size() > 3 || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); }))
      return unexpected("a field: name, syscall.name or syscall.name.member");
    if (parts.size() == 1) c.field.name = parts[0];
    else if (parts.size() == 2 && (parts[0] == "exe" || parts[0] == "executable")) {
      // The caller's executable (a context field), not a syscall: no syscall is so named.
      c.field.name = "exe";
      c.field.member = parts[1];
    } else {
      c.field.syscall = parts[0];
      c.field.name = parts[1];
      if (parts.size() == 3) c.field.member = parts[2];
    }
    if (auto ok = advance(); !ok) return ok.error();
    static constexpr std::pair<std::string_view, comparison_op> ops[] = {
        {"==", comparison_op::eq}, {"!=", comparison_op::ne}, {"<", comparison_op::lt},
        {"<=", comparison_op::le}, {">", comparison_op::gt},  {">=", comparison_op::ge},
        {"&", comparison_op::bits}, {"startswith", comparison_op::starts_with},
        {"endswith", comparison_op::ends_with}, {"contains", comparison_op::contains},
        {"in", comparison_op::in}};
    const auto* op = std::find_if(std::begin(ops), std::end(ops), [&](const auto& o) { return is(o.first); });
    if (op == std::end(ops))
      return unexpected("a comparison (== != < <= > >= & startswith endswith contains in)");
    c.op = op->second;
    if (auto ok = advance(); !ok) return ok.error();
    // `in {...}`, and a set of prefixes or suffixes: `startswith {"/etc/", "/usr/"}`.
    const bool affix = c.op == comparison_op::starts_with || c.op == comparison_op::ends_with;
    auto operand = c.op == comparison_op::in || (affix && is("{")) ? set_value() : single_value();
    if (!operand) return operand.error();
    c.operand = std::move(*operand);
    c.where = join(c.field.where, c.operand.where);
    return expression{expression::kind::comparison, std::move(c), {}, c.where};
  }

  expected<value> set_value() {
    if (current_.type == token::kind::address) return single_value();  // `in 10.0.0.0/8`
    if (!is("{")) return unexpected("'{' and a list of values, or an address block");
    value set;
    set.type = value::kind::set;
    set.where = current_.where;
    if (auto ok = advance(); !ok) return ok.error();
    while (!is("}")) {
      if (!set.items.empty()) {
        if (!is(",")) return unexpected("',' or '}'");
        if (auto ok = advance(); !ok) return ok.error();
      }
      if (set.items.size() == max_set_items) return unexpected(fmt::format("at most {} values", max_set_items));
      auto item = single_value();
      if (!item) return item;
      set.items.push_back(std::move(*item));
    }
    set.where = join(set.where, current_.where);
    if (auto ok = advance(); !ok) return ok.error();
    return set;
  }

  expected<value> single_value() {
    value v;
    v.where = current_.where;
    if (current_.type == token::kind::string) {
      v.type = value::kind::string;
      v.text = current_.text;
      if (auto ok = advance(); !ok) return ok.error();
      return v;
    }
    if (current_.type == token::kind::address) {
      auto block = parse_cidr(current_.text);
      if (!block) return unexpected("an IPv4 or IPv6 address, with an optional /prefix");
      v.type = value::kind::cidr;
      v.block = *block;
      if (auto ok = advance(); !ok) return ok.error();
      return v;
    }
    if (is("-")) {
      v.negated = true;
      if (auto ok = advance(); !ok) return ok.error();
    }
    // One number, or constants and numbers joined by '|'.
    std::vector<std::string> parts;
    source_span end = v.where;
    for (;;) {
      if (current_.type != token::kind::number && current_.type != token::kind::word)
        return unexpected(parts.empty() ? "a value (a number, a constant, a \"string\" or an address)"
                                        : "a number or a constant after '|'");
      parts.push_back(current_.text);
      end = current_.where;
      if (auto ok = advance(); !ok) return ok.error();
      if (!is("|")) break;
      if (auto ok = advance(); !ok) return ok.error();
    }
    v.where = join(v.where, end);
    if (parts.size() == 1 && std::isdigit(static_cast<unsigned char>(parts[0][0]))) {
      auto n = parse_number(parts[0]);
      if (!n) return error(errc::invalid_argument, fmt::format("filter: '{}' is not a number that fits in 64 "
                                                               "bits\n{}", parts[0], caret(text_, end)));
      v.type = value::kind::integer;
      v.integer = v.negated ? -static_cast<std::int64_t>(*n) : static_cast<std::int64_t>(*n);
      return v;
    }
    // Names are resolved against the field's symbols by check(); numbers among them are
    // ORed in here.
    v.type = value::kind::constant;
    for (const auto& p : parts) {
      if (!std::isdigit(static_cast<unsigned char>(p[0]))) {
        v.text += (v.text.empty() ? "" : "|") + p;
        continue;
      }
      auto n = parse_number(p);
      if (!n) return error(errc::invalid_argument, fmt::format("filter: '{}' is not a number that fits in 64 "
                                                               "bits\n{}", p, caret(text_, v.where)));
      v.integer |= static_cast<std::int64_t>(*n);
    }
    return v;
  }

 public:
  static std::optional<std::uint64_t> parse_number(std::string_view s) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s.remove_prefix(2);
    else if (s.size() > 1 && s[0] == '0') base = 8, s.remove_prefix(1);
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n, base);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return n;
  }
  static std::optional<cidr> parse_cidr(std::string_view s) {
    cidr c;
    const auto slash = s.find('/');
    const std::string address(s.substr(0, slash));
    if (::inet_pton(AF_INET, address.c_str(), c.bytes.data()) == 1) c.family = AF_INET, c.prefix = 32;
    else if (::inet_pton(AF_INET6, address.c_str(), c.bytes.data()) == 1) c.family = AF_INET6, c.prefix = 128;
    else return std::nullopt;
    if (slash != std::string_view::npos) {
      const auto bits = parse_number(s.substr(slash + 1));
      if (!bits || *bits > c.prefix || s.substr(slash + 1).empty()) return std::nullopt;
      c.prefix = static_cast<std::uint8_t>(*bits);
    }
    return c;
  }

 private:
  std::string_view text_;
  lexer lex_;
  token current_;
};

void collect_syscalls(const expression& e, std::vector<const field_ref*>& out) {
  if (e.type == expression::kind::comparison) {
    if (!e.test.field.syscall.empty()) out.push_back(&e.test.field);
    return;
  }
  for (const auto& o : e.operands) collect_syscalls(o, out);
}

}  // namespace

std::string caret(std::string_view text, source_span where) {
  const auto offset = std::min(where.offset, text.size());
  return fmt::format("  {}\n  {}{}", text, std::string(offset, ' '), std::string(std::max<std::size_t>(1, where.length), '^'));
}

expected<expression> parse(std::string_view text) { return parser(text).run(); }

expected<std::string> syscall_of(const expression& e, std::string_view text) {
  std::vector<const field_ref*> fields;
  collect_syscalls(e, fields);
  for (const auto* f : fields)
    if (f->syscall != fields.front()->syscall)
      return error(errc::invalid_argument,
                   fmt::format("filter: one filter is about one syscall, this one names {} and {}; write "
                               "one filter per syscall\n{}", fields.front()->syscall, f->syscall,
                               caret(text, f->where)));
  return fields.empty() ? std::string() : fields.front()->syscall;
}

}  // namespace ebpfpub::filter
