// Dispatch mode's two attached programs. raw_syscalls:sys_enter passes (regs, id) and
// sys_exit (regs, ret): the enter dispatcher has the call's number in its context, the
// exit dispatcher reads it from regs->orig_ax (what syscall_get_nr() returns, and so the
// number by which the kernel picks the sys_exit_<name> tracepoint): a plain load as a
// tp_btf program, a bpf_probe_read_kernel as a raw tracepoint one. Each then tail-calls
// the program in that slot of its program array; an untraced syscall's slot is empty,
// the tail call falls through, and the call costs no more than this.

#include "codegen/argument_source.hpp"
#include "codegen/generators.hpp"

namespace ebpfpub::detail {
namespace {

llvm::Function* dispatcher(bpf_builder& b, const char* name, int programs_fd, const dispatch_layout* exit_layout,
                           program_kind kind) {
  auto* type = llvm::FunctionType::get(b.getInt32Ty(), {b.getPtrTy()}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, b.module());
  f->setSection(std::string(section_prefix(kind)) + "/" + name);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  auto* ctx = f->getArg(0);
  ctx->setName("ctx");
  b.SetInsertPoint(llvm::BasicBlock::Create(b.getContext(), "entry", f));
  auto* number = exit_layout ? exit_syscall_number(b, ctx, *exit_layout, b.CreateAlloca(b.getInt64Ty(), nullptr, "orig_ax"))
                             : b.CreateLoadAt(b.getInt64Ty(), ctx, 8, "id");  // args[1]
  // The index is a u32: a negative number (-1: a call skipped by ptrace or seccomp) is
  // then far beyond the array, like an x32 call's, and finds no program.
  b.CreateTailCall(ctx, programs_fd, b.CreateZExt(b.CreateTrunc(number, b.getInt32Ty()), b.getInt64Ty()));
  b.CreateRet(b.getInt32(0));
  return f;
}

}  // namespace

void generate_dispatchers(bpf_builder& builder, const codegen_options& options,
                          std::vector<generated_function>& out) {
  const auto& d = options.dispatch;
  // The kind of the programs they tail-call: a program array takes programs of one type
  // and attach type (and, for tp_btf, one attach target), the first program's.
  const auto kind = make_argument_source(options)->kind();
  out.push_back({dispatcher(builder, "dispatch_exit", d.exit_programs_fd, &d, kind), "raw_syscalls/sys_exit", kind});
  out.push_back({dispatcher(builder, "dispatch_enter", d.enter_programs_fd, nullptr, kind), "raw_syscalls/sys_enter",
                 kind});
}

}  // namespace ebpfpub::detail
