#pragma once
/// \file
/// Events: the header every event shares, the typed `event<S>`, the by-name
/// `dynamic_event`, and `record_view`, the checked view of a raw record that serializers
/// decode from.

#include <array>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>

#include <ebpfpub/argument.hpp>
#include <ebpfpub/context/paths.hpp>
#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/context/process.hpp>
#include <ebpfpub/error.hpp>
#include <ebpfpub/format/value_writer.hpp>
#include <ebpfpub/plan.hpp>

namespace ebpfpub {

/// Who made the call, when, how long it took, and what it returned.
struct event_header {
  std::uint64_t timestamp = 0;  ///< CLOCK_MONOTONIC ns, as the kernel's bpf_ktime_get_ns()
  std::uint32_t process_id = 0;
  std::uint32_t thread_id = 0;
  std::uint32_t user_id = 0;
  std::uint32_t group_id = 0;
  std::int64_t exit_code = 0;  ///< the return value; -errno on failure
  /// ns from the call's enter to its exit (both bpf_ktime_get_ns()); 0 for the calls
  /// sent at enter (exit, exit_group: `sent_at_enter`), which never return.
  std::uint64_t duration_ns = 0;
  bool probe_error = false;    ///< some capture failed; its argument's status says how
  bool sent_at_enter = false;  ///< exit/exit_group: sent at enter, no exit code
  /// What the fd the call returned names (open*, socket, accept*, dup*: with
  /// plan_options::fd_identity, after a successful call).
  std::optional<fd_identity> returned_fd;
  std::string_view syscall;    ///< the syscall's name (interned: valid for the whole process)
  /// The caller's executable, parent, cgroup and namespaces, read at enter: only what
  /// tracer_options::context selected (`context.fields`); empty otherwise.
  process_context context;
};

/// A process-lifetime copy of `name`: equal names give the same view, which never
/// dangles, so events copied out of a handler outlive their tracer. Thread-safe; the
/// table only grows, by one copy of each distinct syscall and field name.
std::string_view intern_name(std::string_view name);

/// One capture in a record.
struct capture_view {
  capture_status status = capture_status::not_captured;
  std::span<const std::uint8_t> data;
  const capture* spec = nullptr;  ///< the plan's capture, when there is one
};

/// A record whose every length and index has been checked against its plan.
class record_view {
 public:
  /// Checks `bytes` against the session's plans; a malformed record is an error, never
  /// an over-read.
  static expected<record_view> parse(std::span<const std::uint8_t> bytes,
                                     std::span<const plan> plans);

  const event_header& header() const noexcept { return header_; }
  /// The process context, for the library to add what it resolves in user space (the
  /// executable's path, the cgroup's path and container) before handlers see it.
  process_context& context() noexcept { return header_.context; }
  /// The executable's name as the kernel read it (empty without context_field::executable);
  /// a view into the record's bytes.
  std::string_view executable_name() const noexcept { return executable_name_; }
  const ebpfpub::plan& plan() const noexcept { return *plan_; }
  std::size_t argument_count() const noexcept { return argument_count_; }
  /// The raw 8-byte slot of argument `i`.
  std::uint64_t argument(std::size_t i) const noexcept { return i < argument_count_ ? arguments_[i] : 0; }
  /// The first capture the plan made of argument `i`: its status (`not_captured` when
  /// the plan has none, `no_space` when the entry had no room) and bytes.
  capture_view capture_of(std::size_t argument) const noexcept;
  /// The plan's capture of argument `i` by `op` (a path's base_directory beside its
  /// string); `not_captured` when the plan has none.
  capture_view capture_of(std::size_t argument, capture_op op) const noexcept;

  /// The path cache fd identities look their paths up in (the tracer's, when it keeps
  /// one); also gives the returned fd its path.
  void attach_paths(path_cache* paths);
  path_cache* paths() const noexcept { return paths_; }

