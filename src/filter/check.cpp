// Resolves a parsed filter against a plan: which bytes each comparison reads, when they
// are known (enter or exit), and what number each constant is.
#include <ebpfpub/filter/expression.hpp>

#include <algorithm>
#include <optional>

#include <sys/socket.h>

#include <fmt/format.h>

#include <ebpfpub/record.hpp>
#include <ebpfpub/symbols/symbols.hpp>
#include <ebpfpub/tracefs.hpp>

#include "filter/context_fields.hpp"

namespace ebpfpub::filter {
namespace {

using source = operand_source::kind;

struct header_field {
  std::string_view name;
  std::string_view alias;
  source kind;
};
constexpr header_field header_fields[] = {
    {"pid", "process_id", source::process_id}, {"tid", "thread_id", source::thread_id},
    {"uid", "user_id", source::user_id},       {"gid", "group_id", source::group_id},
    {"comm", "comm", source::comm},            {"exit_code", "ret", source::exit_code}};

bool is_string(source s) {
  return s == source::comm || s == source::string_capture || s == source::context_string ||
         s == source::fd_string || s == source::fd_path;
}

class checker {
 public:
  checker(const plan& p, std::string_view text, context_fields context)
      : plan_(p), text_(text), context_(context) {}

  expected<checked_expression> run(const expression& e) {
    checked_expression out;
    out.type = e.type;
    if (e.type != expression::kind::comparison) {
      for (const auto& o : e.operands) {
        auto c = run(o);
        if (!c) return c;
        out.at_enter = out.at_enter && c->at_enter;
        out.operands.push_back(std::move(*c));
      }
      return out;
    }
    auto src = resolve(e.test.field);
    if (!src) return src.error();
    out.test.source = *src;
    out.test.op = e.test.op;
    auto operand = typed_operand(e.test, *src);
    if (!operand) return operand.error();
    out.test.operand = std::move(*operand);
    out.at_enter = src->phase == syscall_phase::enter;
    return out;
  }

 private:
  error fail(source_span where, std::string message) const {
    return error(errc::invalid_argument, fmt::format("filter: {}\n{}", message, caret(text_, where)));
  }

  std::string field_list() const {
    std::vector<std::string> names;
    for (const auto& a : plan_.syscall.arguments) names.push_back(a.name);
    for (const auto& h : header_fields) names.emplace_back(h.name);
    return fmt::format("{}", fmt::join(names, ", "));
  }

