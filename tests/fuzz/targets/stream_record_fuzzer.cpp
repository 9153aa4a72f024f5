// Feeds arbitrary text to the consumer's side of a stream (records come from a bus, from
// any host): parse_record and the ledger must parse or refuse every input, never crash,
// and never count a record twice. Input: records separated by newlines.
#include <cstddef>
#include <cstdint>
#include <ebpfpub/sinks/ledger.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ebpfpub::sinks::ledger book;
  const std::size_t lines = book.add_lines(text);
  std::uint64_t accounted = book.malformed();
  for (const auto& [host, h] : book.hosts()) {
    accounted += h.events + h.gap_records + h.duplicates;
    // Every range the ledger keeps is ordered and disjoint.
    std::uint64_t next = 0;
    bool first = true;
    for (const auto& [from, to] : h.covered) {
      if (from > to || (!first && from <= next)) __builtin_trap();
      next = to;
      first = false;
    }
    (void)h.complete();
  }
  if (accounted != lines) __builtin_trap();
  return 0;
}
