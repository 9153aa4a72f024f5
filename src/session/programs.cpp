#include "session/programs.hpp"

#include <algorithm>
#include <numeric>

namespace ebpfpub::detail {

session_programs& session_programs::operator=(session_programs&& other) noexcept {
  if (this == &other) return *this;
  release();
  programs_ = std::move(other.programs_);
  tables_ = std::move(other.tables_);
  attachments_ = std::move(other.attachments_);
  return *this;
}

session_programs::~session_programs() { release(); }

void session_programs::release() {
  detach_all(attachments_);
  tables_.reset();
  programs_.clear();
}

expected<session_programs> session_programs::load(const std::vector<program_code>& code,
                                                  const tracepoint_ids& ids,
                                                  std::optional<dispatch_tables> tables,
                                                  injected_faults& faults,
                                                  std::chrono::nanoseconds& load_time,
                                                  std::chrono::nanoseconds& attach_time) {
  using clock = std::chrono::steady_clock;
  session_programs s;
  s.tables_ = std::move(tables);
  const auto t0 = clock::now();
  for (const auto& program : code) {
    const bool reject = faults.fail_next(injected_faults::kind::program);
    auto fd = load_program(program.kind, program.name,
                           reject ? injected_faults::rejected_program() : program.instructions,
                           program.attach_btf_id);
    if (!fd) return fd.error();
    s.programs_.push_back(std::move(*fd));
  }
  if (s.tables_)
    if (auto ok = fill_dispatch_tables(*s.tables_, code, s.programs_); !ok) return ok.error();
  const auto t1 = clock::now();
  load_time = t1 - t0;

  // Exits before enters: an enter whose exit is not attached yet would leave its entry
  // in flight, lost without a count; an exit without its enter is counted. Process
  // tracking before all of them, so no child created meanwhile goes unseen.
  // Dispatch mode attaches only the dispatchers; the syscalls' programs are in the slots.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < code.size(); ++i)
    if (code[i].kind == program_kind::tracepoint || code[i].tracepoint.starts_with("raw_syscalls/"))
      order.push_back(i);
  auto rank = [&](std::size_t i) {
    const auto& name = code[i].tracepoint;
    return name.starts_with("sched/") ? 0
           : name.starts_with("sys_exit_") || name == "raw_syscalls/sys_exit" ? 1
                                                                                : 2;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  for (auto i : order) {
    const auto& name = code[i].tracepoint;
    const bool fail = faults.fail_next(injected_faults::kind::attach);
    if (code[i].kind != program_kind::tracepoint) {
      // "raw_syscalls/sys_exit": raw tracepoints are named without their category. A
      // tp_btf program was named its tracepoint at load; a name makes the kernel refuse.
      const auto tracepoint = name.substr(13);
      auto a = fail ? attach_raw_tracepoint(s.programs_[i].get(), "ebpfpub_missing")
               : code[i].kind == program_kind::btf_tracepoint ? attach_btf_tracepoint(s.programs_[i].get(), tracepoint)
                                                                : attach_raw_tracepoint(s.programs_[i].get(), tracepoint);
      if (!a) return a.error();
      s.attachments_.push_back(std::move(*a));
      continue;
    }
    const auto id = fail ? injected_faults::missing_tracepoint : ids.at(name);
    auto a = attach_tracepoint(s.programs_[i].get(), id, name);
    if (!a) return a.error();
    s.attachments_.push_back(std::move(*a));
  }
  attach_time = clock::now() - t1;
  return s;
}

}  // namespace ebpfpub::detail
