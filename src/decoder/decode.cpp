// Decoding a checked record into typed arguments and into dynamic events.

#include <ebpfpub/event.hpp>

#include <algorithm>

namespace ebpfpub {

void decode_argument(const record_view& r, std::size_t i, user_pointer& out) {
  out.address = r.argument(i);
}

void decode_argument(const record_view& r, std::size_t i, user_string& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  out.value.assign(reinterpret_cast<const char*>(c.data.data()), c.data.size());
  out.resolved.reset();
  const auto base = r.capture_of(i, capture_op::base_directory);
  // A base without the text it is for (a faulted string) joins to nothing useful.
  if (base.status == capture_status::ok && base.spec && (c.status == capture_status::ok))
    out.resolved = decode_base_directory(base.data, out.value);
}

void decode_argument(const record_view& r, std::size_t i, user_buffer& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  out.data.assign(c.data.begin(), c.data.end());
}

void decode_argument(const record_view& r, std::size_t i, user_sockaddr& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  out.data.assign(c.data.begin(), c.data.end());
}

void decode_argument(const record_view& r, std::size_t i, user_string_array& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  out.values.clear();
  // Strings are stored back to back, each with its NUL.
  std::string current;
  for (auto byte : c.data) {
    if (byte == 0) {
      out.values.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(byte));
    }
  }
  if (!current.empty()) out.values.push_back(std::move(current));
  // A block read whole from a new image (argv after exec) may hold more than asked.
  if (c.spec && c.spec->max_items > 0 && out.values.size() > c.spec->max_items) {
    out.values.resize(c.spec->max_items);
    out.status = capture_status::truncated;
  }
}

namespace {

template <typename T>
dynamic_value decoded(const record_view& r, std::size_t i) {
  T value;
  decode_argument(r, i, value);
  return value;
}

// The slot's low `width` bytes, sign- or zero-extended.
dynamic_value integer(std::uint64_t slot, std::uint8_t width, bool is_signed) {
  const unsigned shift = 64 - 8 * std::clamp<unsigned>(width, 1, 8);
  if (is_signed) return static_cast<std::int64_t>(slot << shift) >> shift;
  return (slot << shift) >> shift;
}

}  // namespace

dynamic_event decode_dynamic(const record_view& r) {
  dynamic_event e{r.header(), {}};
  const auto& arguments = r.plan().syscall.arguments;
  e.args.reserve(arguments.size());
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const auto& a = arguments[i];
    dynamic_value value;
    switch (a.kind) {
      case arg_kind::integer: value = integer(r.argument(i), a.width, a.is_signed); break;
      case arg_kind::fd: value = decoded<fd>(r, i); break;
      case arg_kind::user_string: value = decoded<user_string>(r, i); break;
      case arg_kind::user_buffer: value = decoded<user_buffer>(r, i); break;
      case arg_kind::user_sockaddr: value = decoded<user_sockaddr>(r, i); break;
      case arg_kind::user_string_array: value = decoded<user_string_array>(r, i); break;
      case arg_kind::user_pointer:
        if (signal_mask_of(a.type) != signal_mask_source::none) value = decoded<signal_mask>(r, i);
        else value = decoded<user_pointer>(r, i);
        break;
    }
    e.args.push_back({intern_name(a.name), std::move(value)});
  }
  return e;
}

}  // namespace ebpfpub
