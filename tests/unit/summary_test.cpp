// Summary mode's arithmetic and text: histogram buckets, percentiles, the strace -c
// table and bpftrace-style bars, to the character.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <ebpfpub/summary/format.hpp>
#include <ebpfpub/summary/summary.hpp>

using ebpfpub::syscall_summary;

namespace {

// 3 nanosleeps of about 20 ms: all in [2^24, 2^25) ns.
syscall_summary nanosleeps() {
  syscall_summary s{.name = "nanosleep", .calls = 3};
  s.total_ns = 60'300'000;
  s.min_ns = 20'050'000;
  s.max_ns = 20'150'000;
  s.histogram[25] = 3;
  return s;
}

// 10 openat, 3 failed: 8 in [4096, 8192) ns, 2 in [16384, 32768).
syscall_summary openats() {
  syscall_summary s{.name = "openat", .calls = 10, .errors = 3};
  s.errors_by_errno = {{2, 2}, {13, 1}};
  s.total_ns = 100'000;
  s.min_ns = 5'000;
  s.max_ns = 20'000;
  s.histogram[13] = 8;
  s.histogram[15] = 2;
  return s;
}

}  // namespace

TEST_CASE("a duration's bucket is its bit width: 0, 1, [2, 4), ... up to the last, which takes the rest") {
  CHECK(ebpfpub::bucket_of(0) == 0);
  CHECK(ebpfpub::bucket_of(1) == 1);
  CHECK(ebpfpub::bucket_of(2) == 2);
  CHECK(ebpfpub::bucket_of(3) == 2);
  CHECK(ebpfpub::bucket_of(4) == 3);
  CHECK(ebpfpub::bucket_of(20'000'000) == 25);
  CHECK(ebpfpub::bucket_of(std::uint64_t{1} << 62) == 63);
  CHECK(ebpfpub::bucket_of(std::numeric_limits<std::uint64_t>::max()) == 63);
  CHECK(ebpfpub::bucket_low(25) == 16'777'216);
  CHECK(ebpfpub::bucket_high(25) == 33'554'432);
  CHECK(ebpfpub::bucket_low(0) == 0);
  CHECK(ebpfpub::bucket_high(0) == 1);
  CHECK(ebpfpub::bucket_high(63) == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("a percentile lies in the bucket holding its rank, linearly, and inside [min, max]") {
  const auto o = openats();
  // Rank 5 of 10 is the 5th of 8 in [4096, 8192): 4096 + 4096 * 5/8.
  CHECK(o.percentile(50) == 6656);
  // Rank 10 is the last of [16384, 32768): 32768, held to max_ns.
  CHECK(o.percentile(99) == 20'000);
  // Rank 1 of 10: 4096 + 4096/8 = 4608, below min_ns: held to it.
  CHECK(o.percentile(0) == 5'000);
  // 20 ms sleeps: the estimate 16777216 + 2/3 of the bucket is above max_ns.
  CHECK(nanosleeps().percentile(50) == 20'150'000);
  CHECK(nanosleeps().timed_calls() == 3);
  CHECK(syscall_summary{.name = "exit_group", .calls = 1}.percentile(50) == 0);
}

TEST_CASE("bucket labels are bpftrace's: [0], [1], [2, 4), [1K, 2K), [16M, 32M)") {
  CHECK(ebpfpub::bucket_label(0) == "[0]");
  CHECK(ebpfpub::bucket_label(1) == "[1]");
  CHECK(ebpfpub::bucket_label(2) == "[2, 4)");
  CHECK(ebpfpub::bucket_label(10) == "[512, 1K)");
  CHECK(ebpfpub::bucket_label(11) == "[1K, 2K)");
  CHECK(ebpfpub::bucket_label(25) == "[16M, 32M)");
  CHECK(ebpfpub::bucket_label(31) == "[1G, 2G)");
  CHECK(ebpfpub::bucket_label(63) == "[4E, ...)");
}

TEST_CASE("the table is strace -c's with p50 and p99, most time first, a total line and errors by errno") {
  ebpfpub::summary_report s;
  s.by_syscall = {openats(), syscall_summary{.name = "exit_group", .calls = 1}, nanosleeps(),
                  syscall_summary{.name = "read"}};  // never called: no line
  CHECK(ebpfpub::format_summary_table(s) ==
        "% time     seconds  usecs/call   p50 usecs   p99 usecs     calls    errors syscall\n"
        "------ ----------- ----------- ----------- ----------- --------- --------- ----------------\n"
        " 99.83    0.060300       20100       20150       20150         3           nanosleep\n"
        "  0.17    0.000100          10           6          20        10         3 openat\n"
        "  0.00    0.000000           0           0           0         1           exit_group\n"
        "------ ----------- ----------- ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.060400        4646           7       20150        14         3 total\n"
        "\n"
        "errors by errno:\n"
        "  openat: ENOENT 2, EACCES 1\n");
}

TEST_CASE("errors the errno map had no room for are said, and an unnamed errno shows its number") {
  ebpfpub::summary_report s;
  auto o = openats();
  o.errors_by_errno = {{2, 1}, {4000, 1}};
  o.errors_unattributed = 1;
  s.by_syscall = {o};
  const auto text = ebpfpub::format_summary_table(s);
  CHECK(text.ends_with("errors by errno:\n  openat: ENOENT 1, errno 4000 1, 1 with no room in the errno map\n"));
}

TEST_CASE("a histogram prints bpftrace's bars from the lowest to the highest bucket used, zeros between") {
  CHECK(ebpfpub::format_histogram(openats()) ==
        "@openat (ns):\n"
        "[4K, 8K)               8 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[8K, 16K)              0 |                                                    |\n"
        "[16K, 32K)             2 |@@@@@@@@@@@@@                                       |\n");
  CHECK(ebpfpub::format_histogram(syscall_summary{.name = "exit_group", .calls = 1}).empty());
  ebpfpub::summary_report s;
  s.by_syscall = {openats(), syscall_summary{.name = "exit_group", .calls = 1}, nanosleeps()};
  CHECK(ebpfpub::format_histograms(s) ==
        "@nanosleep (ns):\n"
        "[16M, 32M)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n" +
            ebpfpub::format_histogram(openats()) + "\n");
}