  expected<operand_source> resolve(const field_ref& f) const {
    if (!f.syscall.empty() && f.syscall != plan_.syscall.name)
      return fail(f.where, fmt::format("this filter is about {}, not {}", f.syscall, plan_.syscall.name));
    const auto& args = plan_.syscall.arguments;
    const auto it = std::find_if(args.begin(), args.end(), [&](const auto& a) { return a.name == f.name; });
    const detail::field_error at_field = [&](std::string message) { return fail(f.where, std::move(message)); };
    if (auto context = detail::resolve_context_field(f, context_, at_field)) return std::move(*context);
    // kill.pid is kill's argument; a bare pid is the caller's.
    for (const auto& h : header_fields)
      if ((f.name == h.name || f.name == h.alias) && (f.syscall.empty() || it == args.end())) {
        if (!f.member.empty()) return fail(f.where, fmt::format("{} has no member {}", f.name, f.member));
        return operand_source{h.kind, 0, 0, 8, h.kind == source::exit_code,
                              h.kind == source::exit_code ? syscall_phase::exit : syscall_phase::enter};
      }
    if (f.syscall.empty())
      return fail(f.where, fmt::format("unknown field {}: the header's are pid, tid, uid, gid, comm and "
                                       "exit_code; the process context's ppid, cgroup, mnt_ns, pid_ns, "
                                       "net_ns, user_ns, exe.inode, exe.device and exe.name; an argument is "
                                       "written syscall.argument", f.name));
    if (it == args.end())
      return fail(f.where, fmt::format("{} has no field {} (its fields: {})", plan_.syscall.name, f.name, field_list()));
    const auto index = static_cast<std::uint8_t>(it - args.begin());
    const auto capture_of = [&](capture_op op) -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < plan_.captures.size(); ++i)
        if (plan_.captures[i].argument == index && plan_.captures[i].op == op) return i;
      return std::nullopt;
    };
    const auto captured = [&](capture_op op, source kind) -> expected<operand_source> {
      const auto c = capture_of(op);
      if (!c)
        return fail(f.where, fmt::format("{}.{} is not captured by the {} serializer, so it cannot be "
                                         "filtered on", plan_.syscall.name, f.name, plan_.serializer_name));
      return operand_source{kind, index, static_cast<std::uint8_t>(*c), 8, false, plan_.captures[*c].when};
    };
    if (it->kind == arg_kind::fd && !f.member.empty()) {
      const auto c = capture_of(capture_op::fd_identity);
      if (!c)
        return fail(f.where, fmt::format("{}.{}.{} is a field of the fd's identity, which this plan does not "
                                         "read: set plan_options::fd_identity", plan_.syscall.name, f.name,
                                         f.member));
      return detail::resolve_fd_member(f.member, index, static_cast<std::uint8_t>(*c), plan_.captures[*c].when,
                                       at_field);
    }
    switch (it->kind) {
      case arg_kind::integer:
      case arg_kind::fd:
      case arg_kind::user_pointer:
        if (!f.member.empty()) return fail(f.where, fmt::format("{}.{} is a number: it has no member {}",
                                                                plan_.syscall.name, f.name, f.member));
        return operand_source{source::argument, index, 0, it->width, it->is_signed, syscall_phase::enter};
      case arg_kind::user_string:
        if (!f.member.empty()) return fail(f.where, fmt::format("{}.{} is a string: it has no member {}",
                                                                plan_.syscall.name, f.name, f.member));
        return captured(capture_op::string, source::string_capture);
      case arg_kind::user_sockaddr:
        if (f.member == "family") return captured(capture_op::sockaddr, source::sockaddr_family);
        if (f.member == "port") return captured(capture_op::sockaddr, source::sockaddr_port);
        if (f.member == "address") return captured(capture_op::sockaddr, source::sockaddr_address);
        return fail(f.where, fmt::format("{}.{} is a socket address: compare its family, port or address "
                                         "({}.{}.port)", plan_.syscall.name, f.name, plan_.syscall.name, f.name));
      case arg_kind::user_buffer:
      case arg_kind::user_string_array:
        break;
    }
    return fail(f.where, fmt::format("{}.{} ({}) cannot be filtered on; its address can: compare it with a "
                                     "number", plan_.syscall.name, f.name, to_string(it->kind)));
  }

  // The set whose names an integer operand may use.
  const symbol_set* names_for(const comparison& c, const operand_source& s) const {
    if (s.type == source::exit_code) return symbols::find_set("errno");
    if (s.type == source::sockaddr_family) return symbols::find_set("address_families");
    if (s.type == source::argument) return symbols::of_argument(plan_.syscall.name, c.field.name);
    if (const auto set = detail::symbols_of(s); !set.empty()) return symbols::find_set(set);
    return nullptr;
  }

  expected<std::int64_t> constant(const value& v, const symbol_set* preferred) const {
    auto total = static_cast<std::uint64_t>(v.integer);  // the numbers among the names
    for (std::string_view rest = v.text; !rest.empty();) {
      const auto bar = rest.find('|');
      const auto name = rest.substr(0, bar);
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
      const auto found = lookup(name, preferred);
      if (!found) {
        std::string hint;
        if (preferred) {
          std::vector<std::string> names;
          for (const auto& s : preferred->symbols) names.emplace_back(s.name);
          for (const auto& field : preferred->fields)
            for (const auto& s : field.values) names.emplace_back(s.name);
          if (const auto best = closest_names(name, names, 1); !best.empty())
            hint = fmt::format(" (did you mean {}?)", best.front());
        }
        return fail(v.where, fmt::format("unknown constant {}{}", name, hint));
      }
      total |= *found;
    }
    const auto n = static_cast<std::int64_t>(total);
    return v.negated ? -n : n;
  }

  static std::optional<std::uint64_t> lookup(std::string_view name, const symbol_set* preferred) {
    const auto in = [&](const symbol_set& s) -> std::optional<std::uint64_t> {
      for (const auto& c : s.symbols)
        if (c.name == name) return c.value;
      for (const auto& field : s.fields)
        for (const auto& c : field.values)
          if (c.name == name) return c.value;
      return std::nullopt;
    };
    if (preferred)
      if (auto v = in(*preferred)) return v;
    for (const auto& s : symbols::sets())
      if (auto v = in(s)) return v;
    return std::nullopt;
  }

