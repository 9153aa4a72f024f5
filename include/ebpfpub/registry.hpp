#pragma once
/// \file
/// The serializer registry: which serializer the by-name path (`tracer::trace("name",
/// handler)`, and so ebpftracer and any tool built on the library) uses for a syscall.
///
///     ebpfpub::register_serializer<sys::prlimit64>();          // serializer<prlimit64>
///     ebpfpub::register_serializer<sys::write, my_write>();    // replaces the shipped one
///     tracer->trace("prlimit64", [](const ebpfpub::dynamic_event& e) { ... });
///
/// The registry is process-wide and thread-safe. For a name, the by-name path takes the
/// registered serializer, else the one ebpfpub ships (serializers/all.hpp), else the
/// generic serializer. A registration is used by tracers' later `trace` calls.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <ebpfpub/error.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/signature.hpp>

namespace ebpfpub {

/// A serializer with its types erased: what the by-name path needs.
struct registered_serializer {
  std::string syscall;
  std::string serializer_name;
  /// The compiled-in fields, checked against the running kernel before tracing.
  std::span<const argument_layout> layout;
  std::function<expected<plan>(const plan_options&)> make_plan;
  std::function<dynamic_event(const record_view&)> decode;
};

/// `Ser` serving syscall `S` by name (checked at compile time as `tracer::trace<S, Ser>`).
template <syscall_signature S, typename Ser = serializer<S>>
  requires serializer_for<Ser, S>
registered_serializer make_registration() {
  static_assert(check_serializer<S, Ser>());
  using args = typename Ser::args_type;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    static_assert(((std::is_integral_v<detail::member_type<args, I>> ||
                    std::is_constructible_v<dynamic_value, const detail::member_type<args, I>&>) &&
                   ...),
                  "ebpfpub: the by-name path shows arguments as dynamic values; every member type "
                  "of args_type must convert to ebpfpub::dynamic_value (integers, fd, the user_* "
                  "types and the wrappers do)");
  }(std::make_index_sequence<detail::member_count<args>>{});
  return {std::string(S::name), std::string(Ser::name), S::layout,
          [](const plan_options& o) { return plan_for<S, Ser>(o); },
          [](const record_view& r) { return to_dynamic(r, decode_for<Ser>(r)); }};
}

/// Registers `entry` for its syscall, replacing any earlier registration.
void register_serializer(registered_serializer entry);

/// Makes `Ser` the serializer of `S` on the by-name path.
template <syscall_signature S, typename Ser = serializer<S>>
  requires serializer_for<Ser, S>
void register_serializer() {
  register_serializer(make_registration<S, Ser>());
}

/// Removes the registration of `syscall`; false when there was none.
bool unregister_serializer(std::string_view syscall);

/// The registered serializer of `syscall`, if any.
std::optional<registered_serializer> find_serializer(std::string_view syscall);

}  // namespace ebpfpub
