#pragma once
/// \file
/// The one customization point for printing a value of your own type: a free function
///
///     void describe_value(ebpfpub::value_writer& w, const my_type& v);
///
/// declared in `my_type`'s namespace (found by ADL). The text formatter, the JSON writer
/// and `dynamic_event` (through `custom_value`) all go through it, so one function makes a
/// custom member of a serializer's `args_type` print everywhere. Minimal complete
/// definition: `describe_value` calls the writer once for one value (a number, a string,
/// bytes, or an array/object bracketing more calls). Example (docs/formatting.md):
///
///     namespace my {
///     struct rlimit_value { std::uint64_t cur, max; };
///     void describe_value(ebpfpub::value_writer& w, const rlimit_value& v) {
///       w.begin_object();
///       w.field("cur", v.cur);
///       w.field("max", v.max);
///       w.end_object();
///     }
///     }  // namespace my
///
/// Text prints that as `{cur: 1024, max: 4096}`, JSON as `{"cur":1024,"max":4096}`.

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <iterator>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/concept/struct.hpp>

namespace ebpfpub {

/// Receives one value, in pieces: the text and JSON writers implement it. Separators
/// (`, ` in text, `,` in JSON) are the writer's business, not the caller's.
class value_writer {
 public:
  virtual ~value_writer() = default;
  virtual void write_signed(std::int64_t v) = 0;
  virtual void write_unsigned(std::uint64_t v) = 0;
  virtual void write_bool(bool v) = 0;
  /// Text from traced memory: the writer escapes it (terminal-safe text, JSON-safe UTF-8).
  virtual void write_string(std::string_view text) = 0;
  /// Raw bytes: quoted and escaped in text, base64 in JSON.
  virtual void write_bytes(std::span<const std::uint8_t> bytes) = 0;
  virtual void begin_array() = 0;
  virtual void end_array() = 0;
  virtual void begin_object() = 0;
  /// Names the next value of the open object.
  virtual void key(std::string_view name) = 0;
  virtual void end_object() = 0;

  /// Writes any value `write_value` accepts.
  template <typename T>
  void value(const T& v);
  /// `key(name)` then `value(v)`.
  template <typename T>
  void field(std::string_view name, const T& v) {
    key(name);
    value(v);
  }
};

namespace detail {
template <typename T>
concept has_describe_value = requires(value_writer& w, const T& v) { describe_value(w, v); };
template <typename T>
concept range_of_values = requires(const T& r) { std::begin(r); std::end(r); } &&
                          !std::is_convertible_v<const T&, std::string_view>;
// Named in the diagnostic of a type without the hook, so the compiler prints the type.
template <typename T>
struct describe_value_missing_for : std::false_type {};
}  // namespace detail

/// What `write_value` can write: integers, bool, strings, byte vectors, ranges and Hana
/// structs of writable values, and any type with a `describe_value` found by ADL.
template <typename T>
concept describable =
    detail::has_describe_value<T> || std::is_integral_v<T> || std::is_convertible_v<const T&, std::string_view> ||
    detail::range_of_values<T> || boost::hana::Struct<T>::value;

/// Writes `v` through its `describe_value` when it has one; else integers, strings, byte
/// vectors (as bytes), ranges (as arrays) and Hana structs (as objects, member by member).
template <typename T>
void write_value(value_writer& w, const T& v) {
  if constexpr (detail::has_describe_value<T>) {
    describe_value(w, v);
  } else if constexpr (std::is_same_v<T, bool>) {
    w.write_bool(v);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.write_signed(v);
  } else if constexpr (std::is_integral_v<T>) {
    w.write_unsigned(v);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    w.write_string(std::string_view(v));
  } else if constexpr (std::is_same_v<T, std::vector<std::uint8_t>>) {
    w.write_bytes(v);
  } else if constexpr (detail::range_of_values<T>) {
    w.begin_array();
    for (const auto& item : v) write_value(w, item);
    w.end_array();
  } else if constexpr (boost::hana::Struct<T>::value) {
    w.begin_object();
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
      w.key(boost::hana::to<const char*>(boost::hana::first(accessor)));
      write_value(w, boost::hana::second(accessor)(v));
    });
    w.end_object();
  } else {
    static_assert(detail::describe_value_missing_for<T>::value,
                  "ebpfpub: no way to print this type (see `describe_value_missing_for<T>` "
                  "above). Declare `void describe_value(ebpfpub::value_writer&, const T&)` in "
                  "T's namespace (docs/formatting.md), or make T a BOOST_HANA_DEFINE_STRUCT.");
  }
}

template <typename T>
void value_writer::value(const T& v) {
  write_value(*this, v);
}

/// A value of a user's type inside a `dynamic_value`: kept whole (shared, immutable) and
/// printed through its `describe_value`.
class custom_value {
 public:
  template <typename T>
    requires(!std::is_same_v<std::decay_t<T>, custom_value>)
  explicit custom_value(T value) : model_(std::make_shared<const model<std::decay_t<T>>>(std::move(value))) {}

  void describe(value_writer& w) const { model_->describe(w); }
  const std::type_info& type() const noexcept { return model_->type(); }
  /// The value, when it is a `T`; else nullptr.
  template <typename T>
  const T* get() const noexcept {
    return model_->type() == typeid(T) ? static_cast<const T*>(model_->address()) : nullptr;
  }
  /// Same type and equal values (types without == compare by identity).
  friend bool operator==(const custom_value& a, const custom_value& b) {
    return a.model_ == b.model_ || a.model_->equals(*b.model_);
  }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void describe(value_writer& w) const = 0;
    virtual const std::type_info& type() const noexcept = 0;
    virtual const void* address() const noexcept = 0;
    virtual bool equals(const concept_t& other) const = 0;
  };
  template <typename T>
  struct model final : concept_t {
    explicit model(T v) : value(std::move(v)) {}
    void describe(value_writer& w) const override { write_value(w, value); }
    const std::type_info& type() const noexcept override { return typeid(T); }
    const void* address() const noexcept override { return &value; }
    bool equals(const concept_t& other) const override {
      if constexpr (std::equality_comparable<T>)
        return other.type() == typeid(T) && *static_cast<const T*>(other.address()) == value;
      else
        return false;
    }
    T value;
  };
  std::shared_ptr<const concept_t> model_;
};

}  // namespace ebpfpub
