#pragma once
/// \file
/// `serializer<S>`: the customization point that says, for syscall `S`, what to capture
/// (its plan) and how the captured bytes decode into typed arguments.
///
/// The primary template is the *generic* serializer: every argument by value, every
/// `const char *` read at enter as a NUL-terminated string. Specialize it for a syscall
/// (or write any type and trace with `tracer::trace<S, Serializer>`) to capture more; see
/// docs/custom-serializers.md. A serializer provides
///  - `static constexpr std::string_view name`: shown by ebpftracer;
///  - `args_type`: a Boost.Hana struct with the kernel's fields, by name and in order
///    (checked at compile time, declare.hpp);
/// and either
///  - derives from `declare<S>`, with wrapper members (wrappers.hpp) that say what to
///    capture: the plan and the decoding are derived; or
///  - writes `static plan make_plan(const plan_options&)` (and may write
///    `static args_type decode(const record_view&)`; by default member i decodes
///    argument i).

#include <concepts>
#include <span>
#include <string_view>
#include <type_traits>

#include <ebpfpub/declare.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/signature.hpp>

namespace ebpfpub {

template <typename S>
struct serializer {
  static_assert(syscall_signature<S>,
                "ebpfpub::serializer<S>: S is not a syscall signature. Use a type from "
                "ebpfpub::syscalls, or specialize ebpfpub::serializer<S> for your own type "
                "(docs/custom-serializers.md).");

  static constexpr std::string_view name = "generic";
  using args_type = typename S::arguments;

  static plan make_plan(const plan_options& options) {
    return make_generic_plan(describe<S>(), options);
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

namespace detail {
template <typename Ser>
concept writes_plan = requires(const plan_options& options) {
  { Ser::make_plan(options) } -> std::same_as<plan>;
};
template <typename Ser>
concept writes_decode = requires(const record_view& r) {
  { Ser::decode(r) } -> std::same_as<typename Ser::args_type>;
};
template <typename Ser>
concept declares_syscall = requires { typename Ser::declared_syscall; };
template <typename Ser, typename S>
constexpr bool declares_another_syscall = false;
template <declares_syscall Ser, typename S>
constexpr bool declares_another_syscall<Ser, S> = !std::is_same_v<typename Ser::declared_syscall, S>;
}  // namespace detail

/// `Ser` can serialize syscall `S`: it has a name, a Hana-struct `args_type`, and either
/// writes its plan or declares it (derives from `declare<...>`).
template <typename Ser, typename S>
concept serializer_for =
    syscall_signature<S> && requires {
      { Ser::name } -> std::convertible_to<std::string_view>;
      typename Ser::args_type;
    } && boost::hana::Struct<typename Ser::args_type>::value &&
    (detail::writes_plan<Ser> || detail::declares_syscall<Ser>) &&
    (!requires { Ser::decode; } || detail::writes_decode<Ser>);

/// What `tracer::trace<S>` needs of `serializer<S>`.
template <typename S>
concept serializable = serializer_for<serializer<S>, S>;

/// True when `Ser` passes every compile-time check for `S`; otherwise a compile error
/// naming the syscall and the field or the declared syscall (diagnostics.hpp).
template <syscall_signature S, typename Ser = serializer<S>>
constexpr bool check_serializer() {
  if constexpr (detail::declares_another_syscall<Ser, S>) {
    return diagnostic::serializer_declares_another_syscall<S, typename Ser::declared_syscall>::value;
  } else {
    return check_arguments<S, typename Ser::args_type>();
  }
}

/// The checks a plan written by hand can fail only at run time: it describes another
/// syscall than `syscall`; it captures an argument whose member never reads the capture
/// (an integer, an fd, a user_pointer: a capture on the wrong argument); it reads a
/// wrapper member in the other phase (an out_struct at enter: a stale value) or fewer
/// bytes than its struct. The error names the syscall, the serializer and the field.
expected<void> check_serializer_plan(const plan& p, std::string_view syscall,
                                     std::string_view serializer_name,
                                     std::span<const member_use> members);

/// The plan of `S` by `Ser`, checked at compile time and at run time.
template <syscall_signature S, typename Ser = serializer<S>>
  requires serializer_for<Ser, S>
expected<plan> plan_for(const plan_options& options) {
  static_assert(check_serializer<S, Ser>());
  using args = typename Ser::args_type;
  plan p;
  if constexpr (detail::writes_plan<Ser>)
    p = Ser::make_plan(options);
  else
    p = derive_plan<S, args>(Ser::name, options);
  static constexpr auto uses = detail::member_uses<args>();
  if (auto ok = check_serializer_plan(p, S::name, Ser::name, uses); !ok) return ok.error();
  return p;
}

/// A record of `S` decoded by `Ser`: its own `decode`, or member i from argument i.
template <typename Ser>
typename Ser::args_type decode_for(const record_view& r) {
  if constexpr (detail::writes_decode<Ser>)
    return Ser::decode(r);
  else
    return decode_members<typename Ser::args_type>(r);
}

/// The event a handler of `tracer::trace<S>` receives.
template <typename S>
using event = basic_event<typename serializer<S>::args_type>;

/// The event a handler of `tracer::trace<S, Ser>` receives.
template <typename Ser>
using event_of = basic_event<typename Ser::args_type>;

}  // namespace ebpfpub
