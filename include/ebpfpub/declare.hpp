#pragma once
/// \file
/// Declarative serializers, and the compile-time checks every serializer's `args_type`
/// passes.
///
/// A declarative serializer derives from `declare<S>` and gives a name and an `args_type`
/// whose member types say what to capture (wrappers.hpp); the plan and the decoding are
/// derived:
///
///     template <> struct ebpfpub::serializer<sys::prlimit64> : ebpfpub::declare<sys::prlimit64> {
///       static constexpr std::string_view name = "rlimits";
///       struct args_type {
///         BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, pid), (std::uint32_t, resource),
///             (ebpfpub::nullable<ebpfpub::in_struct<rlimit64>>, new_rlim),
///             (ebpfpub::nullable<ebpfpub::out_struct<rlimit64>>, old_rlim));
///       };
///     };
///
/// `check_arguments<S, Args>()` compares `Args` with the kernel's fields (`S::layout`): the
/// same names in the same order, integers of the kernel's width and sign where the kernel
/// has integers, pointer types where it has pointers. A mistake is a static_assert whose
/// diagnostic names the syscall and the field (diagnostics.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>

#include <ebpfpub/diagnostics.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/signature.hpp>
#include <ebpfpub/wrappers.hpp>

namespace ebpfpub {

/// The base of a declarative serializer of syscall `S` (and, for a hand-written one, the
/// way to say at compile time which syscall it serves).
template <syscall_signature S>
struct declare {
  using declared_syscall = S;
};

namespace detail {

enum class member_class : std::uint8_t { integer, fd, pointer, unsupported };

template <typename M>
constexpr member_class class_of() {
  if constexpr (std::is_same_v<M, bool> || std::is_enum_v<M> || std::is_floating_point_v<M>)
    return member_class::unsupported;
  else if constexpr (std::is_integral_v<M>)
    return member_class::integer;
  else if constexpr (std::is_same_v<M, fd>)
    return member_class::fd;
  else
    return member_class::pointer;  // the user_* types, wrappers, types with decode_argument
}

constexpr bool is_pointer_kind(arg_kind k) {
  return k != arg_kind::integer && k != arg_kind::fd;
}

/// What the checks need to know of one member.
struct member_info {
  std::string_view name;
  member_class kind = member_class::pointer;
  std::uint8_t width = 0;
  bool is_signed = false;
  /// Its decoding reads a capture (false for integers, fd and user_pointer): a capture of
  /// an argument whose member does not would be read and thrown away.
  bool reads_capture = false;
  /// An `fd`: what reads its capture is an fd identity (capture_op::fd_identity).
  bool is_fd = false;
};

template <typename Key>
struct key_name;
template <char... C>
struct key_name<boost::hana::string<C...>> {
  static constexpr char chars[sizeof...(C) + 1] = {C..., '\0'};
  static constexpr std::string_view value{chars, sizeof...(C)};
};

template <typename Args>
constexpr std::size_t member_count = decltype(boost::hana::length(boost::hana::accessors<Args>()))::value;

template <typename Args, std::size_t I>
using member_pair = std::decay_t<decltype(boost::hana::at_c<I>(boost::hana::accessors<Args>()))>;

template <typename Args, std::size_t I>
using member_type = std::decay_t<decltype(boost::hana::second(std::declval<member_pair<Args, I>>())(
    std::declval<Args&>()))>;

template <typename Args, std::size_t I>
constexpr std::string_view member_name =
    key_name<std::decay_t<decltype(boost::hana::first(std::declval<member_pair<Args, I>>()))>>::value;

template <typename Args, std::size_t I>
constexpr member_info info_of() {
  using M = member_type<Args, I>;
  member_info info{member_name<Args, I>, class_of<M>()};
  if constexpr (std::is_integral_v<M>) {
    info.width = sizeof(M);
    info.is_signed = std::is_signed_v<M>;
  }
  info.reads_capture = info.kind == member_class::pointer && !std::is_same_v<M, user_pointer>;
  info.is_fd = std::is_same_v<M, fd>;
  return info;
}

/// Every member's name and kind, in order.
template <typename Args>
constexpr auto members_of = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<member_info, sizeof...(I)>{info_of<Args, I>()...};
}(std::make_index_sequence<member_count<Args>>{});

}  // namespace detail

/// What a plan's captures mean to the members that decode them; see check_serializer_plan.
struct member_use {
  std::string_view name;
  bool reads_capture = false;
  /// A wrapper member (wrappers.hpp) says when it must be read and, for a struct, how
  /// many bytes it needs; a hand-written capture of it must agree.
  bool declared = false;
  syscall_phase when = syscall_phase::enter;
  std::uint32_t fixed_bytes = 0;
  /// An `fd`, which reads an fd identity capture and no other.
  bool is_fd = false;
};

