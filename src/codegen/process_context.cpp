// The process context: pointer chains from the current task to its parent, executable,
// cgroup and namespaces, every offset taken from the running kernel's BTF
// (context_layout, filled by session/kernel_facts.cpp).
//
// The chains start at bpf_get_current_task_btf(), a typed pointer: the verifier checks
// each load against the kernel's BTF and turns it into a PROBE_MEM load, which costs a
// plain load where a bpf_probe_read_kernel() call cost a helper call each (measured:
// benchmarks/run, docs/context.md). A step from a NULL pointer (a kernel thread has no
// mm) faults inside that load, which the kernel's exception table turns into 0: the field
// reads as 0 and no branch is needed. The cgroup id too is read by loads rather than by
// bpf_get_current_cgroup_id(), and the executable's name from the dentry's inline copy.
// Only the pid namespace's step indexes an array by a value read at run time
// (numbers[level]), which a typed load may not do: the first levels are unrolled into
// typed loads, deeper ones take two bpf_probe_read_kernel() calls; and a name of 40 bytes
// or more is read through its pointer by bpf_probe_read_kernel_str().

#include "codegen/process_context.hpp"

#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {
namespace {

struct reader {
  program& p;
  llvm::Value* entry;
  std::uint32_t data;  // where the block's data starts in the entry

