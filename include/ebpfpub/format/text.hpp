#pragma once
/// \file
/// The seed's text, as `fmt::formatter`s: `fmt::format("{}", e)` for any event gives
///
///     timestamp: 1094094741489 process_id: 4391 thread_id: 4391 user_id: 0 group_id: 0 exit_code: 0 probe_error: 0
///     syscall: mkdir mode: 511 pathname: '/tmp/hello_ebpf'
///
/// (two lines, no newline at the end; arguments sorted by name, as the seed printed them).
/// The seed had neither names nor durations, so its text stays exact by default; `{:n}`
/// names every argument that takes a set of names and the errno, `{:d}` adds the duration
/// (`text_options` below).
/// Every argument type formats alone as it appears in that second line. Traced text is
/// terminal-safe (format/escape.hpp); a custom type prints through its `describe_value`.

#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include <ebpfpub/argument.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/format/typed_event.hpp>

namespace ebpfpub {

/// What the text shows beyond the seed's (fmt: `{}` the seed's text, `{:n}` names, `{:d}`
/// the duration, `{:nd}` both):
///  - `names`: every argument that takes a set of names (symbols/symbols.hpp) by name, as
///    strace prints it, and a failed call's errno beside its exit code
///    (`exit_code: -2 ENOENT`); without it, only open's flags and mode are named, as the
///    seed's text had them;
///  - `duration`: ` duration_ns: N` (enter to exit, like strace -T) at the end of the first
///    line, absent for calls sent at enter (exit, exit_group), which never return.
struct text_options {
  bool names = false;
  bool duration = false;
};

/// The first line: `timestamp: .. process_id: .. ... probe_error: 0|1`.
void append_text(fmt::memory_buffer& out, const event_header& h, text_options options = {});
/// Both lines, without the final newline.
void append_text(fmt::memory_buffer& out, const dynamic_event& e, text_options options = {});
/// One value as the second line shows it. `syscall` and `name` say where it comes from:
/// open's and openat's `flags` read `O_WRONLY|O_CREAT`, their and creat's `mode` `0644`.
void append_text(fmt::memory_buffer& out, const dynamic_value& v, std::string_view syscall = {},
                 std::string_view name = {});
void append_text(fmt::memory_buffer& out, const fd& v);
void append_text(fmt::memory_buffer& out, const user_pointer& v);
void append_text(fmt::memory_buffer& out, const user_string& v);
void append_text(fmt::memory_buffer& out, const user_buffer& v);
void append_text(fmt::memory_buffer& out, const user_sockaddr& v);
void append_text(fmt::memory_buffer& out, const user_string_array& v);
void append_text(fmt::memory_buffer& out, const fd_pair& v);
void append_text(fmt::memory_buffer& out, const open_how& v);
void append_text(fmt::memory_buffer& out, const clone_args& v);
/// As strace prints a sigset: `[USR1 USR2]`, `[]`, and `~[RTMIN RT_1]` (the signals not
/// set) when 2/3 or more of the 64 are.
void append_text(fmt::memory_buffer& out, const signal_mask& v);
void append_text(fmt::memory_buffer& out, const socket_address& v);
void append_text(fmt::memory_buffer& out, const custom_value& v);
void append_text(fmt::memory_buffer& out, capture_status v);

/// A typed event, as its dynamic event (the same text).
template <typename Args>
void append_text(fmt::memory_buffer& out, const basic_event<Args>& e, text_options options = {}) {
  append_text(out, to_dynamic(e), options);
}

namespace detail {
template <typename T>
inline constexpr bool has_header = std::is_same_v<T, event_header> || std::is_same_v<T, dynamic_event>;
template <typename Args>
inline constexpr bool has_header<basic_event<Args>> = true;

template <typename T>
struct text_formatter {
  text_options options;
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    if constexpr (has_header<T>) {
      for (; it != ctx.end() && (*it == 'n' || *it == 'd'); ++it) (*it == 'n' ? options.names : options.duration) = true;
    }
    if (it != ctx.end() && *it != '}')
      throw fmt::format_error(has_header<T> ? "ebpfpub events take the specs n (names) and d (durations)"
                                            : "ebpfpub types take no format spec");
    return it;
  }
  template <typename Context>
  auto format(const T& v, Context& ctx) const -> decltype(ctx.out()) {
    fmt::memory_buffer text;
    if constexpr (has_header<T>)
      append_text(text, v, options);
    else
      append_text(text, v);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};
}  // namespace detail

}  // namespace ebpfpub

template <> struct fmt::formatter<ebpfpub::event_header> : ebpfpub::detail::text_formatter<ebpfpub::event_header> {};
template <> struct fmt::formatter<ebpfpub::dynamic_event> : ebpfpub::detail::text_formatter<ebpfpub::dynamic_event> {};
template <> struct fmt::formatter<ebpfpub::dynamic_value> : ebpfpub::detail::text_formatter<ebpfpub::dynamic_value> {};
template <typename Args>
struct fmt::formatter<ebpfpub::basic_event<Args>> : ebpfpub::detail::text_formatter<ebpfpub::basic_event<Args>> {};
template <> struct fmt::formatter<ebpfpub::fd> : ebpfpub::detail::text_formatter<ebpfpub::fd> {};
template <> struct fmt::formatter<ebpfpub::user_pointer> : ebpfpub::detail::text_formatter<ebpfpub::user_pointer> {};
template <> struct fmt::formatter<ebpfpub::user_string> : ebpfpub::detail::text_formatter<ebpfpub::user_string> {};
template <> struct fmt::formatter<ebpfpub::user_buffer> : ebpfpub::detail::text_formatter<ebpfpub::user_buffer> {};
template <> struct fmt::formatter<ebpfpub::user_sockaddr> : ebpfpub::detail::text_formatter<ebpfpub::user_sockaddr> {};
template <>
struct fmt::formatter<ebpfpub::user_string_array> : ebpfpub::detail::text_formatter<ebpfpub::user_string_array> {};
template <> struct fmt::formatter<ebpfpub::fd_pair> : ebpfpub::detail::text_formatter<ebpfpub::fd_pair> {};
template <> struct fmt::formatter<ebpfpub::open_how> : ebpfpub::detail::text_formatter<ebpfpub::open_how> {};
template <> struct fmt::formatter<ebpfpub::clone_args> : ebpfpub::detail::text_formatter<ebpfpub::clone_args> {};
template <> struct fmt::formatter<ebpfpub::signal_mask> : ebpfpub::detail::text_formatter<ebpfpub::signal_mask> {};
template <>
struct fmt::formatter<ebpfpub::socket_address> : ebpfpub::detail::text_formatter<ebpfpub::socket_address> {};
template <> struct fmt::formatter<ebpfpub::custom_value> : ebpfpub::detail::text_formatter<ebpfpub::custom_value> {};
template <>
struct fmt::formatter<ebpfpub::capture_status> : ebpfpub::detail::text_formatter<ebpfpub::capture_status> {};
