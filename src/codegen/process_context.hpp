#pragma once
// The process context block of a record (record.hpp): what the enter program reads from
// the current task when the session asks for context.

#include <cstdint>

#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {

/// Writes the context block (capture header and data) into `entry` at byte `at`, a
/// constant offset, and returns where the captures that follow begin. Fields not
/// selected, and any the kernel could not read (a task without mm), are zero.
std::uint32_t emit_process_context(program& p, llvm::Value* entry, std::uint32_t at);

}  // namespace ebpfpub::detail
