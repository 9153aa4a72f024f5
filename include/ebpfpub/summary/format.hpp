#pragma once
/// \file
/// Summary mode's text: a table like `strace -c` (with p50 and p99 from the histogram)
/// and the histograms as bars like bpftrace's `hist()`.

#include <string>

#include <ebpfpub/summary/summary.hpp>

namespace ebpfpub {

/// The `strace -c` table, one line per syscall that was called, most time first (then
/// most calls, then name), and a total line:
///
///     % time     seconds  usecs/call   p50 usecs   p99 usecs     calls    errors syscall
///     ------ ----------- ----------- ----------- ----------- --------- --------- ----------------
///      99.83    0.060337       20112       20112       20112         3           nanosleep
///
/// Then, when any call failed, its errors by errno name (`openat: ENOENT 5, EACCES 2`).
std::string format_summary_table(const summary_report& s);

/// One syscall's latency histogram as bpftrace prints `hist()`: a line per bucket from
/// the lowest to the highest that holds a call, bars scaled to the largest (52 `@`):
///
///     @nanosleep (ns):
///     [16M, 32M)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
///
/// Empty when no call was timed.
std::string format_histogram(const syscall_summary& s);

/// format_histogram of every syscall with a timed call, in the table's order, a blank
/// line after each.
std::string format_histograms(const summary_report& s);

/// bpftrace's bucket label: "[0]", "[1]", "[2, 4)", "[1K, 2K)", "[16M, 32M)".
std::string bucket_label(std::size_t bucket);

}  // namespace ebpfpub
