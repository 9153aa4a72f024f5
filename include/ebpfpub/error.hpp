#pragma once
/// \file
/// The one error type of the public API and the `expected<T>` that carries it.
/// No exception crosses the API: every fallible call returns `expected<T>`.

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace ebpfpub {

/// What kind of failure an `error` is; the message says which object and what to do.
enum class errc {
  invalid_argument,   ///< the caller passed something we cannot use
  not_found,          ///< a syscall, tracepoint, file or map that does not exist
  permission_denied,  ///< missing root, CAP_BPF, CAP_PERFMON or a mount permission
  unsupported,        ///< the kernel lacks a feature we need
  malformed_input,    ///< text or bytes that do not parse (format files, records)
  mismatch,           ///< a compile-time signature disagrees with the running kernel
  verifier_rejected,  ///< the kernel's verifier refused a program (log in the message)
  exhausted,          ///< a buffer or map too small for what was asked of it
  system,             ///< a system call failed for another reason
  internal,           ///< a bug in ebpfpub; please report it
};

/// Short lowercase name of an error category, e.g. "permission denied".
std::string_view to_string(errc code) noexcept;

/// An error: a category and a message that names the thing and the fix.
class error {
 public:
  error(errc code, std::string message) : code_(code), message_(std::move(message)) {}

  errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  /// "category: message", for logs.
  std::string what() const;

  /// An error of category `system` or `permission_denied` from an errno value, with
  /// `context` saying what failed: "opening /sys/kernel/tracing/events: No such file".
  static error from_errno(int errnum, std::string_view context);

  friend bool operator==(const error&, const error&) = default;

 private:
  errc code_;
  std::string message_;
};

template <typename E>
struct unexpected {
  E value;
};
template <typename E>
unexpected(E) -> unexpected<E>;

/// A value or an error. A small subset of C++23's `std::expected`, which this C++20
/// code base cannot use yet; its names match so moving to the standard one is a rename.
template <typename T, typename E = error>
class [[nodiscard]] expected {
 public:
  using value_type = T;
  using error_type = E;

  template <typename U = T>
    requires std::is_constructible_v<T, U&&>
  expected(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <typename G>
  expected(unexpected<G> error) : storage_(std::in_place_index<1>, std::move(error.value)) {}
  expected(E error) requires(!std::is_same_v<T, E>)
      : storage_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(storage_); }
  const T& value() const& { assert(has_value()); return std::get<0>(storage_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { assert(!has_value()); return std::get<1>(storage_); }
  const E& error() const& { assert(!has_value()); return std::get<1>(storage_); }
  E&& error() && { assert(!has_value()); return std::get<1>(std::move(storage_)); }

 private:
  std::variant<T, E> storage_;
};

template <typename E>
class [[nodiscard]] expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  expected() = default;
  template <typename G>
  expected(unexpected<G> error) : error_(std::move(error.value)), ok_(false) {}
  expected(E error) : error_(std::move(error)), ok_(false) {}

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const { assert(ok_); }
  const E& error() const& { assert(!ok_); return error_; }
  E&& error() && { assert(!ok_); return std::move(error_); }

 private:
  E error_{errc::internal, {}};
  bool ok_ = true;
};

}  // namespace ebpfpub