namespace detail {

template <typename Args, std::size_t I>
constexpr member_use use_of() {
  using M = member_type<Args, I>;
  member_use u{members_of<Args>[I].name, members_of<Args>[I].reads_capture};
  u.is_fd = members_of<Args>[I].is_fd;
  if constexpr (declared_capture<M>) {
    u.declared = true;
    u.when = M::rule.when;
    u.fixed_bytes = M::rule.length == length_source::fixed ? M::rule.max_bytes : 0;
  }
  return u;
}

/// Each member's use, for check_serializer_plan.
template <typename Args>
constexpr auto member_uses() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<member_use, sizeof...(I)>{use_of<Args, I>()...};
  }(std::make_index_sequence<member_count<Args>>{});
}

template <std::size_t N>
constexpr fixed_string<N + 1> to_fixed(std::string_view s) {
  fixed_string<N + 1> f;
  for (std::size_t i = 0; i < N; ++i) f.chars[i] = s[i];
  return f;
}
/// A constexpr string_view as a template argument.
#define EBPFPUB_FIXED(sv) ::ebpfpub::detail::to_fixed<(sv).size()>(sv)

template <typename S>
constexpr std::size_t field_index(std::string_view name) {
  for (std::size_t i = 0; i < S::layout.size(); ++i)
    if (S::layout[i].name == name) return i;
  return S::layout.size();
}

enum class problem_kind : std::uint8_t {
  none, lacks_field, not_a_field, out_of_order, integer_for_pointer, pointer_for_integer,
  width_or_sign, unsupported
};
struct problem {
  problem_kind kind = problem_kind::none;
  std::size_t index = 0;
};

template <typename S, typename Args>
constexpr problem first_problem() {
  constexpr auto& members = members_of<Args>;
  constexpr auto& fields = S::layout;
  auto is_member = [&](std::string_view name) {
    for (const auto& m : members) if (m.name == name) return true;
    return false;
  };
  for (std::size_t i = 0; i < members.size() || i < fields.size(); ++i) {
    if (i >= members.size()) return {problem_kind::lacks_field, i};
    if (i >= fields.size()) return {problem_kind::not_a_field, i};
    const auto& m = members[i];
    const auto& f = fields[i];
    if (m.name != f.name) {
      if (!is_member(f.name)) return {problem_kind::lacks_field, i};
      if (field_index<S>(m.name) == fields.size()) return {problem_kind::not_a_field, i};
      return {problem_kind::out_of_order, i};
    }
    switch (m.kind) {
      case member_class::unsupported: return {problem_kind::unsupported, i};
      case member_class::pointer:
        if (!is_pointer_kind(f.kind)) return {problem_kind::pointer_for_integer, i};
        break;
      case member_class::fd:
        if (is_pointer_kind(f.kind)) return {problem_kind::integer_for_pointer, i};
        if (f.width != 4) return {problem_kind::width_or_sign, i};
        break;
      case member_class::integer:
        if (is_pointer_kind(f.kind)) return {problem_kind::integer_for_pointer, i};
        if (m.width != f.width || m.is_signed != f.is_signed) return {problem_kind::width_or_sign, i};
        break;
    }
  }
  return {};
}

}  // namespace detail

/// True when `Args` matches the kernel's fields of `S`; otherwise a compile error that
/// names the syscall and the field (diagnostics.hpp).
template <syscall_signature S, typename Args>
constexpr bool check_arguments() {
  using namespace detail;
  constexpr problem p = first_problem<S, Args>();
  constexpr std::size_t i = p.index;
  if constexpr (p.kind == problem_kind::none) {
    return true;
  } else if constexpr (p.kind == problem_kind::lacks_field) {
    return diagnostic::args_type_lacks_kernel_field<S, EBPFPUB_FIXED(S::layout[i].name)>::value;
  } else if constexpr (p.kind == problem_kind::not_a_field) {
    return diagnostic::args_type_member_is_not_a_kernel_field<
        S, EBPFPUB_FIXED((member_name<Args, i>))>::value;
  } else if constexpr (p.kind == problem_kind::out_of_order) {
    return diagnostic::member_out_of_order<S, i, EBPFPUB_FIXED((member_name<Args, i>)),
                                           EBPFPUB_FIXED(S::layout[i].name)>::value;
  } else if constexpr (p.kind == problem_kind::integer_for_pointer) {
    return diagnostic::integer_member_where_the_kernel_has_a_pointer<
        S, EBPFPUB_FIXED(S::layout[i].name), member_type<Args, i>>::value;
  } else if constexpr (p.kind == problem_kind::pointer_for_integer) {
    return diagnostic::pointer_member_where_the_kernel_has_an_integer<
        S, EBPFPUB_FIXED(S::layout[i].name), member_type<Args, i>>::value;
  } else if constexpr (p.kind == problem_kind::width_or_sign) {
    return diagnostic::integer_member_of_another_width_or_sign<
        S, EBPFPUB_FIXED(S::layout[i].name), member_type<Args, i>, S::layout[i].width,
        S::layout[i].is_signed>::value;
  } else {
    return diagnostic::unsupported_member_type<S, EBPFPUB_FIXED(S::layout[i].name),
                                               member_type<Args, i>>::value;
  }
}

