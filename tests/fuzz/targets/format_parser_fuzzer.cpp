// Feeds arbitrary bytes to the tracepoint format parser: it must return a value or an
// error, never crash, hang or read out of bounds. Parsed results are checked for the
// invariants the parser promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <ebpfpub/tracefs.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ebpfpub::parse_tracepoint_format(text, "fuzz");
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return 0;
  }
  const auto& fields = parsed->fields;
  if (fields.empty() || parsed->name.empty()) std::abort();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].size == 0 || fields[i].name.empty() || fields[i].type.empty()) std::abort();
    if (i > 0 && fields[i].offset < fields[i - 1].offset + fields[i - 1].size) std::abort();
  }
  if (parsed->payload().size() > fields.size()) std::abort();
  return 0;
}
