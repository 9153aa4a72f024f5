#pragma once
/// \file
/// Argument wrappers: member types of a declarative serializer's `args_type` whose type
/// says what is read from the caller's memory, when, and how long it is. From them the
/// plan is derived (see declare.hpp); their values decode without a hand-written
/// `decode`.
///
///     (ebpfpub::in_struct<rlimit64>, new_rlim)                      sizeof(rlimit64) at enter
///     (ebpfpub::out_struct<struct stat>, statbuf)                   at exit, if the call succeeded
///     (ebpfpub::in_buffer<ebpfpub::length_arg<"count">>, buf)       `count` bytes at enter
///     (ebpfpub::out_buffer<ebpfpub::returned_length>, buf)          what the call returned, at exit
///     (ebpfpub::out_sockaddr<ebpfpub::length_at<"addrlen">>, addr)  the length the kernel wrote
///     (ebpfpub::nullable<ebpfpub::in_struct<rlimit64>>, new_rlim)   NULL is "not provided"
///
/// A wrapper's capture is described by its `capture_rule`; a type of your own that derives
/// from a wrapper inherits it (and its decoding).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include <ebpfpub/argument.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>

namespace ebpfpub {

/// A string usable as a template argument: `length_arg<"count">`.
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string() = default;
  constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, chars); }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

/// Where a wrapper's size limit comes from.
enum class size_limit : std::uint8_t {
  fixed,        ///< the rule's `max_bytes`
  string_size,  ///< plan_options::string_size
  data_size,    ///< plan_options::data_size
};

/// What a wrapper captures; the argument's index and the length argument's index are
/// filled in from the syscall's layout when the plan is derived.
struct capture_rule {
  capture_op op = capture_op::buffer;
  syscall_phase when = syscall_phase::enter;
  length_source length = length_source::fixed;
  std::string_view length_field;  ///< the kernel field the length comes from, if any
  size_limit limit = size_limit::fixed;
  std::uint32_t max_bytes = 0;
  bool only_if_success = false;
  bool nullable = false;
};

// Length sources: the template argument of in_buffer, out_buffer, in_sockaddr, out_sockaddr.

/// The value of another argument, named as the kernel names it: `length_arg<"count">`.
template <fixed_string Field>
struct length_arg {
  static constexpr length_source source = length_source::argument;
  static constexpr std::string_view field = Field.view();
};
/// The int another argument points to (accept's `upeer_addrlen`), read with the capture.
template <fixed_string Field>
struct length_at {
  static constexpr length_source source = length_source::argument_pointer;
  static constexpr std::string_view field = Field.view();
};
/// The syscall's return value, when positive: only for captures at exit.
struct returned_length {
  static constexpr length_source source = length_source::return_value;
  static constexpr std::string_view field{};
};
/// Always `Bytes` bytes.
template <std::uint32_t Bytes>
struct fixed_length {
  static constexpr length_source source = length_source::fixed;
  static constexpr std::string_view field{};
};

namespace detail {
// Built field by field: a designated initializer that leaves fields out warns under
// -Wextra (missing-field-initializers) in users' builds.
constexpr capture_rule make_rule(capture_op op, syscall_phase when, size_limit limit,
                                 std::uint32_t max_bytes) {
  capture_rule r;
  r.op = op;
  r.when = when;
  r.limit = limit;
  r.max_bytes = max_bytes;
  r.only_if_success = when == syscall_phase::exit;
  return r;
}

template <typename L>
constexpr std::uint32_t fixed_bytes_of = 0;
template <std::uint32_t Bytes>
constexpr std::uint32_t fixed_bytes_of<fixed_length<Bytes>> = Bytes;

template <typename L>
concept length_source_type = requires {
  { L::source } -> std::convertible_to<length_source>;
  { L::field } -> std::convertible_to<std::string_view>;
};

template <typename L, std::uint32_t Max, syscall_phase When, capture_op Op>
constexpr capture_rule length_rule(size_limit default_limit) {
  static_assert(length_source_type<L>,
                "ebpfpub: the length of a buffer or sockaddr wrapper is one of length_arg<\"field\">, "
                "length_at<\"field\">, returned_length or fixed_length<N>");
  static_assert(When == syscall_phase::exit || L::source != length_source::return_value,
                "ebpfpub: returned_length is known at exit only: use out_buffer or out_sockaddr");
  capture_rule rule = make_rule(Op, When, size_limit::fixed, 0);
  rule.length = L::source;
  rule.length_field = L::field;
  if constexpr (L::source == length_source::fixed) {
    rule.max_bytes = fixed_bytes_of<L>;
  } else if constexpr (Max != 0) {
    rule.max_bytes = Max;
  } else {
    rule.limit = default_limit;
  }
  return rule;
}
}  // namespace detail

