// Durations measured in the kernel (enter to exit), and the count of the tracing
// process's own calls that exclude_self drops.
#include <catch2/catch.hpp>

#include <ctime>

#include <sys/syscall.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;

namespace {

constexpr std::uint64_t ms = 1'000'000;  // ns

// Polls until `done()` or 10 s have passed.
void poll_until(ebpfpub::tracer& tracer, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline)
    REQUIRE(tracer.poll(std::chrono::milliseconds(50)));
}

}  // namespace

TEST_CASE("a 20 ms nanosleep lasts at least 20 ms, a getppid a little, and exit_group has none") {
  child_process child([] {
    if (::syscall(SYS_getppid) <= 0) return 10;
    const timespec twenty_ms{0, 20 * 1'000'000};
    if (::syscall(SYS_nanosleep, &twenty_ms, nullptr) != 0) return 11;
    return 0;
  });
  ebpfpub::tracer_options options;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<ebpfpub::event_header> sleeps, getppids, exits;
  REQUIRE(tracer->trace<sys::nanosleep>([&](const auto& e) { sleeps.push_back(e.header); }));
  REQUIRE(tracer->trace<sys::getppid>([&](const auto& e) { getppids.push_back(e.header); }));
  REQUIRE(tracer->trace<sys::exit_group>([&](const auto& e) { exits.push_back(e.header); }));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  poll_until(*tracer, [&] { return !exits.empty(); });

  REQUIRE(sleeps.size() == 1);
  CHECK(sleeps[0].exit_code == 0);
  REQUIRE(getppids.size() == 1);
  fmt::print("durations: nanosleep(20 ms) {} ns, getppid {} ns\n", sleeps[0].duration_ns,
             getppids[0].duration_ns);
  // The kernel sleeps at least the time asked; a loaded machine (2 cores shared with
  // builds) may wake the child late, hence the generous upper bound.
  CHECK(sleeps[0].duration_ns >= 20 * ms);
  CHECK(sleeps[0].duration_ns < 20 * ms + 500 * ms);
  CHECK(getppids[0].exit_code == ::getpid());
  CHECK(getppids[0].duration_ns > 0);
  CHECK(getppids[0].duration_ns < 10 * ms);
  // The sleep began after getppid ended: the timestamps are the enters.
  CHECK(sleeps[0].timestamp >= getppids[0].timestamp + getppids[0].duration_ns);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].sent_at_enter);
  CHECK(exits[0].duration_ns == 0);
  // The library's texts carry it: JSON always, the text when asked (ebpftracer does).
  const ebpfpub::dynamic_event sleep{sleeps[0], {}};
  CHECK(ebpfpub::to_json(sleep).find(fmt::format("\"duration_ns\":{},", sleeps[0].duration_ns)) !=
        std::string::npos);
  CHECK(fmt::format("{:d}", sleeps[0]).ends_with(fmt::format(" duration_ns: {}", sleeps[0].duration_ns)));
}

TEST_CASE("exclude_self drops the tracer's own getpid calls and counts them, not as lost") {
  ebpfpub::tracer_options options;
  REQUIRE(options.exclude_self);  // the default
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  const auto self = static_cast<std::uint32_t>(::getpid());
  child_process child([] {
    for (int i = 0; i < 5; ++i)
      if (::syscall(SYS_getpid) <= 0) return 10;
    return 0;
  });
  const auto child_pid = static_cast<std::uint32_t>(child.pid());
  std::size_t from_child = 0, from_self = 0;
  REQUIRE(tracer->trace<sys::getpid>([&](const auto& e) {
    // Other processes on the machine may call getpid too: count only ours.
    if (e.header.process_id == child_pid) ++from_child;
    if (e.header.process_id == self) ++from_self;
  }));
  REQUIRE(tracer->start());
  for (int i = 0; i < 10; ++i) REQUIRE(::syscall(SYS_getpid) == self);
  child.go();
  REQUIRE(child.wait() == 0);
  poll_until(*tracer, [&] { return from_child >= 5; });
  REQUIRE(tracer->poll(std::chrono::milliseconds(50)));

  CHECK(from_child == 5);
  CHECK(from_self == 0);
  const auto stats = tracer->stats();
  CHECK(stats.excluded_self >= 10);
  CHECK(stats.lost() == 0);
}

TEST_CASE("without exclude_self the tracer's own getpid calls arrive and none are counted") {
  ebpfpub::tracer_options options;
  options.exclude_self = false;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  const auto self = static_cast<std::uint32_t>(::getpid());
  std::size_t from_self = 0;
  REQUIRE(tracer->trace<sys::getpid>([&](const auto& e) {
    if (e.header.process_id == self) ++from_self;
  }));
  REQUIRE(tracer->start());
  for (int i = 0; i < 10; ++i) REQUIRE(::syscall(SYS_getpid) == self);
  poll_until(*tracer, [&] { return from_self >= 10; });
  CHECK(from_self == 10);
  CHECK(tracer->stats().excluded_self == 0);
}
