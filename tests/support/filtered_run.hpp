#pragma once
// A tracer with filter expressions on the calls of one child process, for the tests of
// compiled filters: what arrived, and what the programs counted.

#include <catch2/catch.hpp>
#include <chrono>
#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/filter/expression.hpp>
#include <functional>
#include <string>
#include <vector>

#include "support/child.hpp"

namespace ebpfpub::test {

template <typename S>
struct filtered_result {
  std::vector<event<S>> events;
  syscall_statistics stats;
};

/// Traces S for `body` (run in a child, and only the child: the process filter keeps
/// every other process's calls away from the filters, so the counts are exact) with the
/// `filters`, until `calls` calls are accounted for (delivered, filtered or lost).
template <typename S>
filtered_result<S> run_filtered(const std::vector<std::string>& filters, std::uint64_t calls,
                                std::function<int()> body, tracer_options options = {}) {
  child_process child(std::move(body));
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto t = tracer::create(options);
  REQUIRE(t);
  filtered_result<S> out;
  REQUIRE(t->trace<S>([&](const event<S>& e) { out.events.push_back(e); }));
  for (const auto& f : filters) {
    auto added = t->add_filter(f);
    INFO(f);
    REQUIRE(added);
  }
  auto started = t->start();
  if (!started) FAIL(started.error().what());
  child.go();
  CHECK(child.wait() == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    REQUIRE(t->poll(std::chrono::milliseconds(20)));
    const auto s = t->stats().by_syscall.front();
    if (s.events + s.filtered + s.lost() >= calls || std::chrono::steady_clock::now() > deadline)
      break;
  }
  t->stop();
  REQUIRE(t->poll(std::chrono::milliseconds(0)));
  out.stats = t->stats().by_syscall.front();
  return out;
}

}  // namespace ebpfpub::test
