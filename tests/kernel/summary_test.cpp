// Summary mode: the kernel counts a child's known calls (calls, errors by errno,
// durations, histogram) and sends no event; every syscall's summary programs load.
#include <catch2/catch.hpp>

#include <cerrno>
#include <ctime>
#include <set>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/record.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "support/child.hpp"

using ebpfpub::test::child_process;

namespace {

constexpr std::uint64_t ms = 1'000'000;  // ns

// 5 openat that succeed (each closed), 3 of a random missing path (ENOENT), 2 through a
// file as if it were a directory (ENOTDIR), then 3 nanosleeps of 20 ms.
int known_calls(const std::string& missing) {
  for (int i = 0; i < 5; ++i) {
    const long fd = ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY, 0);
    if (fd < 0) return 10;
    ::syscall(SYS_close, fd);
  }
  for (int i = 0; i < 3; ++i)
    if (::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY, 0) != -1 || errno != ENOENT) return 11;
  for (int i = 0; i < 2; ++i)
    if (::syscall(SYS_openat, AT_FDCWD, "/dev/null/x", O_RDONLY, 0) != -1 || errno != ENOTDIR) return 12;
  const timespec twenty_ms{0, 20 * 1'000'000};
  for (int i = 0; i < 3; ++i)
    if (::syscall(SYS_nanosleep, &twenty_ms, nullptr) != 0) return 13;
  return 0;
}

const ebpfpub::syscall_summary& row(const ebpfpub::summary_report& s, std::string_view name) {
  for (const auto& r : s.by_syscall)
    if (r.name == name) return r;
  FAIL("no summary for " << name);
  throw;
}

ebpfpub::summary_report trace_known_calls(ebpfpub::tracer_options options) {
  const auto missing = "/nonexistent-" + ebpfpub::test::random_name();
  child_process child([&] { return known_calls(missing); });
  options.summary = true;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::size_t events = 0;
  for (const char* name : {"openat", "close", "nanosleep", "exit_group"})
    REQUIRE(tracer->trace(name, [&](const ebpfpub::dynamic_event&) { ++events; }));
  const auto before = tracer->summary();
  REQUIRE(before);
  CHECK(row(*before, "openat").calls == 0);
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  // Counted in the syscall itself: once the child is reaped, every count is there.
  REQUIRE(tracer->poll(std::chrono::milliseconds(10)));
  CHECK(events == 0);  // no record is ever sent
  const auto stats = tracer->stats();
  CHECK(stats.events() == 0);
  CHECK(stats.lost() == 0);
  tracer->stop();
  auto counted = tracer->summary();  // still readable after stop()
  REQUIRE(counted);
  return *counted;
}

void check_known_calls(const ebpfpub::summary_report& s) {
  const auto& openat = row(s, "openat");
  CHECK(openat.calls == 10);
  CHECK(openat.errors == 5);
  CHECK(openat.errors_by_errno == std::map<int, std::uint64_t>{{ENOENT, 3}, {ENOTDIR, 2}});
  CHECK(openat.errors_unattributed == 0);
  CHECK(openat.timed_calls() == 10);
  CHECK(openat.min_ns > 0);
  CHECK(openat.min_ns <= openat.max_ns);
  CHECK(openat.total_ns >= 10 * openat.min_ns);
  CHECK(openat.total_ns <= 10 * openat.max_ns);

  const auto& close = row(s, "close");
  CHECK(close.calls == 5);
  CHECK(close.errors == 0);
  CHECK(close.errors_by_errno.empty());

  const auto& sleep = row(s, "nanosleep");
  CHECK(sleep.calls == 3);
  CHECK(sleep.errors == 0);
  fmt::print("nanosleep(20 ms) x3: min {} ns, max {} ns, p50 {} ns\n", sleep.min_ns, sleep.max_ns,
             sleep.percentile(50));
  // The kernel sleeps at least the time asked; a loaded machine may wake the child late.
  CHECK(sleep.min_ns >= 20 * ms);
  CHECK(sleep.max_ns < 20 * ms + 500 * ms);
  CHECK(sleep.total_ns >= 60 * ms);
  // 20 ms is in [2^24, 2^25) ns = [16.8 ms, 33.6 ms): all three sleeps, unless one woke
  // more than 13 ms late.
  CHECK(sleep.histogram[25] == 3);
  CHECK(sleep.timed_calls() == 3);
  const auto p50 = sleep.percentile(50);
  CHECK(p50 >= sleep.min_ns);
  CHECK(p50 <= sleep.max_ns);
  CHECK(ebpfpub::bucket_of(p50) == 25);

  const auto& exit = row(s, "exit_group");
  CHECK(exit.calls == 1);
  CHECK(exit.timed_calls() == 0);
  CHECK(exit.total_ns == 0);
}

}  // namespace

