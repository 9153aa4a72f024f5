#include "codegen/skeleton.hpp"

#include <cstring>

#include <llvm/IR/Constants.h>

#include "codegen/argument_source.hpp"

namespace ebpfpub::detail {
namespace {

// Continues only for calls the filters let through. Exit programs check them too, so a
// call filtered out at enter is not counted as an exit without its enter.
void apply_filters(program& p) {
  auto& b = p.b;
  const auto& f = p.options.filter;
  auto pass_if = [&](llvm::Value* condition, const char* name) {
    auto* pass = p.block(name);
    b.CreateCondBr(condition, pass, p.done);
    b.SetInsertPoint(pass);
  };
  if (f.process_map_fd >= 0) {
    b.CreateStore(b.CreateTrunc(b.CreateLShr(p.pid_tgid, 32), b.getInt32Ty()), p.key);
    pass_if(b.CreateIsNotNull(b.CreateMapLookup(f.process_map_fd, p.key)), "process_traced");
  }
  if (!f.user_ids.empty()) {
    auto* uid = b.CreateTrunc(b.CreateGetCurrentUidGid(), b.getInt32Ty(), "uid");
    llvm::Value* any = b.getFalse();
    for (auto id : f.user_ids) any = b.CreateOr(any, b.CreateICmpEQ(uid, b.getInt32(id)));
    pass_if(any, "user_matches");
  }
  if (!f.commands.empty()) {
    auto* comm = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), 2), "comm");
    b.CreateStore(llvm::ConstantAggregateZero::get(llvm::ArrayType::get(b.getInt64Ty(), 2)), comm);
    b.CreateGetCurrentComm(comm, 16);
    auto* low = b.CreateLoadAt(b.getInt64Ty(), comm, std::uint64_t{0});
    auto* high = b.CreateLoadAt(b.getInt64Ty(), comm, 8);
    llvm::Value* any = b.getFalse();
    for (const auto& name : f.commands) {
      std::uint64_t words[2];
      std::memcpy(words, name.data(), 16);
      any = b.CreateOr(any, b.CreateAnd(b.CreateICmpEQ(low, b.getInt64(words[0])),
                                        b.CreateICmpEQ(high, b.getInt64(words[1]))));
    }
    pass_if(any, "command_matches");
  }
  if (f.cgroup_id != 0) {
    // The cgroup itself or one below it: its ancestor at the target's depth is the
    // target (0 when the caller's cgroup is shallower).
    auto* ancestor = b.CreateGetCurrentAncestorCgroupId(f.cgroup_level);
    pass_if(b.CreateICmpEQ(ancestor, b.getInt64(f.cgroup_id)), "cgroup_matches");
  }
}

}  // namespace

llvm::BasicBlock* program::block(const char* name) {
  return llvm::BasicBlock::Create(b.getContext(), name, function);
}

llvm::Value* program::entry_alloca(llvm::Type* type, const char* name) {
  auto& entry = function->getEntryBlock();
  llvm::IRBuilder<> at(&entry, entry.getFirstInsertionPt());
  return at.CreateAlloca(type, nullptr, name);
}

llvm::Function* program::finish() {
  b.SetInsertPoint(done);
  b.CreateRet(b.getInt32(0));
  // Blocks were created in order of need; put `done` last for readable IR.
  done->moveAfter(&function->back());
  return function;
}

program begin_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                      const std::string& name, bool with_filters,
                      std::optional<std::uint32_t> self_counter, const argument_source* source,
                      bool checks_first) {
  program p{b, maps, options};
  auto* type = llvm::FunctionType::get(b.getInt32Ty(), {b.getPtrTy()}, false);
  p.function = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, b.module());
  const auto kind = source ? source->kind() : program_kind::tracepoint;
  p.function->setSection(std::string(section_prefix(kind)) + "/" + name);
  p.function->addFnAttr(llvm::Attribute::NoUnwind);
  p.ctx = p.function->getArg(0);
  p.ctx->setName("ctx");

  b.SetInsertPoint(p.block("entry"));
  p.cursor = b.CreateAlloca(b.getInt64Ty(), nullptr, "cursor");
  p.key = b.CreateAlloca(b.getInt32Ty(), nullptr, "counter_key");
  p.thread_key = b.CreateAlloca(b.getInt32Ty(), nullptr, "thread_key");
  p.length_slot = b.CreateAlloca(b.getInt32Ty(), nullptr, "length_slot");
  p.done = p.block("done");
  if (checks_first) emit_call_checks(p, with_filters, self_counter, source);
  return p;
}

void emit_call_checks(program& p, bool with_filters, std::optional<std::uint32_t> self_counter,
                      const argument_source* source) {
  auto& b = p.b;
  const auto& options = p.options;
  if (source) source->guard(p);
  if (!p.pid_tgid) p.pid_tgid = b.CreateGetCurrentPidTgid();
  if (!with_filters) return;
  if (options.self_tgid != 0) {
    // The tracer's own calls (its reads of the ring buffer) are never recorded.
    auto* work = p.block("work");
    // Counted, so that a library user who traces their own calls learns why none arrive.
    auto* self = b.CreateICmpEQ(b.CreateLShr(p.pid_tgid, 32), b.getInt64(options.self_tgid));
    auto* excluded = self_counter ? p.block("excluded_self") : p.done;
    b.CreateCondBr(self, excluded, work);
    if (self_counter) {
      b.SetInsertPoint(excluded);
      count_at(p, *self_counter);
      b.CreateBr(p.done);
    }
    b.SetInsertPoint(work);
  }
  apply_filters(p);
}

llvm::Value* plan_index(program& p, const target& t, llvm::Type* type) {
  if (!t.runtime_index) return llvm::ConstantInt::get(type, t.index);
  return p.b.CreateZExtOrTrunc(t.runtime_index, type);
}

void count_at(program& p, std::uint32_t slot) { count_at(p, p.b.getInt32(slot)); }

void count_at(program& p, llvm::Value* slot) {
  auto& b = p.b;
  b.CreateStore(slot, p.key);
  auto* counter = b.CreateMapLookup(p.maps.counters_fd, p.key);
  auto* add = p.block("count");
  auto* after = p.block("counted");
  b.CreateCondBr(b.CreateIsNull(counter), after, add);
  b.SetInsertPoint(add);
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, counter, b.getInt64(1), llvm::MaybeAlign(8),
                    llvm::AtomicOrdering::Monotonic);
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

void count_loss(program& p, const target& t, loss_reason reason) {
  auto& b = p.b;
  count_at(p, b.CreateAdd(b.CreateMul(plan_index(p, t, b.getInt32Ty()), b.getInt32(loss_reason_count)),
                          b.getInt32(static_cast<std::uint32_t>(reason))));
}

llvm::BasicBlock* branch_on_fault(program& p, llvm::Value* result, const char* ok_name,
                                  const char* fault_name) {
  auto& b = p.b;
  auto* ok = p.block(ok_name);
  auto* fault = p.block(fault_name);
  b.CreateCondBr(b.CreateICmpSLT(result, b.getInt64(0)), fault, ok);
  b.SetInsertPoint(ok);
  return fault;
}

std::uint64_t mask_for(std::uint32_t n) {
  std::uint64_t mask = 1;
  while (mask < n) mask = (mask << 1) | 1;
  return mask;
}

}  // namespace ebpfpub::detail
