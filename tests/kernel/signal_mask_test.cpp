// Signal masks end to end: a child blocks, queues and waits on known signals with raw
// syscalls; the generic serializer must return each mask exactly, read when the memory
// holds it (the caller's at enter, the kernel's answer at exit) and NULL as "not provided".

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <vector>

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

using ebpfpub::capture_status;
using ebpfpub::dynamic_event;
using ebpfpub::signal_mask;

namespace {

constexpr std::uint64_t bit(int signal) { return std::uint64_t{1} << (signal - 1); }

// The kernel's 8-byte sigset, not glibc's 128-byte sigset_t.
long sigprocmask_raw(int how, const std::uint64_t* set, std::uint64_t* old) {
  return ::syscall(SYS_rt_sigprocmask, how, set, old, 8);
}

const signal_mask& mask_of(const dynamic_event& e, std::size_t i) {
  REQUIRE(i < e.args.size());
  const auto* m = std::get_if<signal_mask>(&e.args[i].value);
  INFO(e.header.syscall << " argument " << i);
  REQUIRE(m != nullptr);
  return *m;
}

}  // namespace

TEST_CASE("rt_sigprocmask, rt_sigpending, ppoll and signalfd4 of a child return its exact "
          "signal masks") {
  const std::uint64_t usr = bit(SIGUSR1) | bit(SIGUSR2);
  // ppoll blocks exactly these while it waits: SIGUSR1, pending by then, must stay blocked.
  const std::uint64_t wait_on = bit(SIGHUP) | bit(SIGUSR1) | bit(SIGUSR2);
  const std::uint64_t signalfd_on = bit(SIGUSR1) | bit(34);  // 34 is RTMIN+2 for the kernel
  ebpfpub::test::child_process child([&] {
    const std::uint64_t none = 0;
    std::uint64_t old = ~std::uint64_t{0}, old2 = 0, pending = 0;
    if (sigprocmask_raw(SIG_SETMASK, &none, nullptr) != 0) return 1;
    if (sigprocmask_raw(SIG_BLOCK, &usr, &old) != 0 || old != 0) return 2;
    if (sigprocmask_raw(SIG_BLOCK, nullptr, &old2) != 0 || old2 != usr) return 3;
    if (::kill(::getpid(), SIGUSR1) != 0) return 4;  // blocked: stays pending
    if (::syscall(SYS_rt_sigpending, &pending, 8) != 0 || pending != bit(SIGUSR1)) return 5;
    const timespec zero{0, 0};
    if (::syscall(SYS_ppoll, nullptr, 0, &zero, &wait_on, 8) != 0) return 6;
    const long fd = ::syscall(SYS_signalfd4, -1, &signalfd_on, 8, SFD_CLOEXEC);
    if (fd < 0) return 7;
    return 0;
  });
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  const auto pid = static_cast<std::uint32_t>(child.pid());
  std::vector<dynamic_event> events;
  const auto keep = [&](const dynamic_event& e) {
    if (e.header.process_id == pid) events.push_back(e);
  };
  for (const auto* name : {"rt_sigprocmask", "rt_sigpending", "ppoll", "signalfd4", "exit_group"})
    REQUIRE(tracer->trace(name, keep));
  REQUIRE(tracer->start());
  child.go();
  REQUIRE(child.wait() == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline &&
         std::none_of(events.begin(), events.end(),
                      [](const dynamic_event& e) { return e.header.syscall == "exit_group"; }))
    REQUIRE(tracer->poll(std::chrono::milliseconds(50)));
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.header.timestamp < b.header.timestamp; });

  std::vector<std::string> lines;
  for (const auto& e : events) {
    std::string line(e.header.syscall);
    for (const auto& a : e.args) line += fmt::format(" {}={}", a.name, a.value);
    lines.push_back(line);
  }
  INFO(fmt::format("{}", fmt::join(lines, "\n")));
  REQUIRE(events.size() == 7);
  for (const auto& e : events) CHECK_FALSE(e.header.probe_error);

  CHECK(events[0].header.syscall == "rt_sigprocmask");
  CHECK(mask_of(events[0], 1) == signal_mask{mask_of(events[0], 1).address, 0, capture_status::ok});
  CHECK(mask_of(events[0], 2) == signal_mask{0, 0, capture_status::null_pointer});

  CHECK(events[1].header.syscall == "rt_sigprocmask");
  CHECK(std::get<std::int64_t>(events[1].args[0].value) == SIG_BLOCK);
  CHECK(mask_of(events[1], 1).mask == usr);
  CHECK(mask_of(events[1], 1).status == capture_status::ok);
  CHECK(mask_of(events[1], 2).mask == 0);  // the mask before: empty
  CHECK(mask_of(events[1], 2).status == capture_status::ok);
  CHECK(fmt::format("{}", events[1].args[1].value) == "[USR1 USR2]");
  CHECK(fmt::format("{}", events[1].args[2].value) == "[]");

  CHECK(mask_of(events[2], 1).status == capture_status::null_pointer);
  CHECK(mask_of(events[2], 2).mask == usr);  // the kernel's answer, read at exit

  CHECK(events[3].header.syscall == "rt_sigpending");
  CHECK(mask_of(events[3], 0) == signal_mask{mask_of(events[3], 0).address, bit(SIGUSR1), capture_status::ok});

  CHECK(events[4].header.syscall == "ppoll");
  CHECK(mask_of(events[4], 3).mask == wait_on);
  CHECK(mask_of(events[4], 3).status == capture_status::ok);
  CHECK(fmt::format("{}", events[4].args[3].value) == "[HUP USR1 USR2]");

  CHECK(events[5].header.syscall == "signalfd4");
  CHECK(mask_of(events[5], 1).mask == signalfd_on);
  CHECK(fmt::format("{}", events[5].args[1].value) == "[USR1 RT_2]");
  CHECK(events[6].header.syscall == "exit_group");
}