TEST_CASE("summary mode counts a child's calls, errors by errno and durations exactly", "[summary]") {
  check_known_calls(trace_known_calls({}));
}

TEST_CASE("summary mode counts the same with the hash in-flight map", "[summary]") {
  ebpfpub::tracer_options options;
  options.resources.event_map = ebpfpub::event_map_kind::hash;
  check_known_calls(trace_known_calls(options));
}

TEST_CASE("summary mode keeps the result filter: only the failed calls are counted", "[summary]") {
  ebpfpub::tracer_options options;
  options.filter.result = ebpfpub::result_filter::failed;
  const auto s = trace_known_calls(options);
  const auto& openat = row(s, "openat");
  CHECK(openat.calls == 5);
  CHECK(openat.errors == 5);
  CHECK(openat.errors_by_errno == std::map<int, std::uint64_t>{{ENOENT, 3}, {ENOTDIR, 2}});
  CHECK(openat.timed_calls() == 5);
  CHECK(row(s, "close").calls == 0);
  CHECK(row(s, "nanosleep").calls == 0);
  CHECK(row(s, "exit_group").calls == 0);  // no result: never passes a result filter
}

TEST_CASE("summary mode keeps the rate limit: calls over it are dropped and counted, not summed", "[summary]") {
  child_process child([] {
    for (int i = 0; i < 10; ++i)
      if (::syscall(SYS_getppid) <= 0) return 10;
    return 0;
  });
  ebpfpub::tracer_options options;
  options.summary = true;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  options.filter.rate_limit_per_second = 1;
  options.filter.rate_limit_burst = 2;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace("getppid", [](const ebpfpub::dynamic_event&) {}));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  const auto s = tracer->summary();
  REQUIRE(s);
  // The burst lets 2 through at once; 10 calls take far less than the second a third needs.
  CHECK(row(*s, "getppid").calls == 2);
  CHECK(row(*s, "getppid").errors == 0);
  const auto stats = tracer->stats();
  CHECK(stats.rate_limited() == 8);
  CHECK(stats.lost() == 0);
}

TEST_CASE("summary() outside summary mode names the option to set", "[summary]") {
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  REQUIRE(tracer->trace("getppid", [](const ebpfpub::dynamic_event&) {}));
  const auto s = tracer->summary();
  REQUIRE(!s);
  CHECK(std::string(s.error().what()).find("set tracer_options::summary") != std::string::npos);
}

TEST_CASE("memory() counts the summary maps, planned then measured", "[summary]") {
  ebpfpub::tracer_options options;
  options.summary = true;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace("openat", [](const ebpfpub::dynamic_event&) {}));
  REQUIRE(tracer->trace("read", [](const ebpfpub::dynamic_event&) {}));
  const auto planned = tracer->memory();
  const std::uint64_t cpus = ebpfpub::detail::possible_cpus();
  // Two syscalls' counters (560 bytes each per CPU) and 4096 {syscall, errno} pairs.
  CHECK(planned.summary_bytes == 2 * 560 * cpus + 4096 * (8 + 8 * cpus));
  // The entry holds the header only: no capture storage in summary mode.
  CHECK(planned.buffer_storage_bytes == 0);
  REQUIRE(tracer->prepare());
  const auto measured = tracer->memory();
  CHECK(measured.measured);
  CHECK(measured.summary_bytes >= planned.summary_bytes);
  CHECK(measured.total() >= measured.summary_bytes + measured.output_bytes);
}

