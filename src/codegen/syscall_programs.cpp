// From plans to LLVM IR: one enter and one exit program per syscall (one program for
// those sent at enter), all in one module.
//
// The in-flight entry lives in the storage map: enter fills the record header, the
// argument slots and the enter captures; exit adds the return value and exit captures
// and sends the record's used bytes with one copy. Between the two, the record's `size`
// field is the write cursor.

#include <array>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include <ebpfpub/record.hpp>

#include "codegen/argument_source.hpp"
#include "codegen/captures.hpp"
#include "codegen/filter_code.hpp"
#include "codegen/generators.hpp"
#include "codegen/process_context.hpp"
#include "codegen/rate_limit.hpp"
#include "codegen/strategies.hpp"
#include "codegen/summary.hpp"

namespace ebpfpub::detail {
namespace {

struct strategies {
  std::unique_ptr<storage_strategy> storage;
  std::unique_ptr<transport_strategy> transport;
  std::unique_ptr<argument_source> arguments;
};

// duration = now - the enter's timestamp, both bpf_ktime_get_ns(): the call's own time,
// measured in the kernel so that the reader's delay never counts.
void store_duration(bpf_builder& b, llvm::Value* entry) {
  auto* entered = b.CreateLoadAt(b.getInt64Ty(), entry, record::offset::timestamp, "entered");
  b.CreateStoreAt(b.CreateSub(b.CreateKtimeGetNs(), entered), entry, record::offset::duration);
}

// The bytes enter leaves in the entry when they are only the header and the argument
// slots (no process context, every enter capture read at exit); 0 when they vary.
std::uint32_t fixed_enter_bytes(const codegen_options& options, const target& t) {
  if (!options.context.fields.empty()) return 0;
  const auto& plan = *t.p;
  for (std::size_t i = 0; i < plan.captures.size(); ++i) {
    const auto& c = plan.captures[i];
    if (c.when == syscall_phase::enter && !read_at_exit(options, t, static_cast<std::uint8_t>(i), c)) return 0;
  }
  return record::header_size + 8 * static_cast<std::uint32_t>(plan.syscall.arguments.size());
}

// `name` is "enter_<syscall>", or for a program `shared` by plans of one shape
// "enter_shared<N>" (its plan's index is then looked up when it runs).
llvm::Function* enter_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                              const strategies& with, target t, std::uint32_t self_counter,
                              const std::string& name, bool shared) {
  const auto& plan = *t.p;
  auto p = begin_program(b, maps, options, name, true, self_counter, with.arguments.get());
  if (shared) t.runtime_index = with.arguments->run_time_index(p, syscall_phase::enter);
  // What enter keeps must fit the ring slot exit copies it into.
  if (writes_into_slot(options, t)) t.storage_size = t.record_size;
  // exit and exit_group have no result: a result filter never passes them.
  if (plan.emit_at_enter && options.filter.result != result_filter::any) {
    b.CreateBr(p.done);
    return p.finish();
  }
  const auto filter = filter_of(options, t);
  if (plan.emit_at_enter && filter.exit) {
    // A test on the result of a call that has none never passes.
    count_loss(p, t, loss_reason::filtered);
    b.CreateBr(p.done);
    return p.finish();
  }
  // The filter runs in stages, each as soon as what it reads is there, so that a rejected
  // call pays for no work after its stage: a part on the header ids and the arguments
  // first, on the values in hand, before the rate limit's token and before the entry is
  // written (a rejected call at most marks its entry for the exit program, which tests it
  // again instead where it can: target::retest_at_exit); a part on the
  // process context after that block (it has a fixed place in the entry, so it can be
  // read after the argument tests), a part on captured bytes after the captures. All of
  // them before any output space is taken.
  std::array<std::optional<filter::checked_expression>, filter_stage_count> stages;
  if (filter.enter) stages = by_stage(*filter.enter);
  enter_values values{p.pid_tgid};
  if (const auto& numbers = stages[static_cast<std::size_t>(filter_stage::numbers)]) {
    values = numbers_values(p, *with.arguments, plan, *numbers);
    apply_filter_before_entry(p, *with.storage, t, *numbers, values);
  }
  if (options.filter.rate_limit_fd >= 0) emit_rate_limit(p, t);
  auto* entry = entry_or_count(p, *with.storage, t);

  // Header, then the raw argument slots straight from the argument source.
  auto* i8 = b.getInt8Ty();
  const auto argc = static_cast<std::uint32_t>(plan.syscall.arguments.size());
  const std::uint8_t flags = plan.emit_at_enter ? record::sent_at_enter : record::in_flight;
  b.CreateStoreAt(plan_index(p, t, b.getInt16Ty()), entry, record::offset::syscall);
  b.CreateStoreAt(llvm::ConstantInt::get(i8, flags), entry, record::offset::flags);
  b.CreateStoreAt(llvm::ConstantInt::get(i8, argc), entry, record::offset::argument_count);
  b.CreateStoreAt(b.CreateKtimeGetNs(), entry, record::offset::timestamp);
  // pid_tgid is tgid << 32 | pid: the process id is the high half.
  b.CreateStoreAt(b.CreateTrunc(b.CreateLShr(p.pid_tgid, 32), b.getInt32Ty()), entry,
                  record::offset::process_id);
  b.CreateStoreAt(b.CreateTrunc(p.pid_tgid, b.getInt32Ty()), entry, record::offset::thread_id);
  b.CreateStoreAt(values.uid_gid ? values.uid_gid : b.CreateGetCurrentUidGid(), entry, record::offset::user_id);
  b.CreateStoreAt(b.getInt64(0), entry, record::offset::exit_code);
  b.CreateStoreAt(b.getInt64(0), entry, record::offset::duration);  // stays 0 if sent at enter
  const auto slots = argc != 0 && values.arguments.empty() ? with.arguments->arguments(p, plan.syscall)
                                                           : values.arguments;
  for (std::uint32_t i = 0; i < argc; ++i) b.CreateStoreAt(slots[i], entry, record::offset::arguments + 8 * i);
  capture_context cc{p, t, entry};
  const bool mark = !plan.emit_at_enter;
  const auto run_stage = [&](filter_stage s) {
    if (const auto& part = stages[static_cast<std::size_t>(s)]) apply_filter(cc, *part, mark);
  };
  std::uint32_t cursor = record::header_size + 8 * argc;
  if (!options.context.fields.empty()) cursor = emit_process_context(p, entry, cursor);
  b.CreateStore(b.getInt64(cursor), p.cursor);
  run_stage(filter_stage::context);
  emit_captures(cc, syscall_phase::enter);
  run_stage(filter_stage::captures);

  auto* size = b.CreateLoad(b.getInt64Ty(), p.cursor, "size");
  b.CreateStoreAt(b.CreateTrunc(size, b.getInt32Ty()), entry, record::offset::size);
  if (plan.emit_at_enter) send_record(p, *with.transport, t, entry, size);
  b.CreateBr(p.done);
  return p.finish();
}

// The program of exit tracepoint `syscall`: it completes the in-flight entry of the
// first target whose enter left one (usually the syscall's own plan; after a
// successful execveat the kernel reports the exit of execve).
//
// The entry is looked for first: one in flight was left by an enter program that ran the
// guard and the self, process, user, command and cgroup filters on this call already, so
// they run only when none is, to tell an exit without its enter from a call they drop.
// A call rejected at enter (its entry marked) is then released by a task-storage lookup
// and a few loads, and an emitted one saves the guard's read in dispatch mode. Where the
// enter left no mark (target::retest_at_exit), the numbers test runs again before all
// that, and a call it rejects ends there.
llvm::Function* exit_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                             const strategies& with, const std::string& name, std::vector<target> targets,
                             bool shared = false) {
  auto p = begin_program(b, maps, options, name, true, std::nullopt, with.arguments.get(), false);
  // The hash storage is keyed by the thread id; task storage needs no id.
  if (maps.storage_kind == event_map_kind::hash) p.pid_tgid = b.CreateGetCurrentPidTgid();
  if (shared) targets.front().runtime_index = with.arguments->run_time_index(p, syscall_phase::exit);
  for (const auto& t : targets) {
    auto* next = p.block("next_target");
    const auto filter = filter_of(options, t);
    if (t.retest_at_exit) retest_before_claim(p, *with.arguments, t, *numbers_stage(filter));
    const auto [entry, flags] = claim_entry(p, *with.storage, t, next, filter.enter.has_value());
    auto* ret = with.arguments->return_value(p, t.p->syscall);
    if (options.filter.result != result_filter::any) {
      // The entry is released (no longer in flight) and nothing is sent.
      auto* keep = p.block("result_matches");
      const bool want_failed = options.filter.result == result_filter::failed;
      auto* failed = b.CreateICmpSLT(ret, b.getInt64(0));
      b.CreateCondBr(want_failed ? failed : b.CreateNot(failed), keep, p.done);
      b.SetInsertPoint(keep);
    }
    auto* cursor = b.CreateZExt(b.CreateLoadAt(b.getInt32Ty(), entry, record::offset::size),
                                b.getInt64Ty());
    // The record is completed in the entry and copied out (staged), or copied into a
    // ring slot now and completed there, exit's captures read straight into it; or, by
    // the strings' lengths (ring_write::automatic), the first and if a string is too long
    // for it, the second.
    auto complete = [&](bool into_slot, llvm::Value* longer_than_bound) {
      auto* record = into_slot ? reserve_slot(p, t, entry, cursor, fixed_enter_bytes(options, t)) : entry;
      auto* dropped = into_slot ? discard_block(p, record) : nullptr;
      target out = t;
      if (into_slot) out.storage_size = t.record_size;
      b.CreateStoreAt(ret, record, record::offset::exit_code);
      store_duration(b, record);
      b.CreateStore(cursor, p.cursor);
      capture_context cc{p, out, record, ret, nullptr, longer_than_bound};
      emit_retries(cc, flags);
      emit_captures(cc, syscall_phase::exit);
      if (longer_than_bound) {
        auto* staged = p.block("strings_fit");
        auto* slot = p.block("string_too_long");
        b.CreateCondBr(b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), longer_than_bound), b.getInt8(0)), slot, staged);
        b.SetInsertPoint(staged);
        if (filter.exit) apply_filter(cc, *filter.exit, false, nullptr);
        auto* size = b.CreateLoad(b.getInt64Ty(), p.cursor, "size");
        b.CreateStoreAt(b.CreateTrunc(size, b.getInt32Ty()), entry, record::offset::size);
        send_record(p, *with.transport, t, entry, size);
        b.CreateBr(p.done);
        return slot;
      }
      if (filter.exit) apply_filter(cc, *filter.exit, false, dropped);
      auto* size = b.CreateLoad(b.getInt64Ty(), p.cursor, "size");
      b.CreateStoreAt(b.CreateTrunc(size, b.getInt32Ty()), record, record::offset::size);
      if (into_slot) b.CreateRingbufSubmit(record, ring_wakeup(p));
      else send_record(p, *with.transport, t, entry, size);
      b.CreateBr(p.done);
      return static_cast<llvm::BasicBlock*>(nullptr);
    };
    if (slot_by_length(options, t)) {
      auto* longer = p.entry_alloca(b.getInt8Ty(), "longer_than_bound");
      b.CreateStore(b.getInt8(0), longer);
      b.SetInsertPoint(complete(false, longer));
      complete(true, nullptr);
    } else {
      complete(writes_into_slot(options, t), nullptr);
    }
    b.SetInsertPoint(next);
  }
  emit_call_checks(p, true, std::nullopt, with.arguments.get());
  if (options.filter.rate_limit_fd >= 0) emit_rate_limited_exit(p, targets);
  count_loss(p, targets.front(), loss_reason::unmatched_exit);
  b.CreateBr(p.done);
  return p.finish();
}

