#include <ebpfpub/losses.hpp>

#include <algorithm>

namespace ebpfpub {

std::vector<loss> loss_tracker::update(const statistics& stats) {
  std::vector<loss> grown;
  const auto check = [&](const std::string& syscall, std::string_view reason, std::uint64_t now) {
    auto& seen = seen_[{syscall, reason}];
    if (now > seen) grown.push_back({syscall, reason, now - seen});
    seen = std::max(seen, now);
  };
  for (const auto& s : stats.by_syscall) {
    check(s.syscall, "output_full", s.lost_output_full);
    check(s.syscall, "no_storage", s.lost_no_storage);
    check(s.syscall, "malformed", s.lost_malformed);
    // Not a loss (the limit chose them), but calls the stream does not carry all the same.
    check(s.syscall, "rate_limited", s.rate_limited);
  }
  check({}, "malformed", stats.lost_unattributed);
  return grown;
}

}  // namespace ebpfpub
