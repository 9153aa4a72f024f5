#pragma once
/// \file
/// Building blocks for serializer specializations: start from the generic plan, add
/// captures.

#include <string_view>

#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/signature.hpp>

namespace ebpfpub::serializers {

/// The generic plan of `S`, under a serializer name of one's own.
template <syscall_signature S>
plan generic_plan(std::string_view serializer_name, const plan_options& options) {
  plan p = make_generic_plan(describe<S>(), options);
  p.serializer_name = std::string(serializer_name);
  return p;
}

/// Removes the generic plan's capture of argument `argument` (to capture it otherwise).
inline void drop_capture(plan& p, std::uint8_t argument) {
  std::erase_if(p.captures, [&](const capture& c) { return c.argument == argument; });
}

/// `length` bytes of argument `argument`'s memory, up to `max_bytes`.
inline capture bytes(std::uint8_t argument, syscall_phase when, length_source length,
                     std::uint8_t length_argument, std::uint32_t max_bytes,
                     capture_op op = capture_op::buffer) {
  return {.argument = argument, .op = op, .when = when, .length = length,
          .length_argument = length_argument, .max_bytes = max_bytes,
          .only_if_success = when == syscall_phase::exit};
}

/// A socket address: sizeof(struct sockaddr_storage) at most.
inline constexpr std::uint32_t sockaddr_size = 128;

/// A specialization that captures like the generic serializer under its own name; the
/// derived `Self` defines `name`.
template <syscall_signature S, typename Self>
struct generic_as {
  using args_type = typename S::arguments;
  static plan make_plan(const plan_options& options) { return generic_plan<S>(Self::name, options); }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

}  // namespace ebpfpub::serializers