 private:
  event_header header_;
  const ebpfpub::plan* plan_ = nullptr;
  std::size_t argument_count_ = 0;
  std::array<std::uint64_t, 6> arguments_{};
  std::vector<capture_view> captures_;  // by capture index
  path_cache* paths_ = nullptr;
  std::string_view executable_name_;
};

/// Decoding of one argument into each member type of a signature's `arguments`.
void decode_argument(const record_view& r, std::size_t i, fd& out);
void decode_argument(const record_view& r, std::size_t i, user_pointer& out);
void decode_argument(const record_view& r, std::size_t i, user_string& out);
void decode_argument(const record_view& r, std::size_t i, user_buffer& out);
void decode_argument(const record_view& r, std::size_t i, user_sockaddr& out);
void decode_argument(const record_view& r, std::size_t i, user_string_array& out);
void decode_argument(const record_view& r, std::size_t i, fd_pair& out);
void decode_argument(const record_view& r, std::size_t i, open_how& out);
void decode_argument(const record_view& r, std::size_t i, clone_args& out);
void decode_argument(const record_view& r, std::size_t i, signal_mask& out);
template <typename T>
  requires std::is_integral_v<T>
void decode_argument(const record_view& r, std::size_t i, T& out) {
  out = static_cast<T>(r.argument(i));  // the C value is the slot's low bytes
}

/// Decodes every member of a Hana struct `Args`, member i from argument i.
template <typename Args>
Args decode_members(const record_view& r) {
  Args args{};
  std::size_t i = 0;
  boost::hana::for_each(boost::hana::accessors<Args>(), [&](auto accessor) {
    decode_argument(r, i++, boost::hana::second(accessor)(args));
  });
  return args;
}

/// A typed event: `args` is the serializer's `args_type`.
template <typename Args>
struct basic_event {
  event_header header;
  Args args;
};

/// An argument's value in a dynamic event. A member type of a user's `args_type` that is
/// none of the others arrives as a `custom_value` (printed through its `describe_value`).
using dynamic_value = std::variant<std::int64_t, std::uint64_t, fd, user_pointer, user_string,
                                   user_buffer, user_sockaddr, user_string_array, fd_pair,
                                   open_how, clone_args, signal_mask, custom_value>;

namespace detail {
template <typename T, typename Variant>
struct is_alternative;
template <typename T, typename... U>
struct is_alternative<T, std::variant<U...>> : std::bool_constant<(std::is_same_v<T, U> || ...)> {};
}  // namespace detail

/// A member of a typed event's arguments as a dynamic value: integers widen keeping their
/// sign, argument types stay themselves, anything else becomes a `custom_value`.
template <typename T>
dynamic_value to_dynamic_value(const T& member) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return static_cast<std::int64_t>(member);
  else if constexpr (std::is_integral_v<T>)
    return static_cast<std::uint64_t>(member);
  else if constexpr (detail::is_alternative<T, dynamic_value>::value)
    return member;
  // The declarative wrappers (in_buffer, out_sockaddr, nullable<...>) are the argument
  // types they derive from; a captured struct (in_struct<T>) is its bytes.
  else if constexpr (std::is_base_of_v<user_string, T>)
    return static_cast<const user_string&>(member);
  else if constexpr (std::is_base_of_v<user_buffer, T>)
    return static_cast<const user_buffer&>(member);
  else if constexpr (std::is_base_of_v<user_sockaddr, T>)
    return static_cast<const user_sockaddr&>(member);
  else if constexpr (!detail::has_describe_value<T> && std::is_convertible_v<const T&, user_buffer>)
    return static_cast<user_buffer>(member);
  else {
    static_assert(describable<T>,
                  "ebpfpub: a member of args_type has a type the library cannot print or "
                  "hold in a dynamic_event. Declare `void describe_value(ebpfpub::value_writer&, "
                  "const T&)` in its namespace (docs/formatting.md).");
    return custom_value(member);
  }
}

struct dynamic_argument {
  std::string_view name;  ///< the kernel's field name (interned: valid for the whole process)
  dynamic_value value;
};

/// An event of a syscall known by name only: its arguments in the kernel's order.
struct dynamic_event {
  event_header header;
  std::vector<dynamic_argument> args;
};

/// The generic decoding of any record into a dynamic event.
dynamic_event decode_dynamic(const record_view& r);

/// A typed event's arguments as a dynamic event's: member i is named after the kernel's
/// field i (the plan's), integers widen keeping their sign.
template <typename Args>
dynamic_event to_dynamic(const record_view& r, const Args& args) {
  dynamic_event e{r.header(), {}};
  const auto& names = r.plan().syscall.arguments;
  std::size_t i = 0;
  boost::hana::for_each(boost::hana::accessors<Args>(), [&](auto accessor) {
    const auto& member = boost::hana::second(accessor)(args);
    using T = std::decay_t<decltype(member)>;
    const std::string_view name = i < names.size() ? intern_name(names[i].name) : std::string_view();
    e.args.push_back({name, to_dynamic_value<T>(member)});
    ++i;
  });
  return e;
}

}  // namespace ebpfpub
