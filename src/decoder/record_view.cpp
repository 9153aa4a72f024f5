// Checked parsing of event records. The bytes come from the kernel, but a record is
// treated as untrusted input (it is fuzzed): every offset and length is checked against
// the record's size and its plan before anything is read.

#include <ebpfpub/context/paths.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/record.hpp>

#include <bitset>
#include <cstring>

#include <fmt/format.h>

namespace ebpfpub {
namespace {

template <typename T>
T read(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

error malformed(std::string_view what) {
  return error(errc::malformed_input, fmt::format("malformed event record: {}", what));
}

// The process context block (record.hpp): only the fields it says were read are kept.
expected<std::string_view> parse_context(std::span<const std::uint8_t> data, process_context& c) {
  using namespace record;
  const auto bits = read<std::uint32_t>(data, context_offset::fields);
  c.fields = context_fields::from_bits(bits);
  if (c.fields.bits() != bits || c.fields.empty())
    return malformed(fmt::format("process context with fields {:#x}", bits));
  if (c.fields.has(context_field::parent)) c.parent_process_id = read<std::uint32_t>(data, context_offset::parent_pid);
  if (c.fields.wants_cgroup_id()) c.cgroup_id = read<std::uint64_t>(data, context_offset::cgroup_id);
  if (c.fields.has(context_field::namespaces)) {
    c.namespaces = {read<std::uint32_t>(data, context_offset::mnt_ns), read<std::uint32_t>(data, context_offset::pid_ns),
                    read<std::uint32_t>(data, context_offset::net_ns), read<std::uint32_t>(data, context_offset::user_ns)};
  }
  if (!c.fields.has(context_field::executable)) return std::string_view();
  const auto identity = file_identity::from_kernel(read<std::uint32_t>(data, context_offset::exe_device),
                                                   read<std::uint64_t>(data, context_offset::exe_inode));
  c.executable_device = identity.device;
  c.executable_inode = identity.inode;
  const auto* name = reinterpret_cast<const char*>(data.data() + context_offset::exe_name);
  std::size_t length = 0;
  while (length < context_name_size && name[length] != '\0') ++length;
  if (length == context_name_size) return malformed("process context: executable name without its NUL");
  return std::string_view(name, length);
}

}  // namespace

expected<record_view> record_view::parse(std::span<const std::uint8_t> bytes,
                                         std::span<const ebpfpub::plan> plans) {
  using namespace record;
  if (bytes.size() < header_size)
    return malformed(fmt::format("{} bytes, shorter than the {}-byte header", bytes.size(), header_size));
  const auto size = read<std::uint32_t>(bytes, offset::size);
  // A perf sample may carry padding after the record; a ring record is exact.
  if (size < header_size || size > bytes.size())
    return malformed(fmt::format("size field {} outside [{}, {}]", size, header_size, bytes.size()));
  bytes = bytes.first(size);

  record_view r;
  const auto index = read<std::uint16_t>(bytes, offset::syscall);
  if (index >= plans.size())
    return malformed(fmt::format("syscall index {} but the session has {} syscalls", index, plans.size()));
  r.plan_ = &plans[index];
  const auto flags = read<std::uint8_t>(bytes, offset::flags);
  if (flags & ~std::uint8_t{sent_at_enter})
    return malformed(fmt::format("unknown flags {:#x}", flags));
  r.argument_count_ = read<std::uint8_t>(bytes, offset::argument_count);
  if (r.argument_count_ != r.plan_->syscall.arguments.size())
    return malformed(fmt::format("{} arguments for {}, which has {}", r.argument_count_,
                                 r.plan_->syscall.name, r.plan_->syscall.arguments.size()));
  const std::uint32_t arguments_end = header_size + 8 * static_cast<std::uint32_t>(r.argument_count_);
  if (arguments_end > size)
    return malformed(fmt::format("{} arguments do not fit in {} bytes", r.argument_count_, size));

  auto& h = r.header_;
  h.timestamp = read<std::uint64_t>(bytes, offset::timestamp);
  h.process_id = read<std::uint32_t>(bytes, offset::process_id);
  h.thread_id = read<std::uint32_t>(bytes, offset::thread_id);
  h.user_id = read<std::uint32_t>(bytes, offset::user_id);
  h.group_id = read<std::uint32_t>(bytes, offset::group_id);
  h.exit_code = read<std::int64_t>(bytes, offset::exit_code);
  h.duration_ns = read<std::uint64_t>(bytes, offset::duration);
  h.sent_at_enter = (flags & sent_at_enter) != 0;
  h.syscall = intern_name(r.plan_->syscall.name);  // events outlive the plans
  for (std::size_t i = 0; i < r.argument_count_; ++i)
    r.arguments_[i] = read<std::uint64_t>(bytes, offset::arguments + 8 * i);

  // Captures the plan asked for but the record lacks found no room in the entry.
  const auto& captures = r.plan_->captures;
  r.captures_.assign(captures.size(), capture_view{capture_status::no_space, {}});
  std::bitset<256> seen;  // capture indices are one byte; a vector<bool> was a malloc per record
  std::uint32_t at = arguments_end;
  while (at < size) {
    if (size - at < capture_header_size)
      return malformed(fmt::format("{} stray bytes at offset {}", size - at, at));
    const auto capture_index = read<std::uint8_t>(bytes, at);
    const auto status = read<std::uint8_t>(bytes, at + 1);
    const auto length = read<std::uint32_t>(bytes, at + 4);
    if (capture_index == context_capture) {
      if (r.header_.context.fields.bits() != 0) return malformed("process context appears twice");
      if (status != static_cast<std::uint8_t>(capture_status::ok) || length != context_size)
        return malformed(fmt::format("process context of {} bytes, status {} (expected {}, ok)", length,
                                     status, context_size));
      if (size - at - capture_header_size < context_size)
        return malformed(fmt::format("process context at offset {} overruns the {}-byte record", at, size));
      auto name = parse_context(bytes.subspan(at + capture_header_size, context_size), r.header_.context);
      if (!name) return name.error();
      r.executable_name_ = *name;
      at += capture_header_size + context_size;
      continue;
    }
    if (capture_index >= captures.size())
      return malformed(fmt::format("capture {} at offset {}, but the plan has {}", capture_index,
                                   at, captures.size()));
    if (seen[capture_index])
      return malformed(fmt::format("capture {} appears twice", capture_index));
    if (status > static_cast<std::uint8_t>(capture_status::no_space))
      return malformed(fmt::format("capture {} has unknown status {}", capture_index, status));
    if (length > captures[capture_index].max_bytes)
      return malformed(fmt::format("capture {} has {} bytes, over its limit of {}", capture_index,
                                   length, captures[capture_index].max_bytes));
    const std::uint64_t data_end = std::uint64_t{at} + capture_header_size + length;
    if (data_end > size)
      return malformed(fmt::format("capture {} of {} bytes at offset {} overruns the {}-byte record",
                                   capture_index, length, at, size));
    seen[capture_index] = true;
    r.captures_[capture_index] = {static_cast<capture_status>(status),
                                  bytes.subspan(at + capture_header_size, length)};
    at = static_cast<std::uint32_t>(std::min<std::uint64_t>(align8(static_cast<std::uint32_t>(data_end)), size));
  }
  // Exit captures of a call sent at enter never ran, nor those of a failed call that
  // only run on success: neither is an error.
  for (std::size_t i = 0; i < captures.size(); ++i) {
    const bool skipped = (h.sent_at_enter && captures[i].when == syscall_phase::exit) ||
                         (captures[i].only_if_success && h.exit_code < 0);
    if (!seen[i] && skipped) r.captures_[i] = {capture_status::not_captured, {}};
    // NULL where the kernel accepts NULL is a choice of the caller, not a failed capture.
    const bool not_provided =
        captures[i].nullable && r.captures_[i].status == capture_status::null_pointer;
    if (is_probe_error(r.captures_[i].status) && !not_provided) h.probe_error = true;
    if (captures[i].of_return_value && r.captures_[i].status == capture_status::ok)
      h.returned_fd = decode_fd_identity(r.captures_[i].data);
  }
  return r;
}

capture_view record_view::capture_of(std::size_t argument) const noexcept {
  const auto& captures = plan_->captures;
  for (std::size_t i = 0; i < captures.size(); ++i) {
    if (captures[i].argument != argument) continue;
    auto view = captures_[i];
    view.spec = &captures[i];
    return view;
  }
  return {};
}

capture_view record_view::capture_of(std::size_t argument, capture_op op) const noexcept {
  const auto& captures = plan_->captures;
  for (std::size_t i = 0; i < captures.size(); ++i) {
    if (captures[i].argument != argument || captures[i].op != op || captures[i].of_return_value) continue;
    auto view = captures_[i];
    view.spec = &captures[i];
    return view;
  }
  return {};
}

}  // namespace ebpfpub
