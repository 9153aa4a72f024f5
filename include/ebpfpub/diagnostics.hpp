#pragma once
/// \file
/// The compile-time diagnostics of serializer checks. Each mistake is a class template
/// whose instantiation fails a `static_assert`; its template arguments carry the syscall
/// and the field, so the compiler's "in instantiation of" line names them:
///
///     In instantiation of 'struct ebpfpub::diagnostic::member_out_of_order<
///         ebpfpub::syscalls::prlimit64, 2, ebpfpub::fixed_string<9>{"old_rlim"},
///         ebpfpub::fixed_string<9>{"new_rlim"}>'
///     error: static assertion failed: ebpfpub: an args_type member is not where the
///         kernel has it ...

#include <cstddef>
#include <string_view>

#include <ebpfpub/wrappers.hpp>

namespace ebpfpub::diagnostic {

// `sizeof(S) == 0` is false for every complete type, but depends on the template
// argument: the assertion fires when, and only when, the diagnostic is instantiated.

template <typename Syscall, typename Declared>
struct serializer_declares_another_syscall {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: this serializer is declared for another syscall (the second template "
                "argument) than the one traced (the first): derive it from "
                "ebpfpub::declare<the traced syscall>");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string KernelField>
struct args_type_lacks_kernel_field {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: args_type has no member for this kernel field (the second template "
                "argument): declare one member per field of the syscall's tracepoint, with the "
                "kernel's name, in the kernel's order (see S::layout)");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Member>
struct args_type_member_is_not_a_kernel_field {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: this args_type member (the second template argument) is not a field "
                "of the syscall's tracepoint: remove it, or name it as the kernel does "
                "(see S::layout)");
  static constexpr bool value = false;
};

template <typename Syscall, std::size_t Position, fixed_string Member, fixed_string KernelField>
struct member_out_of_order {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: an args_type member (third template argument) is where the kernel has "
                "another field (fourth): members must follow the kernel's order, because member "
                "i decodes argument i");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, typename Member>
struct integer_member_where_the_kernel_has_a_pointer {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: this field is a pointer in the kernel but an integer in args_type: "
                "use ebpfpub::user_pointer for the address, or a wrapper (in_struct<T>, "
                "out_struct<T>, in_buffer<...>...) to read what it points to");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, typename Member>
struct pointer_member_where_the_kernel_has_an_integer {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: this field is an integer in the kernel but args_type's member type "
                "reads memory: use the kernel's integer type (see S::layout: width and sign)");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, typename Member, std::size_t KernelWidth,
          bool KernelSigned>
struct integer_member_of_another_width_or_sign {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: this integer member's width or sign differs from the kernel's "
                "(KernelWidth bytes, KernelSigned): a narrower type cuts values, another sign "
                "turns -1 into a large number");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, typename Member>
struct unsupported_member_type {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: args_type members are integers, ebpfpub::fd, the user_* types, wrappers "
                "(in_struct<T>...) or types with a decode_argument of their own; enums, bool and "
                "floating point are not");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, typename Member>
struct member_says_nothing_to_capture {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: in a declarative serializer (no make_plan) this member's type does not "
                "say what to read: use a wrapper (in_struct<T>, out_struct<T>, in_buffer<...>, "
                "out_buffer<...>, in_sockaddr<...>, out_sockaddr<...>), user_pointer for the "
                "address only, or write make_plan");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, fixed_string LengthField>
struct length_field_is_not_a_kernel_field {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: the length of this member comes from a field (third template argument) "
                "the syscall does not have");
  static constexpr bool value = false;
};

template <typename Syscall, fixed_string Field, fixed_string LengthField>
struct length_field_has_the_wrong_kind {
  static_assert(sizeof(Syscall) == 0,
                "ebpfpub: length_arg<\"f\"> needs an integer field f, length_at<\"f\"> a pointer "
                "field f (to the int that holds the length)");
  static constexpr bool value = false;
};

}  // namespace ebpfpub::diagnostic
