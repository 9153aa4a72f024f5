#include "summary_output.hpp"

#include <iterator>

#include <ebpfpub/summary/format.hpp>

namespace ebpftracer {

ebpfpub::expected<void> append_summary(fmt::memory_buffer& out, const ebpfpub::tracer& tracer,
                                       std::string_view heading, bool histograms) {
  auto counted = tracer.summary();
  if (!counted) return counted.error();
  if (!heading.empty()) fmt::format_to(std::back_inserter(out), "{}\n", heading);
  const auto table = ebpfpub::format_summary_table(*counted);
  out.append(table);
  // A blank line after the table; each histogram ends with one.
  out.push_back('\n');
  if (histograms) out.append(ebpfpub::format_histograms(*counted));
  return {};
}

}  // namespace ebpftracer
