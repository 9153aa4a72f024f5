#pragma once
// A session's loaded programs and their tracepoint links, made together or not at all:
// load() builds into a local object, so a rejection or a failed attach part-way detaches
// and closes everything made before it.

#include <chrono>
#include <optional>
#include <vector>

#include <ebpfpub/error.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "session/dispatch.hpp"
#include "session/kernel_facts.hpp"
#include "session/test_faults.hpp"

namespace ebpfpub::detail {

class session_programs {
 public:
  session_programs() = default;
  session_programs(session_programs&&) noexcept = default;
  session_programs& operator=(session_programs&&) noexcept;
  /// Detaches first (links, then the programs close), several links at a time.
  ~session_programs();

  /// Loads every program, then attaches them: process tracking first (so no child made
  /// meanwhile goes unseen), then exits, then enters. With `tables` (dispatch mode, kept
  /// by the result) the syscalls' programs go in its slots and only the two dispatchers
  /// are attached.
  static expected<session_programs> load(const std::vector<program_code>& code,
                                         const tracepoint_ids& ids, std::optional<dispatch_tables> tables,
                                         injected_faults& faults, std::chrono::nanoseconds& load_time,
                                         std::chrono::nanoseconds& attach_time);

  std::size_t size() const { return programs_.size(); }

 private:
  void release();

  // Released in this order: links, then the program arrays (their slots hold programs),
  // then the programs.
  std::vector<unique_fd> programs_;
  std::optional<dispatch_tables> tables_;
  std::vector<attachment> attachments_;
};

}  // namespace ebpfpub::detail
