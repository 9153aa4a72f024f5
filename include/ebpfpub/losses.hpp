#pragma once
/// \file
/// Losses as they happen: the tracer counts every lost call per syscall and reason
/// (`statistics`); a `loss_tracker` turns successive statistics into what was lost since
/// the last look, so an output can put each loss in order among the events, as a gap.
///
///     ebpfpub::loss_tracker losses;
///     while (running) {
///       tracer->poll(100ms);
///       for (const auto& gap : losses.update(tracer->stats())) print(gap);
///     }

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ebpfpub/tracer.hpp>

namespace ebpfpub {

/// Calls lost since the last update, of one syscall (empty: not attributable), for one
/// reason: "output_full", "no_storage", "malformed", or "rate_limited" (dropped by the
/// rate limit on purpose: not a loss in `statistics::lost()`, but missing from the stream).
struct loss {
  std::string syscall;
  std::string_view reason;
  std::uint64_t count = 0;
};

class loss_tracker {
 public:
  /// What grew since the last call (the first call reports everything counted so far).
  std::vector<loss> update(const statistics& stats);

 private:
  std::map<std::pair<std::string, std::string_view>, std::uint64_t> seen_;
};

}  // namespace ebpfpub
