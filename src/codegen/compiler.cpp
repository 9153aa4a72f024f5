// One LLVM module for every program of a session, compiled in memory by the BPF back end;
// each program's instructions are then read from its own ELF section.

#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/SROA.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

#include "codegen/argument_source.hpp"
#include "codegen/codegen.hpp"
#include "codegen/generators.hpp"

extern "C" {
void LLVMInitializeBPFTargetInfo();
void LLVMInitializeBPFTarget();
void LLVMInitializeBPFTargetMC();
void LLVMInitializeBPFAsmPrinter();
}

namespace ebpfpub::detail {
namespace {

const llvm::Target* bpf_target(std::string& message) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeBPFTargetInfo();
    LLVMInitializeBPFTarget();
    LLVMInitializeBPFTargetMC();
    LLVMInitializeBPFAsmPrinter();
  });
  return llvm::TargetRegistry::lookupTarget("bpfel", message);
}

// A short pipeline instead of -O2: the IR is straight-line code with stack slots and
// no calls or loops, so promoting the slots and folding is what pays; -O2's other
// passes cost most of the start-up time (320 ms of 550 for the default set) and gain
// nothing measurable here.
void optimize(llvm::Module& module, llvm::TargetMachine& machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::FunctionPassManager passes;
  passes.addPass(llvm::SROAPass(llvm::SROAOptions::ModifyCFG));
  passes.addPass(llvm::EarlyCSEPass());
  passes.addPass(llvm::InstCombinePass());
  passes.addPass(llvm::SimplifyCFGPass());
  llvm::ModulePassManager module_passes;
  module_passes.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(passes)));
  module_passes.run(module, mam);
}

// A tp_btf program is typed for the tracepoint it runs on: its own, or for one a
// dispatcher tail-calls, the dispatcher's (enter programs sys_enter's, exits sys_exit's).
std::uint32_t attach_btf_id(const generated_function& f, const dispatch_layout& d) {
  if (f.kind != program_kind::btf_tracepoint) return 0;
  const bool enter = f.tracepoint.starts_with("sys_enter_") || f.tracepoint == "raw_syscalls/sys_enter";
  return enter ? d.enter_btf_id : d.exit_btf_id;
}

}  // namespace

expected<generated_code> generate_programs(std::span<const plan> plans, const program_maps& maps,
                                           const codegen_options& options) {
  std::string message;
  const auto* target = bpf_target(message);
  if (!target)
    return error(errc::unsupported, fmt::format("LLVM has no BPF back end: {}; install "
                                                "Debian's llvm-19-dev", message));
  // v3: 32-bit jumps and ALU ops, supported since Linux 5.1.
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      "bpfel", "v3", "", llvm::TargetOptions(), std::nullopt, std::nullopt,
      llvm::CodeGenOptLevel::Less));

  llvm::LLVMContext context;
  llvm::Module module("ebpfpub", context);
  module.setTargetTriple("bpfel");
  module.setDataLayout(machine->createDataLayout());

  bpf_builder builder(context, module);
  std::vector<generated_function> functions;
  generate_session_programs(builder, plans, maps, options, functions);
  if (options.dispatch.enabled) generate_dispatchers(builder, options, functions);
  if (options.filter.process_map_fd >= 0 && options.filter.follow_children)
    generate_process_tracking(builder, static_cast<std::uint32_t>(plans.size()) * loss_reason_count,
                              maps, options, functions);

  std::string verifier_output;
  llvm::raw_string_ostream verifier_stream(verifier_output);
  if (llvm::verifyModule(module, &verifier_stream))
    return error(errc::internal, fmt::format("generated IR is invalid: {}", verifier_output));

  optimize(module, *machine);

  generated_code result;
  if (options.keep_ir) {
    llvm::raw_string_ostream ir(result.ir);
    module.print(ir, nullptr);
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream stream(object);
    llvm::legacy::PassManager passes;
    if (machine->addPassesToEmitFile(passes, stream, nullptr, llvm::CodeGenFileType::ObjectFile))
      return error(errc::internal, "the BPF back end cannot emit an object file");
    passes.run(module);
  }

  auto file = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(llvm::StringRef(object.data(), object.size()), "ebpfpub"));
  if (!file)
    return error(errc::internal, fmt::format("cannot read the compiled object: {}",
                                             llvm::toString(file.takeError())));
  for (const auto& f : functions) {
    const auto name = f.function->getName().str();
    const auto wanted = std::string(section_prefix(f.kind)) + "/" + name;
    bool found = false;
    for (const auto& section : (*file)->sections()) {
      auto section_name = section.getName();
      if (!section_name || *section_name != wanted) continue;
      if (section.relocations().begin() != section.relocations().end())
        return error(errc::internal, fmt::format("program {} needs relocations", name));
      auto contents = section.getContents();
      if (!contents)
        return error(errc::internal, fmt::format("cannot read section {}", name));
      program_code code{name, f.tracepoint, f.kind, f.syscalls, {}, attach_btf_id(f, options.dispatch)};
      code.instructions.resize(contents->size() / sizeof(bpf_insn));
      std::memcpy(code.instructions.data(), contents->data(),
                  code.instructions.size() * sizeof(bpf_insn));
      // Kernel function calls went out as helper calls to marked ids (CreateKfuncCall).
      for (auto& insn : code.instructions)
        if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 &&
            static_cast<std::uint32_t>(insn.imm) >= bpf_builder::kfunc_call_marker) {
          insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(insn.imm) - bpf_builder::kfunc_call_marker);
          insn.src_reg = BPF_PSEUDO_KFUNC_CALL;
        }
      result.programs.push_back(std::move(code));
      found = true;
      break;
    }
    if (!found) return error(errc::internal, fmt::format("no section for program {}", name));
  }
  return result;
}

}  // namespace ebpfpub::detail
