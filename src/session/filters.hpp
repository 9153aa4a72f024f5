#pragma once
// The filter expressions a session was given (tracer::add_filter): parsed and checked
// against the traced plans when added, combined per plan for the code generator.

#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/plan.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel.hpp"

namespace ebpfpub::detail {

class session_filters {
 public:
  /// Parses `text` and checks it against the plan of the syscall it names (which must be
  /// traced already), or against every plan for a filter on header fields only.
  /// `context`: what the programs read of the process context (tracer_options::context),
  /// which the context fields need.
  expected<void> add(std::string_view text, const std::vector<plan>& plans, context_fields context);

  /// Per plan: the `and` of every filter that applies to it (its own and the header
  /// ones); empty when no filter was added at all. Sets of more than
  /// filter::unrolled_set_items values become maps, created and filled here and kept
  /// until the next call.
  expected<std::vector<filter::checked_expression>> for_plans(const std::vector<plan>& plans,
                                                              context_fields context);

  bool empty() const { return added_.empty(); }

  /// The task storage map where a filter on an fd's path walks it (fd_path_scratch), made
  /// by for_plans() when one asks; -1 otherwise.
  int fd_path_scratch_fd() const { return fd_path_scratch_.fd ? fd_path_scratch_.fd.get() : -1; }

  /// Memory of the set maps: the kernel's accounting of those for_plans() made, or before
  /// it, the bytes of the keys and values they will hold (memory_usage::filter_set_bytes).
  std::uint64_t set_map_bytes(const std::vector<plan>& plans, context_fields context) const;
  /// The per-thread scratch value of the fd path filters, when a filter tests `.path`
  /// (memory_usage::path_scratch_bytes); 0 otherwise.
  std::uint32_t path_scratch_bytes(const std::vector<plan>& plans, context_fields context) const;

 private:
  struct added {
    std::string text;
    filter::expression parsed;
    std::string syscall;  ///< empty: a header-only filter, for every syscall
  };
  expected<void> make_set_maps(filter::checked_expression& e);
  // Calls `f` with each added filter checked against each plan it applies to (the ones
  // that check; add() refused the others).
  template <typename F>
  void for_each_checked(const std::vector<plan>& plans, context_fields context, F&& f) const {
    for (const auto& p : plans)
      for (const auto& a : added_) {
        if (!a.syscall.empty() && a.syscall != p.syscall.name) continue;
        if (auto checked = filter::check(a.parsed, p, a.text, context)) f(*checked);
      }
  }

  std::vector<added> added_;
  std::vector<map> set_maps_;
  map fd_path_scratch_;
};

}  // namespace ebpfpub::detail
