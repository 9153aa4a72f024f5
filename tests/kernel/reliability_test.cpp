// Nothing lost silently: every call a workload makes is received or counted lost.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <algorithm>
#include <cstdio>

#include <cstring>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;

namespace {

struct accounting {
  const char* syscall = "";
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t unattributed = 0;
  std::uint64_t perf_reported = 0;
};

// Traces getppid and getuid of the child only, which makes `calls` of each on every
// thread; the reader does not poll until the child is done, so a small output buffer
// overflows. Returns the accounting per syscall.
std::vector<accounting> overflow(ebpfpub::transport transport, std::uint32_t pages_log2, long calls,
                                 int threads) {
  child_process child([&] {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (long i = 0; i < calls; ++i) {
          ::syscall(SYS_getppid);
          ::syscall(SYS_getuid);
        }
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
  std::vector<accounting> a(2);
  a[0].syscall = "getppid";
  a[1].syscall = "getuid";
  REQUIRE(tracer->trace<sys::getppid>([&](const auto&) { ++a[0].received; }));
  REQUIRE(tracer->trace<sys::getuid>([&](const auto&) { ++a[1].received; }));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 10; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(20)));
  const auto stats = tracer->stats();
  REQUIRE(stats.by_syscall.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(stats.by_syscall[i].events == a[i].received);
    a[i].lost = stats.by_syscall[i].lost();
    a[i].unattributed = stats.lost_unattributed;
    a[i].perf_reported = stats.perf_reported_lost;
  }
  return a;
}

}  // namespace

TEST_CASE("under a forced overflow, received plus counted lost is exactly what was made") {
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  const int threads = GENERATE(1, 2);
  const long calls = 20000;
  const auto accounts = overflow(transport, 0, calls, threads);
  for (const auto& a : accounts) {
    // The figures the closing note quotes: ctest -V shows them.
    fmt::print("overflow {}, {} thread(s), {}: made {}, received {}, counted lost {}\n",
               transport == ebpfpub::transport::ring ? "ring" : "perf", threads, a.syscall,
               calls * threads, a.received, a.lost);
    CHECK(a.lost > 0);  // the overflow happened
    CHECK(a.received > 0);
    CHECK(a.received + a.lost == static_cast<std::uint64_t>(calls * threads));
    CHECK(a.unattributed == 0);
  }
}

namespace {

long rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f && std::fgets(line, sizeof(line), f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  if (f) std::fclose(f);
  return kib;
}

void poll_for(ebpfpub::tracer& tracer, std::chrono::milliseconds total) {
  const auto end = std::chrono::steady_clock::now() + total;
  while (std::chrono::steady_clock::now() < end) REQUIRE(tracer.poll(std::chrono::milliseconds(20)));
}

}  // namespace

