#include "codegen/argument_source.hpp"

#include <algorithm>

namespace ebpfpub::detail {
namespace {

// sys_enter_<name>: the arguments are the record's fields (each 8 bytes) at the offsets
// its format gives; sys_exit_<name>: `ret` at its offset.
class tracepoint_record final : public argument_source {
 public:
  program_kind kind() const override { return program_kind::tracepoint; }
  void guard(program&) const override {}
  std::vector<llvm::Value*> arguments(program& p, const syscall_description& s) const override {
    std::vector<llvm::Value*> values;
    for (const auto& a : s.arguments)
      values.push_back(p.b.CreateLoadAt(p.b.getInt64Ty(), p.ctx, a.offset, a.name));
    return values;
  }
  llvm::Value* return_value(program& p, const syscall_description& s) const override {
    return p.b.CreateLoadAt(p.b.getInt64Ty(), p.ctx, s.return_offset, "ret");
  }
  bool arguments_at_exit() const override { return false; }
  // One tracepoint, one syscall: its program knows its plan.
  bool shares_programs() const override { return false; }
  llvm::Value* run_time_index(program& p, syscall_phase) const override { return p.b.getInt32(0); }
};

// raw_syscalls:sys_enter(struct pt_regs *regs, long id) and sys_exit(regs, long ret):
// the context is those two arguments, a u64 each. As tp_btf programs (layout.enter_btf_id
// set) `regs` is typed by the tracepoint's BTF and the task by bpf_get_current_task_btf(),
// so every register and the thread's status are plain loads (~1 ns each); as raw
// tracepoint programs they are kernel memory only bpf_probe_read_kernel may read (~30 ns
// a call): one read then covers every argument register the syscall uses. Either way the
// values are the full 64-bit ones the tracepoint's record holds.
class syscall_registers final : public argument_source {
 public:
  explicit syscall_registers(const dispatch_layout& layout) : layout_(layout) {}
  program_kind kind() const override {
    return typed() ? program_kind::btf_tracepoint : program_kind::raw_tracepoint;
  }

  void guard(program& p) const override {
    // A 32-bit call (TS_COMPAT) is numbered in the ia32 table, where the same number is
    // another syscall; the syscall tracepoints skip those calls, so this does too.
    constexpr std::uint32_t ts_compat = 0x0002;  // arch/x86/include/asm/thread_info.h
    auto& b = p.b;
    llvm::Value* status = nullptr;
    if (typed()) {
      status = b.CreateLoadAt(b.getInt32Ty(), b.CreateGetCurrentTaskBtf(), layout_.thread_status, "thread_status");
    } else {
      auto* slot = p.entry_alloca(b.getInt32Ty(), "thread_status");
      b.CreateStore(b.getInt32(0), slot);
      b.CreateProbeReadKernel(slot, 4, b.CreateGEP(b.getInt8Ty(), b.CreateIntToPtr(b.CreateGetCurrentTask(), b.getPtrTy()),
                                                   b.getInt64(layout_.thread_status)));
      status = b.CreateLoad(b.getInt32Ty(), slot);
    }
    auto* native = p.block("native_call");
    auto* compat = b.CreateAnd(status, b.getInt32(ts_compat));
    b.CreateCondBr(b.CreateICmpNE(compat, b.getInt32(0)), p.done, native);
    b.SetInsertPoint(native);
  }

  std::vector<llvm::Value*> arguments(program& p, const syscall_description& s) const override {
    auto& b = p.b;
    const auto count = std::min<std::size_t>(s.arguments.size(), layout_.argument_registers.size());
    std::vector<llvm::Value*> values;
    if (count > 0) {
      auto* regs = syscall_regs(b, p.ctx);
      llvm::Value* base = regs;
      std::uint32_t low = 0;
      if (!typed()) {
        const auto first = layout_.argument_registers.begin();
        low = *std::min_element(first, first + count);
        const auto high = *std::max_element(first, first + count) + 8;
        base = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), (high - low) / 8), "registers");
        b.CreateProbeReadKernel(base, high - low, b.CreateGEP(b.getInt8Ty(), regs, b.getInt64(low)));
      }
      for (std::size_t i = 0; i < count; ++i)
        values.push_back(b.CreateLoadAt(b.getInt64Ty(), base, layout_.argument_registers[i] - low,
                                        s.arguments[i].name));
    }
    // A syscall has at most six arguments; a description with more has none to read.
    for (std::size_t i = count; i < s.arguments.size(); ++i) values.push_back(b.getInt64(0));
    return values;
  }

  llvm::Value* return_value(program& p, const syscall_description&) const override {
    return p.b.CreateLoadAt(p.b.getInt64Ty(), p.ctx, 8, "ret");  // args[1]
  }
  bool arguments_at_exit() const override { return true; }

  bool shares_programs() const override { return layout_.plan_index_fd >= 0; }

  // At enter the number is the raw tracepoint's `id` (args[1]); at exit, regs->orig_ax,
  // as the exit dispatcher read it. The plan comes from the session's number -> index array.
  llvm::Value* run_time_index(program& p, syscall_phase phase) const override {
    auto& b = p.b;
    auto* number = phase == syscall_phase::enter
                       ? b.CreateLoadAt(b.getInt64Ty(), p.ctx, 8, "id")
                       : exit_syscall_number(b, p.ctx, layout_, p.entry_alloca(b.getInt64Ty(), "orig_ax"));
    auto* key = p.entry_alloca(b.getInt32Ty(), "number_key");
    b.CreateStore(b.CreateTrunc(number, b.getInt32Ty()), key);
    auto* value = b.CreateMapLookup(layout_.plan_index_fd, key);
    auto* found = p.block("plan_found");
    b.CreateCondBr(b.CreateIsNull(value), p.done, found);
    b.SetInsertPoint(found);
    return b.CreateLoad(b.getInt32Ty(), value, "plan_index");
  }

 private:
  bool typed() const { return layout_.enter_btf_id != 0; }
  dispatch_layout layout_;
};

}  // namespace

std::unique_ptr<argument_source> make_argument_source(const codegen_options& options) {
  if (options.dispatch.enabled) return std::make_unique<syscall_registers>(options.dispatch);
  return std::make_unique<tracepoint_record>();
}

llvm::Value* syscall_regs(bpf_builder& b, llvm::Value* ctx) {
  return b.CreateLoadAt(b.getPtrTy(), ctx, std::uint64_t{0}, "regs");  // args[0]
}

llvm::Value* exit_syscall_number(bpf_builder& b, llvm::Value* ctx, const dispatch_layout& layout,
                                 llvm::Value* slot) {
  auto* regs = syscall_regs(b, ctx);
  if (layout.enter_btf_id != 0) return b.CreateLoadAt(b.getInt64Ty(), regs, layout.orig_ax, "id");
  b.CreateStore(b.getInt64(-1), slot);  // stays out of range if the read fails
  b.CreateProbeReadKernel(slot, 8, b.CreateGEP(b.getInt8Ty(), regs, b.getInt64(layout.orig_ax)));
  return b.CreateLoad(b.getInt64Ty(), slot, "id");
}

const char* section_prefix(program_kind kind) {
  switch (kind) {
    case program_kind::raw_tracepoint: return "raw_tracepoint";
    case program_kind::btf_tracepoint: return "tp_btf";
    case program_kind::tracepoint: break;
  }
  return "tracepoint";
}

}  // namespace ebpfpub::detail