  // *(T *)(base + offset) through a typed kernel pointer.
  llvm::Value* load(llvm::Type* type, llvm::Value* base, std::uint64_t offset, const char* name) {
    return p.b.CreateLoadAt(type, base, offset, name);
  }
  llvm::Value* pointer(llvm::Value* base, std::uint64_t offset, const char* name) {
    return load(p.b.getPtrTy(), base, offset, name);
  }
  // A u32 at base + offset into the block's field at `field`.
  void field32(std::uint32_t field, llvm::Value* base, std::uint64_t offset, const char* name) {
    p.b.CreateStoreAt(load(p.b.getInt32Ty(), base, offset, name), entry, data + field);
  }
};

// The executable's dentry name into the block's exe_name (cut to 31 bytes and a NUL). A
// name shorter than 40 bytes (nearly every executable's) lives in the dentry itself
// (d_shortname), which d_name.name then points to: four typed 8-byte loads copy it, where
// bpf_probe_read_kernel_str() cost a helper call (~30 ns here). The dentry pointer came
// through mm, which the verifier does not trust (PTR_UNTRUSTED), so it lets a load span
// several of the char array's elements. A longer name is read through its pointer.
void emit_executable_name(reader& r, llvm::Value* dentry) {
  namespace off = record::context_offset;
  auto& p = r.p;
  auto& b = p.b;
  const auto& l = p.options.context;
  const std::uint32_t field = r.data + off::exe_name;
  auto* name = r.pointer(dentry, l.dentry_name, "exe_name");
  if (l.dentry_inline_name == 0) {
    b.CreateProbeReadKernelStr(b.CreateBytePointer(r.entry, b.getInt64(field)),
                               record::context_name_size, name);
    return;
  }
  auto* inline_name = b.CreateBytePointer(dentry, b.getInt64(l.dentry_inline_name));
  auto* copy = p.block("exe_name_inline");
  auto* read = p.block("exe_name_elsewhere");
  auto* after = p.block("exe_name_done");
  b.CreateCondBr(b.CreateICmpEQ(b.CreatePtrToInt(name, b.getInt64Ty()),
                                b.CreatePtrToInt(inline_name, b.getInt64Ty())),
                 copy, read);
  b.SetInsertPoint(copy);
  static_assert(record::context_name_size % 8 == 0 && record::context_name_size <= 40);
  for (std::uint32_t at = 0; at < record::context_name_size; at += 8)
    b.CreateStoreAt(r.load(b.getInt64Ty(), dentry, l.dentry_inline_name + at, "exe_name_word"),
                    r.entry, field + at);
  // As the helper would: a longer name is cut and still ends in a NUL.
  b.CreateStoreAt(b.getInt8(0), r.entry, field + record::context_name_size - 1);
  b.CreateBr(after);
  b.SetInsertPoint(read);
  b.CreateProbeReadKernelStr(b.CreateBytePointer(r.entry, b.getInt64(field)),
                             record::context_name_size, name);
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

}  // namespace

std::uint32_t emit_process_context(program& p, llvm::Value* entry, std::uint32_t at) {
  namespace off = record::context_offset;
  auto& b = p.b;
  const auto& l = p.options.context;
  const auto fields = l.fields;

  b.CreateStoreAt(b.getInt8(record::context_capture), entry, at);
  b.CreateStoreAt(b.getInt8(static_cast<std::uint8_t>(capture_status::ok)), entry, at + 1);
  b.CreateStoreAt(b.getInt16(0), entry, at + 2);
  b.CreateStoreAt(b.getInt32(record::context_size), entry, at + 4);
  const std::uint32_t data = at + record::capture_header_size;
  // The entry is reused from call to call: clear what this call may not write.
  for (std::uint32_t i = 0; i < record::context_size; i += 8)
    b.CreateStoreAt(b.getInt64(0), entry, data + i);
  b.CreateStoreAt(b.getInt32(fields.bits()), entry, data + off::fields);

  reader r{p, entry, data};
  auto* task = b.CreateGetCurrentTaskBtf();
  if (fields.wants_cgroup_id()) {
    // What bpf_get_current_cgroup_id() returns (cgroup_id(task_dfl_cgroup(current))), by
    // typed loads: the helper call cost ~30 ns here (benchmarks/program_cost), the loads
    // a few. The css_set is RCU-protected, and a tracepoint program runs under RCU.
    auto* css_set = r.pointer(task, l.task_cgroups, "css_set");
    auto* cgroup = r.pointer(css_set, l.css_set_dfl_cgrp, "dfl_cgrp");
    auto* kn = r.pointer(cgroup, l.cgroup_kn, "kn");
    b.CreateStoreAt(r.load(b.getInt64Ty(), kn, l.kernfs_node_id, "cgroup_id"), entry,
                    data + off::cgroup_id);
  }
  if (fields.has(context_field::parent))
    r.field32(off::parent_pid, r.pointer(task, l.task_real_parent, "real_parent"), l.task_tgid,
              "parent_tgid");
  if (fields.has(context_field::executable)) {
    auto* mm = r.pointer(task, l.task_mm, "mm");
    auto* file = r.pointer(mm, l.mm_exe_file, "exe_file");
    auto* inode = r.pointer(file, l.file_inode, "exe_inode");
    b.CreateStoreAt(r.load(b.getInt64Ty(), inode, l.inode_ino, "ino"), entry,
                    data + off::exe_inode);
    r.field32(off::exe_device, r.pointer(inode, l.inode_sb, "exe_sb"), l.sb_dev, "s_dev");
    auto* dentry = r.pointer(file, l.file_dentry, "exe_dentry");
    emit_executable_name(r, dentry);
  }
  if (fields.has(context_field::namespaces)) {
    auto* nsproxy = r.pointer(task, l.task_nsproxy, "nsproxy");
    r.field32(off::mnt_ns, r.pointer(nsproxy, l.nsproxy_mnt_ns, "mnt_ns"), l.mnt_ns_inum,
              "mnt_inum");
    r.field32(off::net_ns, r.pointer(nsproxy, l.nsproxy_net_ns, "net_ns"), l.net_inum, "net_inum");
    auto* cred = r.pointer(task, l.task_cred, "cred");
    r.field32(off::user_ns, r.pointer(cred, l.cred_user_ns, "user_ns"), l.user_ns_inum,
              "user_inum");
    // task_active_pid_ns(): thread_pid->numbers[thread_pid->level].ns, the namespace the
    // task's pid belongs to (nsproxy->pid_ns_for_children is its children's).
    auto* pid = r.pointer(task, l.task_thread_pid, "thread_pid");
    auto* level32 = r.load(b.getInt32Ty(), pid, l.pid_level, "pid_level");
    // The levels met in practice (a container in a container is level 2) by typed loads at
    // constant offsets, which the verifier allows into pid's trailing numbers[] array;
    // deeper ones by helper calls. Volatile: LLVM must not merge the cases into one load
    // at a run-time offset, which the verifier would refuse.
    constexpr std::uint32_t typed_levels = 4;
    auto* joined = p.block("pid_ns_done");
    auto* deep = p.block("pid_ns_deep");
    auto* choose = b.CreateSwitch(level32, deep, typed_levels);
    for (std::uint32_t k = 0; k < typed_levels; ++k) {
      auto* at_level = p.block("pid_ns_level");
      choose->addCase(b.getInt32(k), at_level);
      b.SetInsertPoint(at_level);
      auto* ns = b.CreateLoad(
          b.getPtrTy(),
          b.CreateBytePointer(pid, b.getInt64(l.pid_numbers + k * l.upid_size + l.upid_ns)), true,
          "pid_ns");
      auto* inum = b.CreateLoad(b.getInt32Ty(), b.CreateBytePointer(ns, b.getInt64(l.pid_ns_inum)),
                                true, "pid_inum");
      b.CreateStoreAt(inum, entry, data + off::pid_ns);
      b.CreateBr(joined);
    }
    b.SetInsertPoint(deep);
    // MAX_PID_NS_LEVEL is 32: the mask changes nothing but lets the verifier bound the
    // pointer arithmetic.
    auto* level = b.CreateAnd(b.CreateZExt(level32, b.getInt64Ty()), b.getInt64(31));
    auto* upid = b.CreateAdd(b.CreatePtrToInt(pid, b.getInt64Ty()),
                             b.CreateAdd(b.CreateMul(level, b.getInt64(l.upid_size)),
                                         b.getInt64(l.pid_numbers + l.upid_ns)));
    auto* slot = p.entry_alloca(b.getInt64Ty(), "pid_ns");
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, upid);
    auto* ns = b.CreateLoad(b.getInt64Ty(), slot, "pid_ns");
    b.CreateProbeReadKernel(b.CreateBytePointer(entry, b.getInt64(data + off::pid_ns)), 4,
                            b.CreateAdd(ns, b.getInt64(l.pid_ns_inum)));
    b.CreateBr(joined);
    b.SetInsertPoint(joined);
  }
  return data + record::context_size;
}

}  // namespace ebpfpub::detail
