#pragma once
/// \file
/// Syscall signatures: the compile-time types in syscalls/ and the run-time
/// `syscall_description` that both they and a bare format file turn into.
///
/// A *syscall signature* `S` (concept `syscall_signature`) has
///  - `S::name`: the syscall's name, as in `sys_enter_<name>`;
///  - `S::arguments`: a Boost.Hana struct, one member per argument, whose types say what
///    each is (`std::int32_t`, `ebpfpub::fd`, `ebpfpub::user_string`, ...);
///  - `S::return_type`: the type of the exit tracepoint's `ret`;
///  - `S::layout`: the enter record's argument fields as the table was generated, which
///    `validate` compares with the running kernel.

#include <array>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>


#include <boost/hana/concept/struct.hpp>

#include <ebpfpub/argument.hpp>
#include <ebpfpub/error.hpp>
#include <ebpfpub/tracefs.hpp>

namespace ebpfpub {

/// One argument as laid out in the enter tracepoint's record.
struct argument_layout {
  std::string_view name;  ///< the kernel's field name: "filename"
  std::string_view type;  ///< the kernel's C type text: "const char *"
  std::uint32_t offset = 0;
  std::uint32_t size = 0;  ///< the record slot (8 for every syscall argument)
  arg_kind kind = arg_kind::integer;
  std::uint8_t width = 8;  ///< bytes of the C value: 4 for `int`, 8 for pointers
  bool is_signed = false;  ///< sign of the C value (the slot itself is unsigned)
};

/// An owning `argument_layout`, for descriptions built at run time.
struct argument_description {
  std::string name;
  std::string type;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
  arg_kind kind = arg_kind::integer;
  std::uint8_t width = 8;
  bool is_signed = false;

  friend bool operator==(const argument_description&, const argument_description&) = default;
};

/// Everything the backend needs to know about a syscall's record layout.
struct syscall_description {
  std::string name;
  std::vector<argument_description> arguments;
  std::uint32_t return_offset = 16;  ///< offset of `ret` in the exit record
};

/// What a C type text and a field name say about an argument: kind, width, sign.
/// Unknown scalar types are kept as unsigned 64-bit integers, so a newer kernel's
/// syscalls still trace.
struct classification {
  arg_kind kind = arg_kind::integer;
  std::uint8_t width = 8;
  bool is_signed = false;
  bool known = true;  ///< false when the type text was not recognised
};
classification classify_argument(std::string_view type, std::string_view name) noexcept;

/// Whether a pointer argument is a signal mask, by its C type text, and when its memory
/// holds the mask: `const sigset_t *` at enter (the caller's); `sigset_t *` at exit,
/// because the kernel writes some (rt_sigprocmask's `oset`, rt_sigpending's `uset`) while
/// its tracepoints type the caller's masks (`nset`, `unewset`, `user_mask`) the same way,
/// and those it leaves as they were. The generic plan captures these, `decode_dynamic`
/// makes them `signal_mask`s.
enum class signal_mask_source : std::uint8_t { none, enter, exit };
signal_mask_source signal_mask_of(std::string_view type) noexcept;

/// Describes a syscall from the running kernel's format files alone (the by-name path).
expected<syscall_description> describe_syscall(const tracefs& fs, std::string_view name);
/// Same, from already-parsed formats.
expected<syscall_description> describe_syscall(std::string_view name,
                                               const tracepoint_format& enter,
                                               const tracepoint_format& exit);

/// Checks a compile-time layout against the running kernel's formats: every argument's
/// name, offset and size, and where `ret` is. The error names the first field that
/// differs and the fix.
expected<void> validate(std::string_view syscall, std::span<const argument_layout> layout,
                        const tracepoint_format& enter, const tracepoint_format& exit);

template <typename S>
concept syscall_signature = requires {
  { S::name } -> std::convertible_to<std::string_view>;
  typename S::arguments;
  typename S::return_type;
  { std::span<const argument_layout>(S::layout) };
} && boost::hana::Struct<typename S::arguments>::value;

/// The run-time description of a compile-time signature.
template <syscall_signature S>
syscall_description describe() {
  syscall_description d{std::string(S::name), {}, 16};
  for (const auto& a : S::layout)
    d.arguments.push_back({std::string(a.name), std::string(a.type), a.offset, a.size, a.kind,
                           a.width, a.is_signed});
  return d;
}

/// The accessor of a Boost.Hana struct's member `M`: the generated signatures list
/// theirs in a template, so only the syscalls a program decodes are instantiated.
template <auto M>
struct member_accessor {
  template <typename T>
  constexpr decltype(auto) operator()(T&& t) const {
    return static_cast<T&&>(t).*M;
  }
};

/// A list of types; syscalls::all is one.
template <typename... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
  template <typename F>
  static constexpr void for_each(F&& f) {
    (f.template operator()<T>(), ...);
  }
};

}  // namespace ebpfpub
