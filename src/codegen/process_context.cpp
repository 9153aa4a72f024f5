// The process context: pointer chains from the current task to its parent, executable,
// cgroup and namespaces, every offset taken from the running kernel's BTF
// (context_layout, filled by session/kernel_facts.cpp).
//
// Tracepoint programs get no typed task pointer, so each step is a
// bpf_probe_read_kernel(). A step from a NULL pointer (a kernel thread has no mm) reads
// a low address, which the helper refuses without faulting and leaves its destination
// zeroed: the field reads as 0 and no branch is needed.

#include "codegen/process_context.hpp"

#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {
namespace {

struct reader {
  program& p;
  llvm::Value* entry;
  std::uint32_t data;    // where the block's data starts in the entry
  llvm::Value* slot;     // an 8-byte stack slot for pointers on the way

  // *(u64 *)(base + offset), from kernel memory, or 0.
  llvm::Value* pointer(llvm::Value* base, std::uint64_t offset, const char* name) {
    auto& b = p.b;
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
    return b.CreateLoad(b.getInt64Ty(), slot, name);
  }
  // `size` bytes at base + offset straight into the block's field at `field`.
  void field(std::uint32_t field, std::uint32_t size, llvm::Value* base, std::uint64_t offset) {
    auto& b = p.b;
    b.CreateProbeReadKernel(b.CreateBytePointer(entry, b.getInt64(data + field)), size,
                            b.CreateAdd(base, b.getInt64(offset)));
  }
};

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
  for (std::uint32_t i = 0; i < record::context_size; i += 8) b.CreateStoreAt(b.getInt64(0), entry, data + i);
  b.CreateStoreAt(b.getInt32(fields.bits()), entry, data + off::fields);

  reader r{p, entry, data, p.entry_alloca(b.getInt64Ty(), "kernel_pointer")};
  if (fields.wants_cgroup_id()) b.CreateStoreAt(b.CreateGetCurrentCgroupId(), entry, data + off::cgroup_id);
  auto* task = b.CreateGetCurrentTask();
  if (fields.has(context_field::parent)) {
    auto* parent = r.pointer(task, l.task_real_parent, "real_parent");
    r.field(off::parent_pid, 4, parent, l.task_tgid);
  }
  if (fields.has(context_field::executable)) {
    auto* mm = r.pointer(task, l.task_mm, "mm");
    auto* file = r.pointer(mm, l.mm_exe_file, "exe_file");
    auto* inode = r.pointer(file, l.file_inode, "exe_inode");
    r.field(off::exe_inode, 8, inode, l.inode_ino);
    auto* sb = r.pointer(inode, l.inode_sb, "exe_sb");
    r.field(off::exe_device, 4, sb, l.sb_dev);
    auto* dentry = r.pointer(file, l.file_dentry, "exe_dentry");
    auto* name = r.pointer(dentry, l.dentry_name, "exe_name");
    // A name longer than the field is cut; the NUL the helper always writes ends it.
    b.CreateProbeReadKernelStr(b.CreateBytePointer(entry, b.getInt64(data + off::exe_name)),
                               record::context_name_size, name);
  }
  if (fields.has(context_field::namespaces)) {
    auto* nsproxy = r.pointer(task, l.task_nsproxy, "nsproxy");
    r.field(off::mnt_ns, 4, r.pointer(nsproxy, l.nsproxy_mnt_ns, "mnt_ns"), l.mnt_ns_inum);
    r.field(off::net_ns, 4, r.pointer(nsproxy, l.nsproxy_net_ns, "net_ns"), l.net_inum);
    auto* cred = r.pointer(task, l.task_cred, "cred");
    r.field(off::user_ns, 4, r.pointer(cred, l.cred_user_ns, "user_ns"), l.user_ns_inum);
    // task_active_pid_ns(): thread_pid->numbers[thread_pid->level].ns, the namespace the
    // task's pid belongs to (nsproxy->pid_ns_for_children is its children's).
    auto* pid = r.pointer(task, l.task_thread_pid, "thread_pid");
    auto* level = b.CreateAnd(r.pointer(pid, l.pid_level, "pid_level"), b.getInt64(0xffffffff));
    auto* upid = b.CreateAdd(b.CreateMul(level, b.getInt64(l.upid_size)), b.getInt64(l.pid_numbers + l.upid_ns));
    r.field(off::pid_ns, 4, r.pointer(b.CreateAdd(pid, upid), 0, "pid_ns"), l.pid_ns_inum);
  }
  return data + record::context_size;
}

}  // namespace ebpfpub::detail
