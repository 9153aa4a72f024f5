// The dentry walk: from a directory (a dentry on a mount) up to the caller's root, the
// way the kernel's d_path/prepend_path does it, writing each component's name leaf first.
// Reusable: base directories (base_directory.cpp) start it at the cwd or a directory fd;
// an fd's path filter (filter_fd_path.cpp) starts it at the file's f_path and has it
// prepend each component as "/name" before the previous one, as prepend_path does, so
// that the path ends up in order.
//
// A loop, not unrolled: the verifier walks it step by step (at most max_steps), and the
// two ways a step goes on (a name, or a mount crossing) meet again at its head with
// states it prunes (see the counters below). Every
// read is bpf_probe_read_kernel: a tracepoint program runs under RCU, which keeps the
// dentries and mounts alive while we read (a rename racing with the walk may show a
// mix of old and new names, as getcwd under rename_lock would not).

#include <algorithm>

#include <ebpfpub/resolved_path.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
namespace {

namespace layout = record::base_directory_layout;

llvm::Value* state_value(program& p, path_base_state s) { return p.b.getInt8(static_cast<std::uint8_t>(s)); }

}  // namespace

dentry_walk emit_dentry_walk(program& p, const path_layout& l, llvm::Value* names,
                             llvm::Value* bytes_field, llvm::Value* count_field, llvm::Value* vfsmount,
                             llvm::Value* dentry, llvm::Value* root_mnt, llvm::Value* root_dentry,
                             const prepend_walk& prepend) {
  auto& b = p.b;
  auto* i64 = b.getInt64Ty();
  auto* slot = p.entry_alloca(i64, "walk_pointer");
  // *(u64 *)(base + offset), or 0 when the read fails.
  auto pointer_at = [&](llvm::Value* base, std::uint32_t offset, const char* name) {
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
    return b.CreateLoad(i64, slot, name);
  };
  // The loop's variables live in stack slots (SROA makes them registers and phis), but
  // for the bytes written and the names counted, which live in the map's memory: a value
  // the verifier loads from a map is unknown to it, so the room test is never decided and
  // the two ways of a step (a name, a mount crossing) meet at the head with states it
  // prunes. Kept in registers, the bytes of the first 15 steps were known ranges, each way
  // a different one, and the verifier walked 2^15 paths (1M instructions, refused).
  auto* step_slot = p.entry_alloca(i64, "walk_step");
  auto* dentry_slot = p.entry_alloca(i64, "walk_dentry");
  auto* mnt_slot = p.entry_alloca(i64, "walk_mnt");
  auto* state_slot = p.entry_alloca(b.getInt8Ty(), "walk_state");
  auto* i32 = b.getInt32Ty();
  // Volatile: no pass may forward the stored value over the load the verifier must see.
  auto load_counter = [&](llvm::Value* field, const char* name) {
    auto* load = b.CreateLoad(i32, field, name);
    load->setVolatile(true);
    return b.CreateZExt(load, i64);
  };
  auto store_counter = [&](llvm::Value* field, llvm::Value* v) { b.CreateStore(b.CreateTrunc(v, i32), field); };
  b.CreateStore(b.getInt64(0), step_slot);
  store_counter(bytes_field, prepend.initial_bytes ? prepend.initial_bytes : b.getInt64(0));
  store_counter(count_field, b.getInt64(0));
  b.CreateStore(dentry, dentry_slot);
  b.CreateStore(vfsmount, mnt_slot);
  // The mount's root, read once per mount (here and at each crossing), not once per step.
  auto* mnt_root_slot = p.entry_alloca(i64, "walk_mnt_root");
  b.CreateStore(pointer_at(vfsmount, l.vfsmount_root, "mnt_root"), mnt_root_slot);
  // A dentry's d_parent and d_name.name lie 8 bytes apart on Linux 6.18: one read for both
  // when they are within `span` bytes. Each helper call is ~30 ns here; with the name's
  // own read a component costs two calls instead of four (measured: docs/context.md).
  // Prepending, the name's length (d_name.len, a u32) is read with them.
  constexpr std::uint32_t span = 64;
  const bool prepending = prepend.end != 0;
  const std::uint32_t first = std::min({l.dentry_parent, l.dentry_name, prepending ? l.dentry_name_len : l.dentry_name});
  const std::uint32_t last = std::max(l.dentry_parent, l.dentry_name) + 8;
  const bool together = last - first <= span;
  auto* dentry_fields = p.entry_alloca(llvm::ArrayType::get(i64, span / 8), "walk_dentry_fields");

  auto* head = p.block("walk_head");
  auto* done = p.block("walk_done");
  // Ends the walk with `s` from the current block.
  auto end_with = [&](path_base_state s) {
    b.CreateStore(state_value(p, s), state_slot);
    b.CreateBr(done);
  };
  auto branch_end = [&](llvm::Value* condition, path_base_state s, const char* next_name) {
    auto* end = p.block("walk_end");
    auto* next = p.block(next_name);
    b.CreateCondBr(condition, end, next);
    b.SetInsertPoint(end);
    end_with(s);
    b.SetInsertPoint(next);
  };
  b.CreateBr(head);

  b.SetInsertPoint(head);
  auto* step = b.CreateLoad(i64, step_slot, "step");
  branch_end(b.CreateICmpUGE(step, b.getInt64(layout::max_steps)), path_base_state::truncated, "walk_step");
  auto* d = b.CreateLoad(i64, dentry_slot, "dentry");
  auto* m = b.CreateLoad(i64, mnt_slot, "vfsmount");
  branch_end(b.CreateICmpEQ(d, b.getInt64(0)), path_base_state::unreadable, "walk_have_dentry");
  branch_end(b.CreateAnd(b.CreateICmpEQ(d, root_dentry), b.CreateICmpEQ(m, root_mnt)), path_base_state::resolved,
             "walk_below_root");
  auto* mnt_root = b.CreateLoad(i64, mnt_root_slot, "mnt_root");
  llvm::Value* parent = nullptr;
  llvm::Value* name_pointer = nullptr;
  llvm::Value* name_length = nullptr;
  if (together) {
    // bpf_probe_read_kernel zeroes its destination when it fails: 0 is "unreadable" below.
    b.CreateProbeReadKernel(dentry_fields, last - first, b.CreateAdd(d, b.getInt64(first)));
    parent = b.CreateLoadAt(i64, dentry_fields, l.dentry_parent - first, "d_parent");
    name_pointer = b.CreateLoadAt(i64, dentry_fields, l.dentry_name - first, "name");
    if (prepending) name_length = b.CreateLoadAt(i32, dentry_fields, l.dentry_name_len - first, "name_length");
  } else {
    parent = pointer_at(d, l.dentry_parent, "d_parent");
  }
  auto* top = p.block("walk_top");
  auto* name = p.block("walk_name");
  b.CreateCondBr(b.CreateOr(b.CreateICmpEQ(d, mnt_root), b.CreateICmpEQ(d, parent)), top, name);

  // The top of a mount: go on at its mountpoint in the parent mount. A dentry that is its
  // own parent but not its mount's root is disconnected; the top of a mount without a
  // parent is the namespace's root, so the caller's root was not on the way. Prepending,
  // that root ends the path as d_path ends it (what /proc/PID/fd shows for a file outside
  // the caller's chroot: its path from the namespace's root).
  b.SetInsertPoint(top);
  branch_end(b.CreateICmpNE(d, mnt_root), path_base_state::unreachable, "walk_mount_top");
  auto* mount = b.CreateSub(m, b.getInt64(l.mount_mnt), "mount");
  auto* mount_parent = pointer_at(mount, l.mount_parent, "mnt_parent");
  branch_end(b.CreateOr(b.CreateICmpEQ(mount_parent, mount), b.CreateICmpEQ(mount_parent, b.getInt64(0))),
             prepending ? path_base_state::resolved : path_base_state::unreachable, "walk_cross");
  b.CreateStore(pointer_at(mount, l.mount_mountpoint, "mnt_mountpoint"), dentry_slot);
  auto* parent_vfsmount = b.CreateAdd(mount_parent, b.getInt64(l.mount_mnt));
  b.CreateStore(parent_vfsmount, mnt_slot);
  b.CreateStore(pointer_at(parent_vfsmount, l.vfsmount_root, "mnt_root"), mnt_root_slot);
  b.CreateStore(b.CreateAdd(step, b.getInt64(1)), step_slot);
  b.CreateBr(head);

  // One component: its whole name, or the walk ends truncated.
  b.SetInsertPoint(name);
  if (!together) name_pointer = pointer_at(d, l.dentry_name, "name");
  if (prepending) {
    if (!together) name_length = b.CreateTrunc(pointer_at(d, l.dentry_name_len, "name_length"), i32);
    // "/name" ends where the bytes so far begin: [end - (bytes + 1 + len), end - bytes).
    // The verifier takes no negative offset from a map value, and the compiler would
    // make end - sum one (the pointer plus end, less the sum): the start is computed from
    // the sum stored and loaded again (volatile: unknown to the compiler) and masked, so
    // the verifier sees an offset in [0, mask] with the name's 255 bytes after it, room
    // the caller leaves (prepend_walk).
    auto* length = b.CreateAnd(b.CreateZExt(name_length, i64), b.getInt64(255), "name_bytes");
    auto* at = b.CreateAnd(load_counter(bytes_field, "bytes"), b.getInt64(mask_for(layout::name_bytes)), "at");
    auto* sum = b.CreateAdd(b.CreateAdd(at, length), b.getInt64(1), "prepended");
    branch_end(b.CreateICmpUGT(sum, b.getInt64(prepend.limit)), path_base_state::truncated, "walk_prepend");
    store_counter(bytes_field, sum);
    auto* slash = b.CreateAnd(b.CreateSub(b.getInt64(prepend.end), load_counter(bytes_field, "prepended_bytes")),
                              b.getInt64(mask_for(prepend.end)), "slash_at");
    b.CreateStoreAt(b.getInt8('/'), names, slash);
    auto* n = b.CreateProbeReadKernel(b.CreateBytePointer(names, b.CreateAdd(slash, b.getInt64(1))), length,
                                      name_pointer);
    branch_end(b.CreateICmpNE(n, b.getInt64(0)), path_base_state::unreadable, "walk_prepended");
    store_counter(count_field, b.CreateAdd(load_counter(count_field, "count"), b.getInt64(1)));
    b.CreateStore(parent, dentry_slot);
    b.CreateStore(b.CreateAdd(step, b.getInt64(1)), step_slot);
    b.CreateBr(head);
    b.SetInsertPoint(done);
    return {b.CreateLoad(b.getInt8Ty(), state_slot, "walk_state"),
            b.CreateAnd(load_counter(bytes_field, "walk_bytes"), b.getInt64(mask_for(layout::name_bytes))),
            load_counter(count_field, "walk_count")};
  }
  // The mask bounds the cursor for the verifier (it covers name_bytes itself: a full
  // buffer must not wrap to 0); the test keeps a whole name in room.
  auto* at = b.CreateAnd(load_counter(bytes_field, "bytes"), b.getInt64(mask_for(layout::name_bytes)), "at");
  branch_end(b.CreateICmpUGT(at, b.getInt64(layout::name_bytes - layout::component_bytes)),
             path_base_state::truncated, "walk_copy");
  auto* n = b.CreateProbeReadKernelStr(b.CreateBytePointer(names, at), layout::component_bytes, name_pointer);
  branch_end(b.CreateICmpSLE(n, b.getInt64(0)), path_base_state::unreadable, "walk_next");
  store_counter(bytes_field, b.CreateAdd(at, n));
  store_counter(count_field, b.CreateAdd(load_counter(count_field, "count"), b.getInt64(1)));
  b.CreateStore(parent, dentry_slot);
  b.CreateStore(b.CreateAdd(step, b.getInt64(1)), step_slot);
  b.CreateBr(head);

  b.SetInsertPoint(done);
  return {b.CreateLoad(b.getInt8Ty(), state_slot, "walk_state"),
          b.CreateAnd(load_counter(bytes_field, "walk_bytes"), b.getInt64(mask_for(layout::name_bytes))),
          load_counter(count_field, "walk_count")};
}

}  // namespace ebpfpub::detail
