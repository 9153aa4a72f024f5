#pragma once
// --format json: one object per event, and the closing summary.

#include <string>
#include <string_view>

#include <ebpfpub/event.hpp>
#include <ebpfpub/tracer.hpp>

namespace ebpftracer {

/// Text for a JSON string: valid UTF-8 is kept; each byte of invalid UTF-8 becomes the
/// four characters \xNN (control characters are escaped by the JSON writer itself).
std::string json_text(std::string_view bytes);

/// {"timestamp":..,"process_id":..,"thread_id":..,"user_id":..,"group_id":..,
///  "syscall":"..","exit_code":..,"probe_error":..,"args":{...}} on one line, no newline.
std::string format_json(const ebpfpub::dynamic_event& e);

/// {"summary":{"events":N,"lost":N,"probe_errors":N,"by_syscall":{"openat":{"events":N,"lost":N}}}}
std::string format_json_summary(const ebpfpub::statistics& stats);

}  // namespace ebpftracer
