#pragma once
// A tracer that records the typed events of one child process, for serializer tests.

#include <any>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace ebpfpub::test {

class child_session {
 public:
  explicit child_session(tracer_options options = {}) {
    auto t = tracer::create(std::move(options));
    if (!t) FAIL(t.error().what());
    tracer_ = std::make_unique<tracer>(std::move(*t));
    auto ok = tracer_->trace<syscalls::exit_group>([this](const auto& e) {
      if (e.header.process_id != pid_) return;
      exited_ = true;
      exit_groups_.push_back(e);
    });
    if (!ok) FAIL(ok.error().what());
  }

  /// Events of S from the child, in the order they arrive.
  template <typename S>
  std::vector<event<S>>& trace() {
    auto events = std::make_shared<std::vector<event<S>>>();
    storage_.push_back(events);
    auto ok = tracer_->trace<S>([this, events](const event<S>& e) {
      if (e.header.process_id == pid_) events->push_back(e);
    });
    if (!ok) FAIL(ok.error().what());
    return *events;
  }

  ebpfpub::tracer& get() { return *tracer_; }
  /// The child's exit_group calls (traced by every session: they end the collection).
  const std::vector<event<syscalls::exit_group>>& exit_groups() const { return exit_groups_; }

  /// Starts tracing, lets the child run, and collects until its exit_group arrives.
  /// Returns the child's exit status.
  int run(child_process& child) {
    pid_ = static_cast<std::uint32_t>(child.pid());
    auto started = tracer_->start();
    if (!started) FAIL(started.error().what());
    child.go();
    const int status = child.wait();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!exited_ && std::chrono::steady_clock::now() < deadline) {
      auto n = tracer_->poll(std::chrono::milliseconds(50));
      if (!n) FAIL(n.error().what());
    }
    (void)tracer_->poll(std::chrono::milliseconds(0));
    return status;
  }

 private:
  std::unique_ptr<tracer> tracer_;
  std::vector<std::shared_ptr<void>> storage_;
  std::vector<event<syscalls::exit_group>> exit_groups_;
  std::uint32_t pid_ = 0;
  bool exited_ = false;
};

}  // namespace ebpfpub::test
