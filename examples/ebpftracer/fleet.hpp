#pragma once
// --sink: every event also goes, with host, sequence number and gap records, to the
// library's sinks (include/ebpfpub/sinks/, docs/sinks.md). Without the sinks library
// built, --sink is an error that says so.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <ebpfpub/ebpfpub.hpp>

namespace ebpftracer {

class fleet {
 public:
  /// Opens every URL; an error names the one that failed.
  static ebpfpub::expected<fleet> open(const std::vector<std::string>& urls);
  fleet();
  fleet(fleet&&) noexcept;
  fleet& operator=(fleet&&) noexcept;
  ~fleet();

  bool active() const noexcept;
  /// The event as JSON (with names unless `raw`), with its sequence number.
  void publish(const ebpfpub::dynamic_event& e, bool raw);
  /// After each poll: losses the tracer counted become gap records.
  void account(const ebpfpub::statistics& stats);
  /// SIGHUP: file sinks start a new file.
  void reopen();
  /// At the end: waits up to `timeout` for the sinks to deliver, prints what each did.
  void finish(const ebpfpub::statistics& stats, std::chrono::milliseconds timeout);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace ebpftracer
