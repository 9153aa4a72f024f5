#pragma once
// A child makes `calls` getppid calls; the tracer (filtered to that child) hands each to
// one or more streams as an event record. The end of the child is its exit_group.

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/sinks/stream.hpp>
#include <functional>
#include <thread>
#include <vector>

#include "support/child.hpp"

namespace ebpfpub::test {

/// The event's JSON as the tests write it (the library's JSON writer plugs in the same way).
inline void write_event(std::string& out, const dynamic_event& e) {
  fmt::format_to(
      std::back_inserter(out),
      R"({{"timestamp":{},"process_id":{},"thread_id":{},"syscall":"{}","exit_code":{}}})",
      e.header.timestamp, e.header.process_id, e.header.thread_id, e.header.syscall,
      e.header.exit_code);
}

/// A child that waits for go(), then calls getppid `calls` times, pausing `pause` after
/// every `every` calls (so a run lasts long enough for a broker to be killed in it).
inline child_process getppid_child(std::uint64_t calls, std::uint64_t every = 0,
                                   std::chrono::microseconds pause = {}) {
  return child_process([=] {
    for (std::uint64_t i = 0; i < calls; ++i) {
      ::syscall(SYS_getppid);
      if (every > 0 && (i + 1) % every == 0) std::this_thread::sleep_for(pause);
    }
    return 0;
  });
}

/// One tracer for one child, publishing the child's getppid calls to `s`.
class traced_child {
 public:
  traced_child(child_process& child, sinks::stream& s) : child_(child), stream_(s) {
    tracer_options options;
    options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
    auto t = tracer::create(options);
    if (!t) FAIL(t.error().what());
    tracer_ = std::make_unique<tracer>(std::move(*t));
    auto ok = tracer_->trace("getppid", [this](const dynamic_event& e) {
      stream_.publish([&](std::string& out) { write_event(out, e); });
      ++published_;
    });
    if (!ok) FAIL(ok.error().what());
    ok = tracer_->trace("exit_group", [this](const dynamic_event&) { exited_ = true; });
    if (!ok) FAIL(ok.error().what());
    auto started = tracer_->start();
    if (!started) FAIL(started.error().what());
  }

  /// Lets the child run and polls until its exit_group arrived; `between_polls` runs
  /// after each poll with the number of events published so far.
  void run(const std::function<void(std::uint64_t)>& between_polls = {}) {
    child_.go();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!exited_ && std::chrono::steady_clock::now() < deadline) poll_once(between_polls);
    REQUIRE(child_.wait() == 0);
    poll_once(between_polls);
    REQUIRE(exited_);
    tracer_->stop();
    poll_once(between_polls);
  }

  /// Events this tracer published.
  std::uint64_t published() const { return published_; }
  ebpfpub::tracer& get() { return *tracer_; }

 private:
  void poll_once(const std::function<void(std::uint64_t)>& between_polls) {
    auto n = tracer_->poll(std::chrono::milliseconds(20));
    if (!n) FAIL(n.error().what());
    stream_.account(tracer_->stats());
    if (between_polls) between_polls(published_);
  }

  child_process& child_;
  sinks::stream& stream_;
  std::unique_ptr<ebpfpub::tracer> tracer_;
  std::uint64_t published_ = 0;
  bool exited_ = false;
};

/// Runs fleet_consumer on `url` and returns its JSON lines (one per host) and exit status.
struct consumer_result {
  int status = -1;
  std::vector<std::string> lines;
};
inline consumer_result run_consumer(const std::string& url, const std::string& extra = {}) {
  const std::string command = fmt::format("{} '{}' --json --idle-ms 1500 --timeout-ms 30000 {}",
                                          FLEET_CONSUMER_PATH, url, extra);
  consumer_result r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) FAIL("cannot run " << command);
  char line[65536];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    r.lines.push_back(s);
  }
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace ebpfpub::test
