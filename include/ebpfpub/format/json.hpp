#pragma once
/// \file
/// JSON, one object per event, written straight into a reused buffer (no document is
/// built): the format docs/event-format.md documents.
///
///     fmt::memory_buffer out;
///     ebpfpub::append_json(out, e);   // {"timestamp":..,"syscall":"openat",..,"args":{..}}
///     out.push_back('\n');
///
/// A custom argument type is written through its `describe_value`
/// (format/value_writer.hpp).

#include <string>

#include <fmt/format.h>

#include <ebpfpub/event.hpp>
#include <ebpfpub/format/typed_event.hpp>
#include <ebpfpub/tracer.hpp>

namespace ebpfpub {

/// `{"timestamp":..,"process_id":..,"thread_id":..,"user_id":..,"group_id":..,
/// "syscall":"..","exit_code":..,"duration_ns":..,"probe_error":..,"args":{...}}`, arguments in the
/// kernel's order; no newline.
void append_json(fmt::memory_buffer& out, const dynamic_event& e);

/// What the JSON adds to the numbers. `names`: after "args", `"names":{..}` gives each
/// argument that takes a set of names by name, as strace prints it
/// (`{"dfd":"AT_FDCWD","flags":"O_RDONLY|O_CLOEXEC"}`), and a failed call's errno as
/// `"error":"ENOENT"`; every number stays where it was.
enum class json_style : std::uint8_t { numbers, names };
void append_json(fmt::memory_buffer& out, const dynamic_event& e, json_style style);
/// One argument's value.
void append_json(fmt::memory_buffer& out, const dynamic_value& v);
/// A typed event, as its dynamic event.
template <typename Args>
void append_json(fmt::memory_buffer& out, const basic_event<Args>& e, json_style style = json_style::numbers) {
  append_json(out, to_dynamic(e), style);
}

/// `{"summary":{"events":N,"lost":N,"probe_errors":N,"by_syscall":{"openat":{"events":N,"lost":N}}}}`
void append_json_summary(fmt::memory_buffer& out, const statistics& stats);

/// The same, as strings.
template <typename Event>
std::string to_json(const Event& e) {
  fmt::memory_buffer out;
  append_json(out, e);
  return fmt::to_string(out);
}

}  // namespace ebpfpub