  expected<value> typed_operand(const comparison& c, const operand_source& s) const {
    const bool strings = is_string(s.type);
    const bool address = s.type == source::sockaddr_address || s.type == source::fd_address;
    // Named, not ordered: a kind or a cgroup is equal or not.
    const bool by_name = s.type == source::fd_kind ||
                         (s.type == source::context_number && s.offset == record::context_offset::cgroup_id);
    const auto op_allowed = [&] {
      switch (c.op) {
        case comparison_op::eq:
        case comparison_op::ne:
        case comparison_op::in: return true;
        case comparison_op::lt:
        case comparison_op::le:
        case comparison_op::gt:
        case comparison_op::ge:
        case comparison_op::bits: return !strings && !address && !by_name;
        case comparison_op::starts_with:
        case comparison_op::ends_with:
        case comparison_op::contains: return strings;
      }
      return false;
    }();
    const auto what = strings ? "a string" : address ? "an address" : "a number";
    if (!op_allowed)
      return fail(c.where, fmt::format("{} is {}: this comparison does not apply to it", c.field.name, what));
    const auto one = [&](const value& v) -> expected<value> {
      value out = v;
      if (strings) {
        if (v.type != value::kind::string)
          return fail(v.where, fmt::format("{} is a string: compare it with a \"string\"", c.field.name));
        const std::size_t bound = s.type == source::comm ? 15 : s.size > 0 ? s.size - 1u : max_string_bytes;
        if (v.text.size() > bound)
          return fail(v.where, fmt::format("the string is {} bytes; a filter compares at most {}", v.text.size(), bound));
        return out;
      }
      if (address) {
        if (v.type != value::kind::cidr)
          return fail(v.where, fmt::format("{}.address is an address: compare it with 10.0.0.1, 10.0.0.0/8 "
                                           "or fd00::/8", c.field.name));
        return out;
      }
      if (s.type == source::fd_kind) {
        const auto bits = v.type == value::kind::constant && !v.negated ? detail::file_kind_bits(v.text)
                                                                         : std::nullopt;
        if (!bits)
          return fail(v.where, fmt::format("{}.{}.kind is a file kind: one of {}", c.field.syscall, c.field.name,
                                           detail::file_kind_list()));
        out.type = value::kind::integer;
        out.integer = *bits;
        return out;
      }
      if (by_name && v.type == value::kind::string) {
        // A cgroup by its path: the id it has now (a cgroup made later with the same
        // path is another one).
        auto id = detail::cgroup_id_of(v.text);
        if (!id) return fail(v.where, fmt::format("cgroup {}", id.error().message()));
        out.type = value::kind::integer;
        out.integer = static_cast<std::int64_t>(*id);
        return out;
      }
      if (v.type == value::kind::constant) {
        auto n = constant(v, names_for(c, s));
        if (!n) return n.error();
        out.type = value::kind::integer;
        out.integer = *n;
      } else if (v.type != value::kind::integer) {
        return fail(v.where, fmt::format("{} is a number: compare it with a number or a constant", c.field.name));
      }
      if (s.device)
        out.integer = static_cast<std::int64_t>(detail::kernel_device(static_cast<std::uint64_t>(out.integer)));
      return out;
    };
    const bool affix = c.op == comparison_op::starts_with || c.op == comparison_op::ends_with;
    if (affix && c.operand.type == value::kind::set && s.type == source::comm)
      return fail(c.operand.where, "comm takes one prefix or suffix: write comm startswith \"a\" or ...");
    if (c.op != comparison_op::in && !(affix && c.operand.type == value::kind::set)) {
      if (c.operand.type == value::kind::set)
        return fail(c.operand.where, "a set needs 'in' (or startswith, endswith on a string)");
      return one(c.operand);
    }
    if (c.operand.type != value::kind::set) {
      if (!address) return fail(c.operand.where, "'in' needs a set: {a, b, ...}");
      return one(c.operand);
    }
    value out = c.operand;
    out.items.clear();
    for (const auto& item : c.operand.items) {
      auto checked = one(item);
      if (!checked) return checked.error();
      out.items.push_back(std::move(*checked));
    }
    return out;
  }

  const plan& plan_;
  std::string_view text_;
  context_fields context_;
};

}  // namespace

expected<checked_expression> check(const expression& e, const plan& p, std::string_view text,
                                   context_fields context) {
  return checker(p, text, context).run(e);
}

}  // namespace ebpfpub::filter
