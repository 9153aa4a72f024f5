// A call a filter rejects at enter on numbers (header ids, arguments) is decided before the
// enter program writes anything but, where its exit cannot test it again, a mark in its
// entry: exactly these calls are counted filtered, their exits end quietly (never an exit
// without its enter), and the rate limit, which comes after that test, takes no token for
// them. In both attach modes, whatever EBPFPUB_TEST_ATTACH says.
#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/filtered_run.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::run_filtered;

namespace {

ebpfpub::tracer_options in_mode(ebpfpub::attach_mode mode) {
  ebpfpub::tracer_options options;
  options.attach = mode;
  return options;
}

const char* name_of(ebpfpub::attach_mode mode) {
  return mode == ebpfpub::attach_mode::dispatch ? "dispatch" : "tracepoints";
}

}  // namespace

TEST_CASE("calls rejected at enter on an argument are counted filtered and their exits are released") {
  const auto mode = GENERATE(ebpfpub::attach_mode::tracepoints, ebpfpub::attach_mode::dispatch);
  INFO(name_of(mode));
  // 300 rejected (who == -1) and 30 accepted (who == 0..29), interleaved: one in eleven.
  constexpr int accepted = 30, rejected = 300;
  const auto run = run_filtered<sys::getpriority>(
      {"getpriority.who >= 0"}, accepted + rejected,
      [] {
        for (int i = 0; i < accepted; ++i) {
          for (int k = 0; k < rejected / accepted; ++k) ::syscall(SYS_getpriority, 99, -1);
          ::syscall(SYS_getpriority, 99, i);
        }
        return 0;
      },
      in_mode(mode));
  std::vector<int> seen, wanted;
  for (const auto& e : run.events) seen.push_back(e.args.who);
  for (int i = 0; i < accepted; ++i) wanted.push_back(i);
  CHECK(seen == wanted);
  for (const auto& e : run.events) CHECK(e.header.exit_code == -EINVAL);
  CHECK(run.stats.events == accepted);
  CHECK(run.stats.filtered == rejected);
  CHECK(run.stats.unmatched_exits == 0);
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("calls rejected at enter on the header's ids are counted filtered and their exits are released") {
  const auto mode = GENERATE(ebpfpub::attach_mode::tracepoints, ebpfpub::attach_mode::dispatch);
  INFO(name_of(mode));
  // The child runs as root (the tests do): uid != 0 rejects all 200 of its calls; the
  // child is not init, so the pid and tid tests pass and the argument decides.
  const auto [filter, expected] = GENERATE(table<std::string, std::uint64_t>({
      {"uid != 0", 0},
      {"gid == 0 and getpriority.who == 3", 1},
      {"pid != 1 and tid > 1 and getpriority.who in {1, 2}", 2},
  }));
  INFO(filter);
  const auto run = run_filtered<sys::getpriority>(
      {filter}, 200,
      [] {
        for (int i = 0; i < 200; ++i) ::syscall(SYS_getpriority, 99, i);
        return 0;
      },
      in_mode(mode));
  CHECK(run.stats.events == expected);
  CHECK(run.events.size() == expected);
  CHECK(run.stats.filtered == 200 - expected);
  CHECK(run.stats.unmatched_exits == 0);
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("a call rejected at enter on numbers takes no token from the rate limit") {
  const auto mode = GENERATE(ebpfpub::attach_mode::tracepoints, ebpfpub::attach_mode::dispatch);
  INFO(name_of(mode));
  // A burst of 5 at 1 a second: 100 rejected calls first, then 5 that pass. Had the
  // rejected ones taken tokens, the 5 would be rate-limited.
  auto options = in_mode(mode);
  options.filter.rate_limit_per_second = 1;
  options.filter.rate_limit_burst = 5;
  const auto run = run_filtered<sys::getpriority>(
      {"getpriority.who > 0"}, 105,
      [] {
        for (int i = 0; i < 100; ++i) ::syscall(SYS_getpriority, 99, -1);
        for (int i = 1; i <= 5; ++i) ::syscall(SYS_getpriority, 99, i);
        return 0;
      },
      options);
  CHECK(run.stats.events == 5);
  CHECK(run.stats.filtered == 100);
  CHECK(run.stats.rate_limited == 0);
  CHECK(run.stats.unmatched_exits == 0);
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("a call that changes the uid a filter tests is decided at enter, whatever the uid at exit") {
  const auto mode = GENERATE(ebpfpub::attach_mode::tracepoints, ebpfpub::attach_mode::dispatch);
  INFO(name_of(mode));
  // The child runs as root: its setresuid(1000, 1000, 1000) is made as uid 0 and ends as
  // uid 1000. Tested again at exit, `uid == 0` would drop the call it let through (its
  // entry left in flight, the event lost uncounted) and `uid != 0` would find no entry
  // for the call it rejected (an exit without its enter): setresuid's entry is marked.
  const auto [filter, passes] = GENERATE(table<std::string, bool>({{"uid == 0", true}, {"uid != 0", false}}));
  INFO(filter);
  const auto run = run_filtered<sys::setresuid>(
      {filter}, 1, [] { return ::syscall(SYS_setresuid, 1000, 1000, 1000) == 0 ? 0 : 1; }, in_mode(mode));
  CHECK(run.stats.events == (passes ? 1u : 0u));
  CHECK(run.stats.filtered == (passes ? 0u : 1u));
  REQUIRE(run.events.size() == (passes ? 1u : 0u));
  if (passes) {
    CHECK(run.events[0].args.ruid == 1000);
    CHECK(run.events[0].header.exit_code == 0);
    CHECK(run.events[0].header.user_id == 0);
  }
  CHECK(run.stats.unmatched_exits == 0);
  CHECK(run.stats.lost() == 0);
}
