// The per-process, per-syscall rate limit: a flooding process is held to its rate while a
// slow, steady one loses nothing, and every dropped call is counted by process.
#include <catch2/catch.hpp>

#include <regex>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"
#include "support/process.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;
using steady = std::chrono::steady_clock;

namespace {

// What a child reports back through memory shared across its fork.
struct child_figures {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::int64_t> nanoseconds{0};
};

struct shared_figures {
  child_figures* at = nullptr;
  shared_figures() {
    void* p = ::mmap(nullptr, sizeof(child_figures), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    at = new (p) child_figures;
  }
  ~shared_figures() { ::munmap(at, sizeof(child_figures)); }
};

// getppid as fast as it can for `duration`, counting its calls and timing them.
int flood(child_figures& f, std::chrono::milliseconds duration) {
  const auto start = steady::now();
  std::uint64_t n = 0;
  while (steady::now() - start < duration) {
    for (int i = 0; i < 64; ++i) ::syscall(SYS_getppid);
    n += 64;
  }
  f.nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - start).count();
  f.calls = n;
  return 0;
}

// `count` getppid calls, one every `gap`.
int steady_calls(child_figures& f, int count, std::chrono::microseconds gap) {
  for (int i = 0; i < count; ++i) {
    ::syscall(SYS_getppid);
    f.calls.fetch_add(1);
    ::usleep(static_cast<useconds_t>(gap.count()));
  }
  return 0;
}

struct traced_run {
  std::map<std::uint32_t, std::uint64_t> events_by_process;
  ebpfpub::statistics stats;
};

// Traces getppid of `children` only (they create no processes), polling while they run.
traced_run trace_children(ebpfpub::filter_options filter, std::vector<child_process*> children) {
  ebpfpub::tracer_options options;
  for (auto* c : children) filter.process_ids.push_back(static_cast<std::uint32_t>(c->pid()));
  options.filter = filter;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  traced_run run;
  REQUIRE(tracer->trace<sys::getppid>([&](const auto& e) { ++run.events_by_process[e.header.process_id]; }));
  REQUIRE(tracer->start());
  for (auto* c : children) c->go();
  // Poll while the children run, so the ring never fills; then drain it.
  std::vector<int> statuses;
  for (auto* c : children) {
    for (;;) {
      siginfo_t info{};
      // WNOWAIT: leaves the child to wait() below.
      if (::waitid(P_PID, static_cast<id_t>(c->pid()), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
          info.si_pid != 0)
        break;
      REQUIRE(tracer->poll(std::chrono::milliseconds(10)));
    }
    statuses.push_back(c->wait());
  }
  for (int i = 0; i < 5; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(20)));
  tracer->stop();
  for (auto s : statuses) CHECK(s == 0);
  run.stats = tracer->stats();
  return run;
}

}  // namespace

TEST_CASE("a flood of one process is held to its rate while every call of a steady one arrives",
          "[rate_limit]") {
  shared_figures flooder_figures, steady_figures;
  child_process flooder([&] { return flood(*flooder_figures.at, std::chrono::milliseconds(1000)); });
  child_process steady_child([&] { return steady_calls(*steady_figures.at, 200, std::chrono::microseconds(2000)); });
  ebpfpub::filter_options filter;
  filter.rate_limit_per_second = 1000;
  filter.rate_limit_burst = 100;
  auto run = trace_children(filter, {&flooder, &steady_child});

  const auto made = flooder_figures.at->calls.load();
  const auto seconds = static_cast<double>(flooder_figures.at->nanoseconds.load()) / 1e9;
  const auto flooder_pid = static_cast<std::uint32_t>(flooder.pid());
  const auto steady_pid = static_cast<std::uint32_t>(steady_child.pid());
  const auto received = run.events_by_process[flooder_pid];
  REQUIRE(run.stats.by_syscall.size() == 1);
  const auto& getppid = run.stats.by_syscall[0];
  REQUIRE(run.stats.rate_limited_processes.size() == 1);
  const auto& limited = run.stats.rate_limited_processes[0];
  fmt::print("flood: made {} getppid calls in {:.3f} s, received {}, rate-limited {}; steady: made {}, "
             "received {}\n", made, seconds, received, limited.count, steady_figures.at->calls.load(),
             run.events_by_process[steady_pid]);

  // The steady process (500 calls/s, under the limit) loses nothing.
  CHECK(steady_figures.at->calls.load() == 200);
  CHECK(run.events_by_process[steady_pid] == 200);
  // Every call of the flooder is either received or counted as rate-limited.
  CHECK(limited.process_id == flooder_pid);
  CHECK(limited.syscall == "getppid");
  CHECK(received + limited.count == made);
  CHECK(getppid.rate_limited == limited.count);
  CHECK(run.stats.rate_limited() == limited.count);
  CHECK(getppid.lost() == 0);
  // A dropped call's exit is not an exit without its enter.
  CHECK(getppid.unmatched_exits == 0);
  CHECK(getppid.events == received + 200);
  // At most the burst plus the rate over the flood's time; nearly that much, as it never
  // stops calling.
  CHECK(made > 10 * received);
  CHECK(received <= 100 + static_cast<std::uint64_t>(std::ceil(1000 * seconds)));
  CHECK(received >= 100 + static_cast<std::uint64_t>(900 * seconds));
}

