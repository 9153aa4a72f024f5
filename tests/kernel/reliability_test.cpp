// Nothing lost silently: every call a workload makes is received or counted lost.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <sys/syscall.h>
#include <sys/wait.h>

#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;

namespace {

struct accounting {
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t unattributed = 0;
  std::uint64_t perf_reported = 0;
};

// Traces getppid of the child only; the reader does not poll until the child is done, so
// a small output buffer overflows.
accounting overflow(ebpfpub::transport transport, std::uint32_t pages_log2, long calls, int threads) {
  child_process child([&] {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (long i = 0; i < calls; ++i) ::syscall(SYS_getppid);
      });
    for (auto& w : workers) w.join();
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.output = transport;
  options.resources.output_pages_log2 = pages_log2;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  accounting a;
  REQUIRE(tracer->trace<sys::getppid>([&](const auto&) { ++a.received; }));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 10; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(20)));
  const auto stats = tracer->stats();
  REQUIRE(stats.by_syscall.size() == 1);
  CHECK(stats.by_syscall[0].events == a.received);
  a.lost = stats.by_syscall[0].lost();
  a.unattributed = stats.lost_unattributed;
  a.perf_reported = stats.perf_reported_lost;
  return a;
}

}  // namespace

TEST_CASE("under a forced overflow, received plus counted lost is exactly what was made") {
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  const int threads = GENERATE(1, 2);
  const long calls = 20000;
  const auto a = overflow(transport, 0, calls, threads);
  INFO((transport == ebpfpub::transport::ring ? "ring" : "perf") << ", " << threads << " threads: received "
                                                                   << a.received << ", lost " << a.lost);
  CHECK(a.lost > 0);  // the overflow happened
  CHECK(a.received > 0);
  CHECK(a.received + a.lost == static_cast<std::uint64_t>(calls * threads));
  CHECK(a.unattributed == 0);
}
