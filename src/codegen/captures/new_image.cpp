// exec_image: after a successful execve the old image's pointers lead nowhere, but the
// kernel copied the same bytes to the new image's stack, where mm_struct says they are.

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
namespace {

// *(u64 *)(base + offset), read from kernel memory, or 0.
llvm::Value* read_kernel_u64(program& p, llvm::Value* base, std::uint32_t offset, const char* name) {
  auto& b = p.b;
  auto* slot = p.entry_alloca(b.getInt64Ty(), name);
  b.CreateStore(b.getInt64(0), slot);
  b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
  return b.CreateLoad(b.getInt64Ty(), slot, name);
}

}  // namespace

// The argv or envp block (NUL-separated strings, as the decoder wants them) or the file
// name, from the stack of the image execve just started.
void emit_from_new_image(capture_context& cc, std::uint8_t index, const capture& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& layout = p.options.exec;
  auto* mm = read_kernel_u64(p, b.CreateGetCurrentTask(), layout.task_mm, "mm");
  if (c.image == exec_image::filename) {
    // The name sits right after the environment strings.
    emit_string(cc, index, c, read_kernel_u64(p, mm, layout.env_end, "env_end"), false);
    return;
  }
  const bool argv = c.image == exec_image::argv;
  auto* start = read_kernel_u64(p, mm, argv ? layout.arg_start : layout.env_start, "block_start");
  auto* end = read_kernel_u64(p, mm, argv ? layout.arg_end : layout.env_end, "block_end");
  emit_bytes(cc, index, c, start, b.CreateSub(end, start));
}

}  // namespace ebpfpub::detail
