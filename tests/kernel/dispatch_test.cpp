// The dispatch attach mode: one program pair on raw_syscalls:sys_enter/sys_exit that
// tail-calls the traced syscall's programs by number. The same child, traced in both
// modes, gives the same events; filters and loss counters hold; every syscall loads; a
// failed start leaves nothing; untraced syscalls and 32-bit calls give nothing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <span>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/format/json.hpp>

#include "session/dispatch.hpp"
#include "support/child.hpp"

using ebpfpub::attach_mode;
using ebpfpub::dynamic_event;
using ebpfpub::test::child_process;

namespace {

// The syscalls the scenario makes, and one it does not make but the tracer traces.
const std::vector<std::string> traced{"mkdir", "openat", "write", "pwrite64", "close", "renameat2",
                                      "unlinkat", "rmdir", "getppid", "exit_group", "fchownat"};

// A child (all of whose descriptors above stderr are closed first, so its fd numbers do
// not depend on what the test process holds) that makes a known sequence of calls in `dir`.
int scenario(const std::string& dir) {
  ::syscall(SYS_close_range, 3, ~0U, 0);
  const auto d = dir + "/d", f = d + "/f", g = d + "/g";
  if (::syscall(SYS_mkdir, d.c_str(), 0750) != 0) return 10;
  const long fd = ::syscall(SYS_openat, AT_FDCWD, f.c_str(), O_CREAT | O_WRONLY, 0640);
  if (fd != 3) return 11;
  if (::syscall(SYS_write, fd, "hello", 5) != 5) return 12;
  if (::syscall(SYS_pwrite64, fd, "abc", 3, 100) != 3) return 13;
  ::syscall(SYS_close, fd);
  ::syscall(SYS_openat, AT_FDCWD, (d + "/missing").c_str(), O_RDONLY, 0);  // -ENOENT
  ::syscall(SYS_renameat2, AT_FDCWD, f.c_str(), AT_FDCWD, g.c_str(), 0);
  ::syscall(SYS_getpid);  // untraced
  ::syscall(SYS_getppid);
  ::syscall(SYS_unlinkat, AT_FDCWD, g.c_str(), 0);
  ::syscall(SYS_rmdir, d.c_str());
  return 7;
}

// One event as JSON, without what differs between two runs (times, ids).
std::string comparable(dynamic_event e) {
  e.header.timestamp = 0;
  e.header.duration_ns = 0;
  e.header.process_id = 0;
  e.header.thread_id = 0;
  return ebpfpub::to_json(e);
}

struct run_result {
  std::vector<std::string> events;
  ebpfpub::statistics stats;
  attach_mode attached = attach_mode::automatic;
};

// Traces `traced` in `mode` for the scenario's child alone (process filter).
run_result run_scenario(attach_mode mode, const std::string& dir, ebpfpub::filter_options filter = {}) {
  child_process child([dir] { return scenario(dir); });
  ebpfpub::tracer_options options;
  options.attach = mode;
  options.filter = std::move(filter);
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  run_result result;
  bool exited = false;
  for (const auto& name : traced)
    REQUIRE(tracer->trace(name, [&](const dynamic_event& e) {
      result.events.push_back(comparable(e));
      if (e.header.syscall == "exit_group") exited = true;
    }));
  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  result.attached = started->attached;
  child.go();
  CHECK(child.wait() == 7);
  for (int i = 0; i < 100 && !exited; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  result.stats = tracer->stats();
  return result;
}

std::uint64_t total(const ebpfpub::statistics& s, std::uint64_t ebpfpub::syscall_statistics::*field) {
  std::uint64_t n = 0;
  for (const auto& by : s.by_syscall) n += by.*field;
  return n;
}

}  // namespace

TEST_CASE("a child traced in dispatch mode gets exactly the events it gets in tracepoint mode") {
  ebpfpub::test::scratch_dir dir;
  const auto base = dir.path.string();
  const auto tracepoints = run_scenario(attach_mode::tracepoints, base);
  const auto dispatch = run_scenario(attach_mode::dispatch, base);
  CHECK(tracepoints.attached == attach_mode::tracepoints);
  CHECK(dispatch.attached == attach_mode::dispatch);
  // mkdir, openat, write, pwrite64, close, openat (failed), renameat2, getppid, unlinkat,
  // rmdir, exit_group; getpid is not traced, fchownat not made.
  REQUIRE(tracepoints.events.size() == 11);
  CHECK(dispatch.events == tracepoints.events);
  for (const auto& e : dispatch.events) UNSCOPED_INFO(e);
  // A few values spelled out, so that "equal" is not "equally empty".
  const auto d = base + "/d";
  CHECK(dispatch.events[0].find("\"syscall\":\"mkdir\"") != std::string::npos);
  CHECK(dispatch.events[0].find("\"pathname\":\"" + d + "\"") != std::string::npos);
  CHECK(dispatch.events[0].find("\"mode\":488") != std::string::npos);  // 0750
  CHECK(dispatch.events[1].find("\"exit_code\":3,") != std::string::npos);
  CHECK(dispatch.events[1].find("\"mode\":416") != std::string::npos);  // 0640
  CHECK(dispatch.events[2].find("\"exit_code\":5,") != std::string::npos);
  CHECK(dispatch.events[3].find("\"pos\":100") != std::string::npos);
  CHECK(dispatch.events[5].find("\"exit_code\":-2,") != std::string::npos);
  CHECK(dispatch.events[7].find("\"syscall\":\"getppid\"") != std::string::npos);
  CHECK(dispatch.events[10].find("\"error_code\":7") != std::string::npos);
  for (const auto* r : {&tracepoints, &dispatch}) {
    CHECK(r->stats.events() == 11);
    CHECK(r->stats.lost() == 0);
    CHECK(total(r->stats, &ebpfpub::syscall_statistics::unmatched_exits) == 0);
  }
}

TEST_CASE("in dispatch mode the result and command filters drop calls in the kernel") {
  ebpfpub::test::scratch_dir dir;
  ebpfpub::filter_options failed;
  failed.result = ebpfpub::result_filter::failed;
  const auto only_failed = run_scenario(attach_mode::dispatch, dir.path.string(), failed);
  // The failed openat, and exit_group: its event is sent at enter, where no result filter
  // passes it (as in tracepoint mode).
  REQUIRE(only_failed.events.size() == 1);
  CHECK(only_failed.events[0].find("\"exit_code\":-2,") != std::string::npos);
  CHECK(only_failed.stats.events() == 1);
  CHECK(only_failed.stats.lost() == 0);

  ebpfpub::filter_options other_command;
  other_command.commands = {"no-such-comm"};
  CHECK(run_scenario(attach_mode::dispatch, dir.path.string(), other_command).events.empty());
}

TEST_CASE("in dispatch mode an exit whose enter was never seen is counted, not paired") {
  int to_child[2];
  REQUIRE(::pipe(to_child) == 0);
  child_process child([&] {
    char byte;
    if (::read(to_child[0], &byte, 1) != 1) return 10;  // blocked here when tracing starts
    if (::read(to_child[0], &byte, 1) != 1) return 11;  // traced from enter to exit
    return 0;
  });
  ebpfpub::tracer_options options;
  options.attach = attach_mode::dispatch;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<std::int64_t> reads;
  REQUIRE(tracer->trace<ebpfpub::syscalls::read>([&](const auto& e) { reads.push_back(e.header.exit_code); }));
  child.go();
  ::usleep(200'000);
  auto started = tracer->start();
  REQUIRE(started);
  CHECK(started->attached == attach_mode::dispatch);
  REQUIRE(::write(to_child[1], "ab", 2) == 2);
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 4; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  CHECK(reads == std::vector<std::int64_t>{1});
  const auto stats = tracer->stats();
  CHECK(stats.by_syscall[0].unmatched_exits == 1);
  CHECK(stats.lost() == 0);
  ::close(to_child[0]);
  ::close(to_child[1]);
}

TEST_CASE("in dispatch mode untraced syscalls and 32-bit calls with a traced number give nothing") {
  // int $0x80 with eax 20 is the 32-bit getpid; 20 is writev in the 64-bit table.
  child_process child([] {
    long pid = 0;
    __asm__ volatile("int $0x80" : "=a"(pid) : "a"(20L) : "memory", "rcx", "r11");
    if (pid != ::getpid()) return 10;
    ::syscall(SYS_getppid);
    ::syscall(SYS_mkdir, "/nonexistent-dir/x", 0700);
    char byte = 'x';
    struct iovec one {&byte, 1};
    if (::syscall(SYS_writev, -1, &one, 1) != -1) return 11;  // EBADF
    return 0;
  });
  ebpfpub::tracer_options options;
  options.attach = attach_mode::dispatch;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<std::string> seen;
  REQUIRE(tracer->trace("writev", [&](const dynamic_event& e) {
    seen.push_back(std::string(e.header.syscall) + " " + std::to_string(e.header.exit_code));
  }));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 4; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  CHECK(seen == std::vector<std::string>{"writev -9"});
  const auto stats = tracer->stats();
  CHECK(stats.events() == 1);
  CHECK(stats.by_syscall[0].unmatched_exits == 0);
}

TEST_CASE("every syscall loads and attaches in dispatch mode, plans of one shape sharing a program, "
          "and each call is told apart by its number") {
  auto tracer = ebpfpub::tracer::create({.attach = attach_mode::dispatch});
  REQUIRE(tracer);
  auto names = tracer->available_syscalls();
  REQUIRE(names);
  // getppid, getpid and getuid have the same shape (no arguments), rmdir and chdir too
  // (one path): each pair shares its programs, and the events must still name each call.
  child_process child([] {
    ::syscall(SYS_getpid);
    ::syscall(SYS_rmdir, "/nonexistent-ebpfpub/a");
    ::syscall(SYS_chdir, "/nonexistent-ebpfpub/b");
    ::syscall(SYS_getuid);
    return ::getppid() > 0 ? 0 : 1;
  });
  const auto child_pid = static_cast<std::uint32_t>(child.pid());
  std::vector<dynamic_event> getppids;
  std::vector<std::string> calls;
  bool child_exited = false;
  for (const auto& name : *names)
    REQUIRE(tracer->trace(name, [&](const dynamic_event& e) {
      if (e.header.process_id != child_pid) return;
      if (e.header.syscall == "getppid") getppids.push_back(e);
      if (e.header.syscall == "exit_group") child_exited = true;
      std::string call = std::string(e.header.syscall) + " " + std::to_string(e.header.exit_code);
      if (!e.args.empty())
        if (const auto* path = std::get_if<ebpfpub::user_string>(&e.args[0].value)) call += " " + path->value;
      calls.push_back(call);
    }));
  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(started->attached == attach_mode::dispatch);
  // One program per shape and direction (about 90 for Linux 6.18's 360 syscalls), not
  // one per syscall and direction (718), and the two dispatchers.
  CHECK(started->programs > 2);
  CHECK(started->programs < names->size() / 2);
  child.go();
  CHECK(child.wait() == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!child_exited && std::chrono::steady_clock::now() < deadline)
    REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(child_exited);
  REQUIRE(getppids.size() == 1);
  CHECK(getppids[0].header.exit_code == ::getpid());
  CHECK(getppids[0].header.thread_id == child_pid);
  const auto pid = std::to_string(child_pid), uid = std::to_string(::getuid());
  // Between the read of the go byte and exit_group: the body's calls, in order. A
  // sanitized build's runtime adds its own on the way out (ASan: sigaltstack), which are
  // not the body's.
  auto first = std::find(calls.begin(), calls.end(), "getpid " + pid);
  REQUIRE(first != calls.end());
  std::vector<std::string> body(first, calls.end());
  std::erase_if(body, [](const std::string& c) { return c.starts_with("sigaltstack "); });
  CHECK(body ==
        std::vector<std::string>{"getpid " + pid, "rmdir -2 /nonexistent-ebpfpub/a",
                                 "chdir -2 /nonexistent-ebpfpub/b", "getuid " + uid,
                                 "getppid " + std::to_string(::getpid()), "exit_group 0"});
  tracer->stop();
  // Stopped: once what the programs sent before is read, a call reaches no program.
  REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  const auto events = tracer->stats().events();
  ::syscall(SYS_getppid);
  REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  CHECK(tracer->stats().events() == events);
}

TEST_CASE("dispatch is refused in library terms for a syscall of unknown number; automatic "
          "then uses tracepoints, and below dispatch_from_syscalls (16) syscalls too") {
  auto dispatches = [](attach_mode mode, std::span<const ebpfpub::plan> plans) {
    auto resolved = ebpfpub::detail::resolve_dispatch(mode, plans);
    if (!resolved) FAIL(resolved.error().what());
    return *resolved;
  };
  const std::vector<std::string> names{"read", "write", "openat", "close", "mkdir", "rmdir", "chdir", "getpid",
                                       "getppid", "getuid", "getgid", "unlinkat", "renameat2", "fchownat",
                                       "pwrite64", "writev"};
  REQUIRE(ebpfpub::dispatch_from_syscalls == 16);
  std::vector<ebpfpub::plan> plans(names.size());
  for (std::size_t i = 0; i < plans.size(); ++i) plans[i].syscall.name = names[i];
  CHECK(dispatches(attach_mode::dispatch, plans) == true);
  CHECK(dispatches(attach_mode::automatic, plans) == true);
  CHECK(dispatches(attach_mode::tracepoints, plans) == false);
  CHECK(dispatches(attach_mode::automatic, std::span(plans).first(15)) == false);
  CHECK(dispatches(attach_mode::dispatch, std::span(plans).first(1)) == true);
  plans[3].exit_aliases = {"no_such_call"};
  auto refused = ebpfpub::detail::resolve_dispatch(attach_mode::dispatch, plans);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() ==
        "attach_mode::dispatch: ebpfpub does not know the number of syscall no_such_call (newer than "
        "its table); trace it with attach_mode::tracepoints");
  CHECK(dispatches(attach_mode::automatic, plans) == false);
}