namespace detail {

/// The capture a declarative member of type M at argument I asks for, if any; checked.
template <typename S, typename Args, std::size_t I>
constexpr bool check_member_capture() {
  using M = member_type<Args, I>;
  if constexpr (declared_capture<M>) {
    constexpr capture_rule rule = M::rule;
    if constexpr (rule.length == length_source::argument ||
                  rule.length == length_source::argument_pointer) {
      constexpr std::size_t at = field_index<S>(rule.length_field);
      if constexpr (at == S::layout.size()) {
        return diagnostic::length_field_is_not_a_kernel_field<
            S, EBPFPUB_FIXED(S::layout[I].name), EBPFPUB_FIXED(rule.length_field)>::value;
      } else if constexpr (is_pointer_kind(S::layout[at].kind) !=
                           (rule.length == length_source::argument_pointer)) {
        return diagnostic::length_field_has_the_wrong_kind<
            S, EBPFPUB_FIXED(S::layout[I].name), EBPFPUB_FIXED(rule.length_field)>::value;
      }
    }
    return true;
  } else if constexpr (class_of<M>() == member_class::pointer && !std::is_same_v<M, user_pointer> &&
                       !std::is_same_v<M, user_string> && !std::is_same_v<M, user_string_array>) {
    return diagnostic::member_says_nothing_to_capture<S, EBPFPUB_FIXED(S::layout[I].name), M>::value;
  }
  return true;
}

template <typename S, typename Args, std::size_t I>
void add_member_capture(plan& p, const plan_options& o) {
  using M = member_type<Args, I>;
  const auto index = static_cast<std::uint8_t>(I);
  // Field by field: designated initializers that leave fields out warn under -Wextra.
  capture c;
  c.argument = index;
  if constexpr (declared_capture<M>) {
    constexpr capture_rule rule = M::rule;
    c.op = rule.op;
    c.when = rule.when;
    c.length = rule.length;
    c.max_bytes = rule.max_bytes;
    c.only_if_success = rule.only_if_success;
    c.nullable = rule.nullable;
    if constexpr (!rule.length_field.empty())
      c.length_argument = static_cast<std::uint8_t>(field_index<S>(rule.length_field));
    if (rule.limit == size_limit::string_size) c.max_bytes = o.string_size;
    if (rule.limit == size_limit::data_size) c.max_bytes = o.data_size;
  } else if constexpr (std::is_same_v<M, user_string>) {
    c.op = capture_op::string;
    c.max_bytes = o.string_size;
    c.readable_at_exit = true;  // a const char *: the kernel copies it and leaves it
  } else if constexpr (std::is_same_v<M, user_string_array>) {
    c.op = capture_op::string_array;
    c.max_bytes = o.argv_size;
    c.max_items = o.argv_items;
  } else {
    return;  // a value, or an address only
  }
  p.captures.push_back(c);
}

}  // namespace detail

/// The plan `Args`' member types say: one capture per wrapper (and per `user_string` or
/// `user_string_array`), in member order, under `serializer_name`. Checked at compile time.
template <syscall_signature S, typename Args>
plan derive_plan(std::string_view serializer_name, const plan_options& options) {
  static_assert(check_arguments<S, Args>());
  plan p = make_generic_plan(describe<S>(), options);
  p.serializer_name = std::string(serializer_name);
  p.captures.clear();  // the members say what to read
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    static_assert((detail::check_member_capture<S, Args, I>() && ...));
    (detail::add_member_capture<S, Args, I>(p, options), ...);
  }(std::make_index_sequence<detail::member_count<Args>>{});
  return p;
}

}  // namespace ebpfpub

#undef EBPFPUB_FIXED  // expanded above; not part of the API
