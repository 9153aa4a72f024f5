#pragma once
// -c: the summary table (and, at the end, the histograms), from the library's
// formatters (include/ebpfpub/summary/format.hpp).

#include <string_view>

#include <fmt/format.h>

#include <ebpfpub/tracer.hpp>

namespace ebpftracer {

/// Appends the strace -c table of what `tracer` counted so far, after `heading` (a line
/// of its own when not empty), and every syscall's histogram when `histograms`.
ebpfpub::expected<void> append_summary(fmt::memory_buffer& out, const ebpfpub::tracer& tracer,
                                       std::string_view heading, bool histograms);

}  // namespace ebpftracer