// What a syscall program's code depends on besides its plan's index: plans of one shape
// can share a program when the index is looked up as it runs.
struct shape {
  std::size_t arguments;
  std::vector<capture> captures;
  bool emit_at_enter;
  int storage_fd;
  std::uint32_t storage_size;
  friend bool operator==(const shape&, const shape&) = default;
};

// Dispatch mode: one enter program per shape, one exit program per shape of the exits that
// complete their own plan alone (the rest, exits that aliases end at, keep their own).
// Generating and loading ~720 programs is most of the start-up of `all`; there are far
// fewer shapes.
template <typename TargetOf>
void generate_shared(bpf_builder& builder, std::span<const plan> plans, const program_maps& maps,
                     const codegen_options& options, const strategies& with,
                     std::map<std::string, std::vector<target>>& exits, std::uint32_t self_counter,
                     TargetOf target_of, std::vector<generated_function>& out) {
  const auto kind = with.arguments->kind();
  auto shape_of = [&](std::size_t i) {
    const auto& p = plans[i];
    return shape{p.syscall.arguments.size(), p.captures, p.emit_at_enter, maps.storage_fd.at(i), maps.storage_size.at(i)};
  };
  std::vector<std::pair<shape, std::vector<std::size_t>>> enters, own_exits;
  auto add = [&](auto& groups, std::size_t i) {
    auto s = shape_of(i);
    // A filter expression is compiled for its plan: with filters, no program is shared.
    if (!options.expressions.empty()) return groups.push_back({std::move(s), {i}});
    for (auto& [key, members] : groups)
      if (key == s) return members.push_back(i);
    groups.push_back({std::move(s), {i}});
  };
  for (std::size_t i = 0; i < plans.size(); ++i) {
    add(enters, i);
    auto own = exits.find(plans[i].syscall.name);
    if (own == exits.end() || own->second.size() != 1) continue;
    add(own_exits, i);
    exits.erase(own);
  }
  auto emit = [&](const auto& groups, bool enter) {
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& members = groups[g].second;
      const bool shared = members.size() > 1;
      const auto& first = plans[members.front()].syscall.name;
      const auto name = shared ? fmt::format("{}_shared{}", enter ? "enter" : "exit", g)
                               : fmt::format("{}_{}", enter ? "enter" : "exit", first);
      std::vector<std::string> names;
      for (auto i : members) names.push_back(plans[i].syscall.name);
      auto* f = enter ? enter_program(builder, maps, options, with, target_of(members.front()), self_counter, name, shared)
                      : exit_program(builder, maps, options, with, name, {target_of(members.front())}, shared);
      out.push_back({f, (enter ? "sys_enter_" : "sys_exit_") + first, kind, std::move(names)});
    }
  };
  emit(enters, true);
  emit(own_exits, false);
  for (const auto& [syscall, targets] : exits)
    out.push_back({exit_program(builder, maps, options, with, "exit_" + syscall, targets), "sys_exit_" + syscall,
                   kind, {syscall}});
}

}  // namespace