TEST_CASE("an exit whose enter was never seen is counted, not paired with anything") {
  int to_child[2];
  REQUIRE(::pipe(to_child) == 0);
  child_process child([&] {
    char byte;
    // Blocks in read before tracing starts; returns once the tracer is attached.
    if (::read(to_child[0], &byte, 1) != 1) return 10;
    if (::read(to_child[0], &byte, 1) != 1) return 11;  // traced from enter to exit
    return 0;
  });
  ebpfpub::tracer_options options;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<std::int64_t> reads;
  REQUIRE(tracer->trace<sys::read>([&](const auto& e) { reads.push_back(e.header.exit_code); }));
  child.go();
  ::usleep(200'000);  // the child is now inside its first read
  REQUIRE(tracer->start());
  REQUIRE(::write(to_child[1], "ab", 2) == 2);
  REQUIRE(child.wait() == 0);
  poll_for(*tracer, std::chrono::milliseconds(200));
  CHECK(reads == std::vector<std::int64_t>{1});
  const auto stats = tracer->stats();
  CHECK(stats.by_syscall[0].unmatched_exits == 1);
  CHECK(stats.lost() == 0);
}

TEST_CASE("processes killed inside a traced call leave nothing that fills the event map") {
  // A call interrupted by SIGKILL still passes its exit tracepoint (-ERESTARTSYS) before
  // the task dies: it is delivered, or, when a 16-entry LRU map evicted its entry meanwhile,
  // counted as an exit without its enter. Either way the map keeps room for new calls.
  const auto kind = GENERATE(ebpfpub::event_map_kind::task_storage, ebpfpub::event_map_kind::hash);
  ebpfpub::tracer_options options;
  options.resources.event_map = kind;
  options.resources.event_map_size = 16;  // far fewer than the processes killed below
  // Only this test's children (this process's own calls are never recorded).
  options.filter.process_ids = {static_cast<std::uint32_t>(::getpid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<pid_t> killed;
  std::uint64_t seen_from_killed = 0, seen_last = 0;
  std::vector<std::int64_t> killed_codes;
  pid_t last = 0;
  REQUIRE(tracer->trace<sys::read>([&](const auto& e) {
    if (std::find(killed.begin(), killed.end(), static_cast<pid_t>(e.header.process_id)) != killed.end()) {
      ++seen_from_killed;
      killed_codes.push_back(e.header.exit_code);
    }
    if (static_cast<pid_t>(e.header.process_id) == last) ++seen_last;
  }));
  REQUIRE(tracer->start());
  // 64 processes block in read() (enter recorded, in flight) and are killed there.
  for (int i = 0; i < 64; ++i) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      char byte;
      (void)::read(p[0], &byte, 1);
      ::_exit(0);
    }
    killed.push_back(pid);
    ::close(p[0]);
    ::close(p[1]);
  }
  ::usleep(300'000);
  for (auto pid : killed) ::kill(pid, SIGKILL);
  for (auto pid : killed) ::waitpid(pid, nullptr, 0);
  // A new process's calls are still recorded: the map did not fill.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(::write(p[1], "xy", 2) == 2);
  last = ::fork();
  if (last == 0) {
    char bytes[2];
    ::_exit(::read(p[0], bytes, 1) == 1 && ::read(p[0], bytes + 1, 1) == 1 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(last, &status, 0);
  CHECK(WEXITSTATUS(status) == 0);
  poll_for(*tracer, std::chrono::milliseconds(300));
  const auto stats = tracer->stats();
  fmt::print("killed mid-read, {}: killed {}, delivered {}, unmatched exits {}, lost {}\n",
             kind == ebpfpub::event_map_kind::task_storage ? "task storage" : "hash map",
             killed.size(), seen_from_killed, stats.by_syscall[0].unmatched_exits, stats.lost());
  INFO("delivered " << seen_from_killed << ", unmatched " << stats.by_syscall[0].unmatched_exits);
  CHECK(seen_from_killed + stats.by_syscall[0].unmatched_exits == killed.size());
  for (auto code : killed_codes) CHECK(code == -512);  // ERESTARTSYS
  if (kind == ebpfpub::event_map_kind::task_storage) CHECK(seen_from_killed == killed.size());
  CHECK(seen_last == 2);
  CHECK(stats.by_syscall[0].lost_no_storage == 0);
}

TEST_CASE("storms of threads and of short-lived processes: every call accounted for") {
  SECTION("200 threads, 50 calls each") {
    for (const auto& a : overflow(ebpfpub::transport::ring, 8, 50, 200)) {
      fmt::print("thread storm, 200 threads, {}: made 10000, received {}, counted lost {}\n",
                 a.syscall, a.received, a.lost);
      CHECK(a.received + a.lost == 10000);
      CHECK(a.lost == 0);
    }
  }
  SECTION("2000 processes, forked in a chain of short lives, one call each") {
    child_process child([] {
      for (int i = 0; i < 2000; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
          ::syscall(SYS_getppid);
          ::_exit(0);
        }
        ::waitpid(pid, nullptr, 0);
      }
      return 0;
    });
    ebpfpub::tracer_options options;
    options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
    auto tracer = ebpfpub::tracer::create(options);
    REQUIRE(tracer);
    std::uint64_t received = 0;
    REQUIRE(tracer->trace<sys::getppid>([&](const auto&) { ++received; }));
    REQUIRE(tracer->start());
    child.go();
    // Poll while the storm runs, as a real reader would.
    std::atomic<bool> done{false};
    std::thread waiter([&] {
      CHECK(child.wait() == 0);
      done = true;
    });
    while (!done) REQUIRE(tracer->poll(std::chrono::milliseconds(20)));
    waiter.join();
    poll_for(*tracer, std::chrono::milliseconds(200));
    const auto stats = tracer->stats();
    fmt::print("fork storm, 2000 processes: made 2000, received {}, counted lost {}, "
               "untracked children {}\n", received, stats.lost(), stats.untracked_children);
    CHECK(received + stats.lost() == 2000);
    CHECK(stats.untracked_children == 0);
  }
}

TEST_CASE("a soak at full rate leaves the reader's memory flat") {
  child_process child([] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < end)
      for (int i = 0; i < 1000; ++i) ::syscall(SYS_getppid);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::uint64_t received = 0;
  REQUIRE(tracer->trace("getppid", [&](const ebpfpub::dynamic_event&) { ++received; }));
  REQUIRE(tracer->start());
  child.go();
  poll_for(*tracer, std::chrono::seconds(2));
  const long early = rss_kib();
  const auto received_early = received;
  poll_for(*tracer, std::chrono::seconds(6));
  const long late = rss_kib();
  CHECK(child.wait() == 0);
  fmt::print("soak: {} events in 8 s, lost {}, reader RSS {} KiB after 2 s, {} KiB after 8 s\n",
             received, tracer->stats().lost(), early, late);
  INFO("RSS " << early << " KiB after 2 s, " << late << " KiB after 8 s; " << received << " events");
  CHECK(received > received_early + 100000);
  CHECK(late - early < 1024);
}

TEST_CASE("two tracers side by side both see every call") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / ebpfpub::test::random_name()).string();
  child_process child([&] { return ::syscall(SYS_mkdir, path.c_str(), 0700) == 0 ? 0 : 1; });
  std::vector<std::string> first, second;
  auto a = ebpfpub::tracer::create();
  auto b = ebpfpub::tracer::create();
  REQUIRE(a);
  REQUIRE(b);
  auto record = [&](std::vector<std::string>& into) {
    return [&into, &child](const ebpfpub::event<sys::mkdir>& e) {
      if (e.header.process_id == static_cast<std::uint32_t>(child.pid())) into.push_back(e.args.pathname.value);
    };
  };
  REQUIRE(a->trace<sys::mkdir>(record(first)));
  REQUIRE(b->trace<sys::mkdir>(record(second)));
  REQUIRE(a->start());
  REQUIRE(b->start());
  child.go();
  REQUIRE(child.wait() == 0);
  poll_for(*a, std::chrono::milliseconds(200));
  poll_for(*b, std::chrono::milliseconds(200));
  CHECK(first == std::vector<std::string>{path});
  CHECK(second == std::vector<std::string>{path});
}

TEST_CASE("the tracer never records its own calls") {
  // The tracer's process makes 100 getpid calls and a child makes 100: only the
  // child's arrive, so the exclusion is shown to drop exactly the tracer's own calls.
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  std::uint64_t own = 0, child_getpids = 0;
  const auto self = static_cast<std::uint32_t>(::getpid());
  child_process child([] {
    for (int i = 0; i < 100; ++i) ::syscall(SYS_getpid);
    return 0;
  });
  const auto child_pid = static_cast<std::uint32_t>(child.pid());
  for (const char* name : {"epoll_wait", "epoll_pwait", "read", "write", "bpf", "getpid"})
    REQUIRE(tracer->trace(name, [&](const ebpfpub::dynamic_event& e) {
      if (e.header.process_id == self) ++own;
      if (e.header.process_id == child_pid && e.header.syscall == "getpid") ++child_getpids;
    }));
  REQUIRE(tracer->start());
  for (int i = 0; i < 100; ++i) ::syscall(SYS_getpid);
  child.go();
  REQUIRE(child.wait() == 0);
  poll_for(*tracer, std::chrono::milliseconds(500));
  CHECK(own == 0);
  CHECK(child_getpids == 100);
}

TEST_CASE("hostile callers get bounded events with probe_error, never a crash") {
  ebpfpub::test::child_session session;
  auto& opens = session.trace<sys::openat>();
  auto& execs = session.trace<sys::execve>();
  child_process child([] {
    // A string that runs into an unmapped page without a NUL.
    auto* pages = static_cast<char*>(::mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    std::memset(pages, 'a', 4096);
    ::munmap(pages + 4096, 4096);
    ::syscall(SYS_openat, AT_FDCWD, pages + 4096 - 10, O_RDONLY, 0);
    // A pointer into unmapped memory, and an argv array that is.
    ::syscall(SYS_openat, AT_FDCWD, pages + 4096, O_RDONLY, 0);
    const char* envp[] = {nullptr};
    ::syscall(SYS_execve, "/nonexistent", reinterpret_cast<char* const*>(pages + 4096), envp);
    // A huge argv: 100,000 arguments of 100 bytes (the kernel refuses it: E2BIG).
    std::vector<std::string> storage(100000, std::string(100, 'x'));
    std::vector<const char*> argv;
    for (const auto& s : storage) argv.push_back(s.c_str());
    argv.push_back(nullptr);
    ::syscall(SYS_execve, "/bin/true", argv.data(), envp);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(opens.size() == 2);
  for (const auto& e : opens) {
    CHECK(e.header.exit_code == -EFAULT);
    CHECK(e.args.filename.status == ebpfpub::capture_status::fault);
    CHECK(e.header.probe_error);
  }
  REQUIRE(execs.size() == 2);
  CHECK(execs[0].header.exit_code == -ENOENT);  // the file is looked up first
  CHECK(execs[0].args.argv.status == ebpfpub::capture_status::fault);
  CHECK(execs[1].header.exit_code == -E2BIG);
  CHECK(execs[1].args.argv.status == ebpfpub::capture_status::truncated);
  CHECK(execs[1].args.argv.values.size() <= 64);
  // At most --argv_size bytes in all, NULs between them included (the last one is cut).
  std::size_t bytes = execs[1].args.argv.values.size() - 1;
  for (const auto& v : execs[1].args.argv.values) bytes += v.size();
  CHECK(bytes <= 4096);
}

TEST_CASE("poll returns while the programs write faster than the handlers keep up") {
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  // The child calls getppid until it is killed; each event costs the handler 20 µs.
  child_process child([] {
    for (;;) ::syscall(SYS_getppid);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.output = transport;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::uint64_t received = 0;
  std::uint64_t limit = 0;
  REQUIRE(tracer->trace("getppid", [&](const ebpfpub::dynamic_event&) {
    ++received;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
    // Without the bound, poll would never return: stop the writer so the test fails
    // instead of hanging.
    if (received == limit) ::kill(child.pid(), SIGKILL);
  }));
  REQUIRE(tracer->start());
  // At most what the buffer holds, at 48 bytes for the smallest record.
  const auto bound = std::max<std::uint64_t>(1024, tracer->memory().output_bytes / 48);
  limit = 3 * bound;
  child.go();
  for (int round = 0; round < 3; ++round) {
    auto n = tracer->poll(std::chrono::milliseconds(100));
    REQUIRE(n);
    INFO("round " << round << ": " << *n << " events, bound " << bound);
    CHECK(*n <= bound);
    // Still running: the writer was never stopped by the handler.
    CHECK(::waitpid(child.pid(), nullptr, WNOHANG) == 0);
  }
  CHECK(received > 0);
  CHECK(received < limit);
}