TEST_CASE("the summary programs of every syscall load and attach together, and count a child's getppid", "[summary][every_syscall]") {
  ebpfpub::test::child_process child([] { return ::getppid() > 0 ? 0 : 1; });
  ebpfpub::tracer_options options;
  options.summary = true;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  auto names = tracer->available_syscalls();
  REQUIRE(names);
  for (const auto& name : *names) REQUIRE(tracer->trace(name, [](const ebpfpub::dynamic_event&) {}));
  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(started->programs == 2 * names->size() - 2 + 2);  // exit, exit_group: enter only; fork/exit tracking
  child.go();
  CHECK(child.wait() == 0);
  const auto s = tracer->summary();
  REQUIRE(s);
  CHECK(row(*s, "getppid").calls == 1);
  CHECK(row(*s, "exit_group").calls == 1);
  CHECK(tracer->stats().lost() == 0);
}

TEST_CASE("summary programs read no user memory and send nothing: maps, time and ids only", "[summary]") {
  // What makes summary mode cheap: no capture (probe reads), no output (ring or perf).
  const std::set<int> allowed{BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_ktime_get_ns,
                              BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
                              BPF_FUNC_get_current_comm, BPF_FUNC_task_storage_get,
                              BPF_FUNC_get_current_task_btf};
  auto fs = ebpfpub::tracefs::open();
  REQUIRE(fs);
  auto names = fs->syscall_names();
  REQUIRE(names);
  std::vector<ebpfpub::plan> plans;
  for (const auto& name : *names) {
    auto d = ebpfpub::describe_syscall(*fs, name);
    REQUIRE(d);
    plans.push_back(ebpfpub::make_generic_plan(*d, {}));
  }
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11, .summary_fd = 15, .errno_fd = 16};
  for (std::size_t i = 0; i < plans.size(); ++i) {
    maps.storage_fd.push_back(12);
    maps.storage_size.push_back(ebpfpub::record::header_size);
  }
  ebpfpub::detail::codegen_options options;
  options.summary = true;
  options.filter.user_ids = {1};
  auto code = ebpfpub::detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  CHECK(code->programs.size() == 2 * plans.size());  // generic plans: exit_group too has an exit program
  std::set<int> called;
  for (const auto& program : code->programs)
    for (const auto& insn : program.instructions)
      if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0) called.insert(insn.imm);
  for (int helper : called) CHECK(allowed.contains(helper));
  CHECK(called.contains(BPF_FUNC_map_update_elem));  // the errno map's inserts
}

TEST_CASE("summary mode keeps the command filter and never counts the tracer's own calls", "[summary]") {
  const auto name = ebpfpub::test::random_name(15);
  child_process child([&] {
    if (::prctl(PR_SET_NAME, name.c_str()) != 0) return 10;
    for (int i = 0; i < 5; ++i)
      if (::syscall(SYS_getpid) <= 0) return 11;
    return 0;
  });
  ebpfpub::tracer_options options;
  options.summary = true;
  options.filter.commands = {name};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace("getpid", [](const ebpfpub::dynamic_event&) {}));
  REQUIRE(tracer->start());
  // This thread takes the same name: it passes the command filter, and exclude_self
  // still drops its calls.
  char own[16] = {};
  REQUIRE(::prctl(PR_GET_NAME, own) == 0);
  REQUIRE(::prctl(PR_SET_NAME, name.c_str()) == 0);
  for (int i = 0; i < 10; ++i) ::syscall(SYS_getpid);
  REQUIRE(::prctl(PR_SET_NAME, own) == 0);
  child.go();
  REQUIRE(child.wait() == 0);
  const auto s = tracer->summary();
  REQUIRE(s);
  CHECK(row(*s, "getpid").calls == 5);
  CHECK(tracer->stats().excluded_self >= 10);
}
