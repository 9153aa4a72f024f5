// The two programs that keep the process filter's map current: children of traced
// processes join it at fork, threads and processes leave it at exit.

#include "codegen/generators.hpp"
#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {
namespace {

// A traced process's child joins the map (threads add their id too; it is never looked
// up, and leaves again at the thread's exit).
llvm::Function* track_fork(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                           std::uint32_t counters_base) {
  auto p = begin_program(b, maps, options, "track_fork", false);
  const auto& f = options.filter;
  b.CreateStore(b.CreateTrunc(b.CreateLShr(p.pid_tgid, 32), b.getInt32Ty()), p.key);
  auto* add = p.block("parent_traced");
  b.CreateCondBr(b.CreateIsNull(b.CreateMapLookup(f.process_map_fd, p.key)), p.done, add);
  b.SetInsertPoint(add);
  auto* child = p.entry_alloca(b.getInt32Ty(), "child");
  b.CreateStore(b.CreateLoadAt(b.getInt32Ty(), p.ctx, f.fork_child_pid, "child_pid"), child);
  auto* one = p.entry_alloca(b.getInt8Ty(), "one");
  b.CreateStore(b.getInt8(1), one);
  auto* result = b.CreateMapUpdate(f.process_map_fd, child, one, BPF_ANY);
  auto* full = p.block("map_full");
  b.CreateCondBr(b.CreateICmpNE(result, b.getInt64(0)), full, p.done);
  b.SetInsertPoint(full);
  count_at(p, counters_base + static_cast<std::uint32_t>(global_counter::untracked_children));
  b.CreateBr(p.done);
  return p.finish();
}

// A thread's own key goes; the process's goes when its last thread does.
llvm::Function* track_exit(bpf_builder& b, const program_maps& maps, const codegen_options& options) {
  auto p = begin_program(b, maps, options, "track_exit", false);
  const auto& f = options.filter;
  auto* tgid = b.CreateTrunc(b.CreateLShr(p.pid_tgid, 32), b.getInt32Ty(), "tgid");
  auto* pid = b.CreateLoadAt(b.getInt32Ty(), p.ctx, f.exit_pid, "pid");
  auto* thread = p.block("thread_exit");
  auto* group = p.block("check_group");
  b.CreateCondBr(b.CreateICmpNE(pid, tgid), thread, group);
  b.SetInsertPoint(thread);
  b.CreateStore(pid, p.key);
  b.CreateMapDelete(f.process_map_fd, p.key);
  b.CreateBr(group);
  b.SetInsertPoint(group);
  auto* dead = b.CreateLoadAt(b.getInt8Ty(), p.ctx, f.exit_group_dead, "group_dead");
  auto* remove = p.block("process_exit");
  b.CreateCondBr(b.CreateICmpNE(dead, b.getInt8(0)), remove, p.done);
  b.SetInsertPoint(remove);
  b.CreateStore(tgid, p.key);
  b.CreateMapDelete(f.process_map_fd, p.key);
  b.CreateBr(p.done);
  return p.finish();
}

}  // namespace

void generate_process_tracking(bpf_builder& builder, std::uint32_t counters_base,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out) {
  out.push_back({track_fork(builder, maps, options, counters_base), "sched/sched_process_fork"});
  out.push_back({track_exit(builder, maps, options), "sched/sched_process_exit"});
}

}  // namespace ebpfpub::detail
