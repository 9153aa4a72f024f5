#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <ebpfpub/plan.hpp>

#include "codegen/bpf_builder.hpp"
#include "codegen/codegen.hpp"

namespace ebpfpub::detail {

struct generated_function {
  llvm::Function* function;
  std::string tracepoint;
};

/// Adds every plan's enter program and one exit program per exit tracepoint to the
/// builder's module.
void generate_session_programs(bpf_builder& builder, std::span<const plan> plans,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out);

}  // namespace ebpfpub::detail