std::uint32_t entry_size(const plan& p, std::uint32_t max_captures, std::uint32_t context_bytes) {
  std::uint32_t size = record::header_size + 8 * static_cast<std::uint32_t>(p.syscall.arguments.size()) +
                       context_bytes;
  std::vector<std::uint32_t> reserves;
  for (const auto& c : p.captures) reserves.push_back(capture_reserve(c));
  // Room for the largest `max_captures` of them: any that many fit whole.
  std::sort(reserves.rbegin(), reserves.rend());
  for (std::size_t i = 0; i < reserves.size() && i < max_captures; ++i) size += reserves[i];
  return size;
}

void generate_session_programs(bpf_builder& builder, std::span<const plan> plans,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out) {
  const strategies with{make_storage(maps.storage_kind), make_transport(options.output),
                        make_argument_source(options)};
  const auto kind = with.arguments->kind();
  // Exit tracepoints where another plan's calls may end too (aliases).
  std::set<std::string> aliased;
  for (const auto& p : plans) aliased.insert(p.exit_aliases.begin(), p.exit_aliases.end());
  auto target_of = [&](std::size_t i) {
    // Maps made without record sizes (by hand, in tests): records as large as entries.
    const auto record = i < maps.record_size.size() ? maps.record_size[i] : maps.storage_size.at(i);
    target t{&plans[i], static_cast<std::uint16_t>(i), maps.storage_fd.at(i), maps.storage_size.at(i), record};
    // Summary mode's exit programs always look for the entry (summary.cpp).
    if (options.summary) return t;
    if (const auto numbers = numbers_stage(filter_of(options, t)))
      t.retest_at_exit = retests_at_exit(*with.arguments, plans[i], *numbers, !aliased.contains(plans[i].syscall.name));
    return t;
  };
  // Which plans complete at each exit tracepoint: the syscall's own, then those that
  // name it as an alias. std::map: programs come out in a stable order.
  std::map<std::string, std::vector<target>> exits;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].emit_at_enter) continue;
    auto& own = exits[plans[i].syscall.name];
    own.insert(own.begin(), target_of(i));
  }
  for (std::size_t i = 0; i < plans.size(); ++i)
    for (const auto& alias : plans[i].exit_aliases) exits[alias].push_back(target_of(i));

  const auto self_counter = static_cast<std::uint32_t>(plans.size()) * loss_reason_count +
                            static_cast<std::uint32_t>(global_counter::excluded_self);
  if (with.arguments->shares_programs()) {
    generate_shared(builder, plans, maps, options, with, exits, self_counter, target_of, out);
    return;
  }
  // Summary mode counts instead of sending records: its own programs, same pairing (on
  // per-syscall tracepoints only: the session never dispatches in summary mode).
  auto enter = [&](std::size_t i) {
    return options.summary ? summary_enter_program(builder, maps, options, *with.storage, *with.arguments, target_of(i),
                                                   self_counter)
                           : enter_program(builder, maps, options, with, target_of(i), self_counter,
                                           "enter_" + plans[i].syscall.name, false);
  };
  auto exit = [&](const std::string& syscall, const std::vector<target>& targets) {
    return options.summary ? summary_exit_program(builder, maps, options, *with.storage, syscall, targets)
                           : exit_program(builder, maps, options, with, "exit_" + syscall, targets);
  };
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& name = plans[i].syscall.name;
    out.push_back({enter(i), "sys_enter_" + name, kind, {name}});
    auto own = exits.find(name);
    if (own == exits.end()) continue;
    out.push_back({exit(name, own->second), "sys_exit_" + name, kind, {name}});
    exits.erase(own);
  }
  // Exit tracepoints of syscalls not traced themselves, only as aliases.
  for (const auto& [syscall, targets] : exits)
    out.push_back({exit(syscall, targets), "sys_exit_" + syscall, kind, {syscall}});
}

}  // namespace ebpfpub::detail