/// A struct `T` read from the caller's memory: sizeof(T) bytes.
template <typename T>
struct struct_value {
  static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                "ebpfpub: in_struct<T> and out_struct<T> need a trivially copyable, default "
                "constructible T: its bytes are copied from the caller's memory");
  static_assert(sizeof(T) <= (1u << 20), "ebpfpub: a captured struct is at most 1 MiB");

  std::uint64_t address = 0;  ///< the pointer the caller passed
  T value{};                  ///< the bytes read, when `status` is ok
  capture_status status = capture_status::not_captured;

  /// The pointer was not NULL.
  bool provided() const noexcept { return address != 0; }
  /// `value` holds what the caller's memory held.
  bool has_value() const noexcept { return status == capture_status::ok; }
  const T& operator*() const noexcept { return value; }
  const T* operator->() const noexcept { return &value; }

  /// Its bytes, for the dynamic event of the by-name path.
  operator user_buffer() const {
    user_buffer b{address, {}, status};
    if (has_value()) {
      const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
      b.data.assign(bytes, bytes + sizeof(T));
    }
    return b;
  }
};

template <typename T>
void decode_argument(const record_view& r, std::size_t i, struct_value<T>& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  if (c.data.size() == sizeof(T)) {
    std::memcpy(&out.value, c.data.data(), sizeof(T));
  } else {
    out.value = T{};
    // A fixed-size read that came back short is not the struct.
    if (c.status == capture_status::ok) out.status = capture_status::truncated;
  }
}

/// A struct the caller passes in (a new limit, a request): read at enter.
template <typename T>
struct in_struct : struct_value<T> {
  static constexpr capture_rule rule =
      detail::make_rule(capture_op::buffer, syscall_phase::enter, size_limit::fixed, sizeof(T));
};

/// A struct the kernel fills in (an old limit, a stat buffer): read at exit, and only when
/// the call succeeded (a failed call wrote nothing).
template <typename T>
struct out_struct : struct_value<T> {
  static constexpr capture_rule rule =
      detail::make_rule(capture_op::buffer, syscall_phase::exit, size_limit::fixed, sizeof(T));
};

/// Bytes the caller passes in, `Length` long, at most `Max` (0: plan_options::data_size).
template <typename Length, std::uint32_t Max = 0>
struct in_buffer : user_buffer {
  static constexpr capture_rule rule =
      detail::length_rule<Length, Max, syscall_phase::enter, capture_op::buffer>(size_limit::data_size);
};

/// Bytes the kernel wrote, `Length` long (`returned_length`: what the call returned), at
/// most `Max` (0: plan_options::data_size); read at exit when the call succeeded.
template <typename Length, std::uint32_t Max = 0>
struct out_buffer : user_buffer {
  static constexpr capture_rule rule =
      detail::length_rule<Length, Max, syscall_phase::exit, capture_op::buffer>(size_limit::data_size);
};

/// sizeof(struct sockaddr_storage): the most a socket address is.
inline constexpr std::uint32_t max_sockaddr_bytes = 128;

/// A socket address the caller passes in (connect, bind, sendto), `Length` long.
template <typename Length>
struct in_sockaddr : user_sockaddr {
  static constexpr capture_rule rule =
      detail::length_rule<Length, max_sockaddr_bytes, syscall_phase::enter, capture_op::sockaddr>(
          size_limit::fixed);
};

/// A socket address the kernel wrote (accept, getpeername), `Length` long
/// (`length_at<"addrlen">`: the length the kernel wrote back), read at exit on success.
template <typename Length>
struct out_sockaddr : user_sockaddr {
  static constexpr capture_rule rule =
      detail::length_rule<Length, max_sockaddr_bytes, syscall_phase::exit, capture_op::sockaddr>(
          size_limit::fixed);
};

/// A NUL-terminated string the caller passes in, read at enter, up to
/// plan_options::string_size. A member of type `user_string` is read the same way; this
/// wrapper says so for a field the kernel types `char *` (not `const`).
struct in_string : user_string {
  static constexpr capture_rule rule =
      detail::make_rule(capture_op::string, syscall_phase::enter, size_limit::string_size, 0);
};

/// `W`, where the kernel accepts NULL: a NULL pointer decodes as not provided (status
/// `null_pointer`, `provided()` false) and is not a probe error.
template <typename W>
struct nullable : W {
  static constexpr capture_rule rule = [] {
    capture_rule r = W::rule;
    r.nullable = true;
    return r;
  }();
};

/// Members whose type says what to capture: the wrappers above, and types derived from them.
template <typename T>
concept declared_capture = requires {
  { T::rule } -> std::convertible_to<capture_rule>;
};

}  // namespace ebpfpub
