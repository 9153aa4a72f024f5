#pragma once
// The tracer's state: what to trace, and the kernel objects that trace it. The facade
// (src/tracer.cpp) only calls in.
//
// prepare() and start() are transactions: each builds its maps, programs and links into
// local objects and keeps them only when everything succeeded. A failed start() leaves
// the session as it was before the call (with no map, when start() made them itself),
// so a second start() begins afresh.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <ebpfpub/tracer.hpp>

#include "session/filters.hpp"
#include "codegen/codegen.hpp"
#include "session/maps.hpp"
#include "session/programs.hpp"
#include "session/reader.hpp"
#include "session/statistics.hpp"
#include "session/summary_maps.hpp"

namespace ebpfpub::detail {

class session {
 public:
  session(tracer_options options, ebpfpub::tracefs fs);
  ~session();

  const tracer_options& options() const { return options_; }
  const ebpfpub::tracefs& fs() const { return fs_; }
  const std::vector<plan>& plans() const { return deliveries_.plans(); }
  const std::string& ir() const { return ir_; }
  const path_cache* paths() const { return deliveries_.paths(); }

  expected<void> add(plan p, deliveries::handler handler);
  expected<void> add_filter(std::string_view text);
  expected<void> prepare();
  expected<void> add_process(std::uint32_t pid);
  expected<startup_report> start();
  expected<std::size_t> poll(std::chrono::milliseconds timeout);
  void stop();
  statistics stats() const;
  expected<ebpfpub::summary_report> summary() const;
  memory_usage memory() const;

 private:
  expected<void> prepare(injected_faults& faults);
  expected<startup_report> start_programs(injected_faults& faults, startup_report report);
  /// Bytes each in-flight entry holds for the process context block (0 without one).
  std::uint32_t context_bytes() const;

  tracer_options options_;
  ebpfpub::tracefs fs_;
  deliveries deliveries_;
  session_filters filters_;
  // Destroyed in reverse: the reader, then links and programs, then maps.
  std::optional<map_sizes> sizes_;
  std::optional<session_maps> maps_;
  std::optional<summary_maps> summary_maps_;  // summary mode only
  session_programs programs_;
  std::unique_ptr<reader> reader_;
  std::string ir_;
  context_layout context_;
  bool started_ = false;
};

}  // namespace ebpfpub::detail
