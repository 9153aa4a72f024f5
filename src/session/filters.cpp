#include "session/filters.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ebpfpub::detail {

expected<void> session_filters::add(std::string_view text, const std::vector<plan>& plans) {
  auto parsed = filter::parse(text);
  if (!parsed) return parsed.error();
  auto syscall = filter::syscall_of(*parsed, text);
  if (!syscall) return syscall.error();
  if (!syscall->empty()) {
    const auto it = std::find_if(plans.begin(), plans.end(),
                                 [&](const plan& p) { return p.syscall.name == *syscall; });
    if (it == plans.end())
      return error(errc::invalid_argument,
                   fmt::format("filter: {} is not traced; trace it before adding a filter on it\n{}", *syscall,
                               filter::caret(text, {0, text.size()})));
    if (auto checked = filter::check(*parsed, *it, text); !checked) return checked.error();
  } else {
    for (const auto& p : plans)
      if (auto checked = filter::check(*parsed, p, text); !checked) return checked.error();
  }
  added_.push_back({std::string(text), std::move(*parsed), std::move(*syscall)});
  return {};
}

expected<std::vector<filter::checked_expression>> session_filters::for_plans(const std::vector<plan>& plans) const {
  std::vector<filter::checked_expression> out;
  if (added_.empty()) return out;
  for (const auto& p : plans) {
    // Several filters on one syscall must all pass: an `and` of them.
    filter::checked_expression all;
    all.type = filter::expression::kind::all_of;
    for (const auto& f : added_) {
      if (!f.syscall.empty() && f.syscall != p.syscall.name) continue;
      auto checked = filter::check(f.parsed, p, f.text);
      if (!checked) return checked.error();
      all.at_enter = all.at_enter && checked->at_enter;
      all.operands.push_back(std::move(*checked));
    }
    out.push_back(std::move(all));
  }
  return out;
}

}  // namespace ebpfpub::detail
