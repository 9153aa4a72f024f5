// Summary mode's text: the strace -c table and bpftrace-style histograms. Pure functions
// of a summary, so their exact text is unit-tested (tests/unit/summary_test.cpp).

#include <ebpfpub/summary/format.hpp>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <ebpfpub/symbols/symbols.hpp>

namespace ebpfpub {
namespace {

constexpr std::string_view rule =
    "------ ----------- ----------- ----------- ----------- --------- --------- ----------------\n";
constexpr std::size_t bar_width = 52;  // bpftrace's

// strace -c's order: most time first; ties by calls, then name, for a stable table.
std::vector<const syscall_summary*> table_order(const summary_report& s) {
  std::vector<const syscall_summary*> rows;
  for (const auto& row : s.by_syscall)
    if (row.calls != 0) rows.push_back(&row);
  std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    if (a->total_ns != b->total_ns) return a->total_ns > b->total_ns;
    if (a->calls != b->calls) return a->calls > b->calls;
    return a->name < b->name;
  });
  return rows;
}

void append_row(fmt::memory_buffer& out, const syscall_summary& row, std::uint64_t all_ns,
                std::string_view name) {
  const double share = all_ns == 0 ? 0.0 : 100.0 * static_cast<double>(row.total_ns) / static_cast<double>(all_ns);
  const auto timed = row.timed_calls();
  const auto per_call = timed == 0 ? 0 : row.total_ns / timed / 1000;
  // strace leaves the errors column blank when there were none.
  const auto errors = row.errors == 0 ? std::string() : fmt::to_string(row.errors);
  fmt::format_to(std::back_inserter(out), "{:6.2f} {:11.6f} {:11} {:11} {:11} {:9} {:>9} {}\n", share,
                 static_cast<double>(row.total_ns) / 1e9, per_call, row.percentile(50) / 1000,
                 row.percentile(99) / 1000, row.calls, errors, name);
}

}  // namespace

std::string format_summary_table(const summary_report& s) {
  fmt::memory_buffer out;
  const auto rows = table_order(s);
  syscall_summary total;
  for (const auto* row : rows) {
    total.calls += row->calls;
    total.errors += row->errors;
    total.total_ns += row->total_ns;
    if (row->timed_calls() != 0) {
      total.min_ns = total.timed_calls() == 0 ? row->min_ns : std::min(total.min_ns, row->min_ns);
      total.max_ns = std::max(total.max_ns, row->max_ns);
    }
    for (std::size_t i = 0; i < summary_buckets; ++i) total.histogram[i] += row->histogram[i];
  }
  fmt::format_to(std::back_inserter(out), "{:>6} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9} {}\n", "% time",
                 "seconds", "usecs/call", "p50 usecs", "p99 usecs", "calls", "errors", "syscall");
  out.append(rule);
  for (const auto* row : rows) append_row(out, *row, total.total_ns, row->name);
  out.append(rule);
  append_row(out, total, total.total_ns, "total");

  bool heading = false;
  for (const auto* row : rows) {
    if (row->errors == 0) continue;
    if (!heading) fmt::format_to(std::back_inserter(out), "\nerrors by errno:\n");
    heading = true;
    // Most frequent first, as a reader looks for what dominates.
    std::vector<std::pair<int, std::uint64_t>> by_count(row->errors_by_errno.begin(), row->errors_by_errno.end());
    std::stable_sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    fmt::format_to(std::back_inserter(out), "  {}:", row->name);
    const char* separator = " ";
    for (const auto& [error, count] : by_count) {
      const auto name = symbols::errno_name(static_cast<std::uint64_t>(error));
      if (name.empty()) fmt::format_to(std::back_inserter(out), "{}errno {} {}", separator, error, count);
      else fmt::format_to(std::back_inserter(out), "{}{} {}", separator, name, count);
      separator = ", ";
    }
    if (row->errors_unattributed != 0)
      fmt::format_to(std::back_inserter(out), "{}{} with no room in the errno map", separator,
                     row->errors_unattributed);
    out.push_back('\n');
  }
  return fmt::to_string(out);
}

std::string bucket_label(std::size_t bucket) {
  if (bucket == 0) return "[0]";
  if (bucket == 1) return "[1]";
  // bpftrace's power-of-two suffixes: 2^(10k + r) prints as 2^r and the k-th suffix.
  static constexpr std::string_view suffixes[] = {"", "K", "M", "G", "T", "P", "E"};
  auto power = [](std::size_t exponent) {
    return fmt::format("{}{}", std::uint64_t{1} << (exponent % 10), suffixes[exponent / 10]);
  };
  const auto low = bucket - 1;
  if (bucket >= summary_buckets - 1) return fmt::format("[{}, ...)", power(low));
  return fmt::format("[{}, {})", power(low), power(bucket));
}

std::string format_histogram(const syscall_summary& s) {
  std::size_t first = summary_buckets;
  std::size_t last = 0;
  std::uint64_t most = 0;
  for (std::size_t i = 0; i < summary_buckets; ++i) {
    if (s.histogram[i] == 0) continue;
    first = std::min(first, i);
    last = i;
    most = std::max(most, s.histogram[i]);
  }
  if (most == 0) return {};
  fmt::memory_buffer out;
  fmt::format_to(std::back_inserter(out), "@{} (ns):\n", s.name);
  for (std::size_t i = first; i <= last; ++i) {
    const auto width = static_cast<std::size_t>(s.histogram[i] * bar_width / most);
    fmt::format_to(std::back_inserter(out), "{:<16}{:>8} |{:<52}|\n", bucket_label(i), s.histogram[i],
                   std::string(width, '@'));
  }
  return fmt::to_string(out);
}

std::string format_histograms(const summary_report& s) {
  std::string out;
  for (const auto* row : table_order(s)) {
    auto text = format_histogram(*row);
    if (text.empty()) continue;
    out += text;
    out += '\n';
  }
  return out;
}

}  // namespace ebpfpub
