// The histogram's arithmetic: which bucket a duration falls in, and percentiles read
// back from the buckets. The kernel computes bucket_of the same way (codegen/summary.cpp).

#include <ebpfpub/summary/summary.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

namespace ebpfpub {

std::uint64_t bucket_low(std::size_t i) {
  if (i == 0) return 0;
  return std::uint64_t{1} << (std::min<std::size_t>(i, summary_buckets - 1) - 1);
}

std::uint64_t bucket_high(std::size_t i) {
  if (i >= summary_buckets - 1) return std::numeric_limits<std::uint64_t>::max();
  return std::uint64_t{1} << i;
}

std::size_t bucket_of(std::uint64_t ns) {
  // bit_width(0) = 0, bit_width(1) = 1, bit_width(2..3) = 2: bucket i holds [2^(i-1), 2^i).
  return std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(ns)), summary_buckets - 1);
}

std::uint64_t syscall_summary::timed_calls() const {
  return std::accumulate(histogram.begin(), histogram.end(), std::uint64_t{0});
}

std::uint64_t syscall_summary::percentile(double percent) const {
  const auto n = timed_calls();
  if (n == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  // The rank of the call we want, 1-based: the smallest with percent% at or below it.
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(n))));
  std::uint64_t before = 0;
  for (std::size_t i = 0; i < summary_buckets; ++i) {
    const auto in = histogram[i];
    if (before + in < rank) {
      before += in;
      continue;
    }
    // Calls spread evenly across the bucket: the rank-th sits that far into it.
    const double low = static_cast<double>(bucket_low(i));
    const double high = i == summary_buckets - 1 ? static_cast<double>(max_ns) : static_cast<double>(bucket_high(i));
    const double at = low + (high - low) * static_cast<double>(rank - before) / static_cast<double>(in);
    auto value = static_cast<std::uint64_t>(at);
    return std::clamp(value, min_ns, std::max(min_ns, max_ns));
  }
  return max_ns;
}

}  // namespace ebpfpub
