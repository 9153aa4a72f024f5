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

/// Adds the programs of plan `index` to the builder's module.
void generate_plan_programs(bpf_builder& builder, const plan& p, std::uint16_t index,
                            const program_maps& maps, const codegen_options& options,
                            std::vector<generated_function>& out);

}  // namespace ebpfpub::detail