TEST_CASE("without a rate limit every call of a burst arrives and none is counted as rate-limited",
          "[rate_limit]") {
  // 5000 getppid records fit the default ring whole, so nothing may be lost.
  shared_figures burst_figures, steady_figures;
  child_process burst([&] {
    for (int i = 0; i < 5000; ++i) ::syscall(SYS_getppid);
    burst_figures.at->calls = 5000;
    return 0;
  });
  child_process steady_child([&] { return steady_calls(*steady_figures.at, 200, std::chrono::microseconds(2000)); });
  auto run = trace_children({}, {&burst, &steady_child});
  const auto& getppid = run.stats.by_syscall.at(0);
  CHECK(run.events_by_process[static_cast<std::uint32_t>(burst.pid())] == 5000);
  CHECK(run.events_by_process[static_cast<std::uint32_t>(steady_child.pid())] == 200);
  CHECK(getppid.rate_limited == 0);
  CHECK(getppid.lost() == 0);
  CHECK(run.stats.rate_limited_processes.empty());
}

TEST_CASE("the rate limit's check is in the programs only when a limit is set", "[rate_limit]") {
  auto ir_with = [](std::uint32_t rate) {
    ebpfpub::tracer_options options;
    options.keep_ir = true;
    options.filter.rate_limit_per_second = rate;
    auto tracer = ebpfpub::tracer::create(options);
    REQUIRE(tracer);
    REQUIRE(tracer->trace<sys::getppid>([](const auto&) {}));
    REQUIRE(tracer->start());
    auto ir = tracer->ir();
    tracer->stop();
    return ir;
  };
  const auto without = ir_with(0);
  const auto with = ir_with(50);
  REQUIRE_FALSE(without.empty());
  CHECK(without.find("rate_limited") == std::string::npos);
  CHECK(with.find("rate_limited:") != std::string::npos);
  CHECK(with.find("rate_limited_exit:") != std::string::npos);
}

TEST_CASE("a burst without a rate is refused, naming both fields", "[rate_limit]") {
  ebpfpub::tracer_options options;
  options.filter.rate_limit_burst = 100;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace<sys::getppid>([](const auto&) {}));
  auto started = tracer->start();
  REQUIRE_FALSE(started);
  CHECK(std::string(started.error().message()) ==
        "filter.rate_limit_burst is 100 but filter.rate_limit_per_second is 0 (no limit); set a "
        "rate, or leave the burst at 0");
}

TEST_CASE("ebpftracer --rate-limit drops a burst over the limit and names the process in its summary",
          "[rate_limit]") {
  // 500 calls at once against a burst of 5 (and 10/s): what the file holds and what the
  // summary counts as rate-limited add up to 500, and the summary names the child.
  ebpfpub::test::scratch_dir dir;
  const auto output = (dir.path / "out.txt").string();
  child_process child([] {
    for (int i = 0; i < 500; ++i) ::syscall(SYS_getppid);
    return 0;
  });
  const auto pid = std::to_string(child.pid());
  ebpfpub::test::program_run tracer({EBPFTRACER_PATH, "-t", "getppid", "-P", pid, "--rate-limit", "10/s",
                                     "--rate-burst", "5", "--duration", "1", "-o", output});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  child.go();
  CHECK(child.wait() == 0);
  CHECK(tracer.finish() == 0);
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  std::uint64_t received = 0;
  for (auto at = text.str().find("syscall: getppid"); at != std::string::npos;
       at = text.str().find("syscall: getppid", at + 1))
    ++received;
  // The burst, plus what 10/s refills while the loop runs (nothing, unless it is preempted).
  CHECK(received >= 5);
  CHECK(received <= 15);
  const auto limited = 500 - received;
  CHECK(tracer.err().find(fmt::format("  getppid: {} events, 0 lost, {} rate-limited\n", received, limited)) !=
        std::string::npos);
  CHECK(tracer.err().find(fmt::format("Rate-limited: {} calls; top processes: {} getppid ({})\n", limited,
                                      pid, limited)) != std::string::npos);
  // The output says so too, in order among the events: gap lines that add up to them.
  std::uint64_t gaps = 0;
  const std::regex gap("gap: ([0-9]+) calls of getppid not recorded \\(rate_limited\\)\n");
  const auto all = text.str();
  for (std::sregex_iterator it(all.begin(), all.end(), gap), end; it != end; ++it) gaps += std::stoull((*it)[1]);
  CHECK(gaps == limited);
}

TEST_CASE("ebpftracer refuses a rate that is not N/s", "[rate_limit]") {
  ebpfpub::test::program_run tracer({EBPFTRACER_PATH, "-t", "getppid", "--rate-limit", "fast"});
  CHECK(tracer.finish() != 0);
  CHECK(tracer.err().find("expected N/s with N from 1 to 1000000000") != std::string::npos);
}
