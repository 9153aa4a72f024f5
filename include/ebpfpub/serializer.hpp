#pragma once
/// \file
/// `serializer<S>`: the customization point that says, for syscall `S`, what to capture
/// (its plan) and how the captured bytes decode into typed arguments.
///
/// The primary template is the *generic* serializer: every argument by value, every
/// `const char *` read at enter as a NUL-terminated string. Specialize it for a syscall
/// to capture more (see serializers/ and docs/custom-serializers.md). A specialization
/// provides:
///  - `static constexpr std::string_view name`: shown by ebpftracer;
///  - `using args_type`: the decoded arguments;
///  - `static plan make_plan(const plan_options&)`;
///  - `static args_type decode(const record_view&)`.

#include <concepts>
#include <string_view>

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

/// What `tracer::trace<S>` needs of `serializer<S>`.
template <typename S>
concept serializable = requires(const plan_options& options, const record_view& r) {
  { serializer<S>::name } -> std::convertible_to<std::string_view>;
  typename serializer<S>::args_type;
  { serializer<S>::make_plan(options) } -> std::same_as<plan>;
  { serializer<S>::decode(r) } -> std::same_as<typename serializer<S>::args_type>;
};

/// The event a handler of `tracer::trace<S>` receives.
template <typename S>
using event = basic_event<typename serializer<S>::args_type>;

}  // namespace ebpfpub
