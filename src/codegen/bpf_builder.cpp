#include "codegen/bpf_builder.hpp"

#include <llvm/IR/IntrinsicsBPF.h>

namespace ebpfpub::detail {

llvm::CallInst* bpf_builder::CreateHelperCall(bpf_func_id id, llvm::Type* result,
                                              llvm::ArrayRef<llvm::Value*> args,
                                              const llvm::Twine& name) {
  std::vector<llvm::Type*> params(args.size(), getInt64Ty());
  std::vector<llvm::Value*> widened;
  for (auto* a : args) {
    if (a->getType()->isPointerTy()) widened.push_back(CreatePtrToInt(a, getInt64Ty()));
    else if (a->getType() != getInt64Ty()) widened.push_back(CreateZExt(a, getInt64Ty()));
    else widened.push_back(a);
  }
  auto* type = llvm::FunctionType::get(result, params, false);
  auto* callee = llvm::ConstantExpr::getIntToPtr(getInt64(id), getPtrTy());
  return CreateCall(type, callee, widened, name);
}

llvm::CallInst* bpf_builder::CreateKfuncCall(std::uint32_t btf_id, llvm::Type* result,
                                             llvm::ArrayRef<llvm::Value*> args,
                                             const llvm::Twine& name) {
  return CreateHelperCall(static_cast<bpf_func_id>(kfunc_call_marker + btf_id), result, args, name);
}

llvm::Value* bpf_builder::CreateRdonlyCast(std::uint32_t kfunc_id, llvm::Value* object,
                                           std::uint32_t type_id) {
  return CreateKfuncCall(kfunc_id, getPtrTy(), {object, getInt64(type_id)}, "cast");
}

llvm::Value* bpf_builder::CreateMapPointer(int fd) {
  auto* pseudo = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::bpf_pseudo);
  auto* value = CreateCall(pseudo, {getInt64(BPF_PSEUDO_MAP_FD), getInt64(fd)}, "map");
  return CreateIntToPtr(value, getPtrTy());
}

llvm::Value* bpf_builder::CreateGetCurrentPidTgid() {
  return CreateHelperCall(BPF_FUNC_get_current_pid_tgid, getInt64Ty(), {}, "pid_tgid");
}

llvm::Value* bpf_builder::CreateGetCurrentUidGid() {
  return CreateHelperCall(BPF_FUNC_get_current_uid_gid, getInt64Ty(), {}, "uid_gid");
}

llvm::Value* bpf_builder::CreateKtimeGetNs() {
  return CreateHelperCall(BPF_FUNC_ktime_get_ns, getInt64Ty(), {}, "now");
}

llvm::Value* bpf_builder::CreateGetCurrentComm(llvm::Value* buffer, std::uint32_t size) {
  return CreateHelperCall(BPF_FUNC_get_current_comm, getInt64Ty(), {buffer, getInt64(size)}, "comm");
}

llvm::Value* bpf_builder::CreateMapDelete(int map_fd, llvm::Value* key) {
  return CreateHelperCall(BPF_FUNC_map_delete_elem, getInt64Ty(), {CreateMapPointer(map_fd), key},
                          "deleted");
}

llvm::Value* bpf_builder::CreateGetCurrentTask() {
  return CreateHelperCall(BPF_FUNC_get_current_task, getInt64Ty(), {}, "task_address");
}

llvm::Value* bpf_builder::CreateProbeReadKernel(llvm::Value* dst, std::uint32_t size, llvm::Value* src) {
  return CreateHelperCall(BPF_FUNC_probe_read_kernel, getInt64Ty(), {dst, getInt64(size), src}, "read_kernel");
}

llvm::Value* bpf_builder::CreateProbeReadKernelStr(llvm::Value* dst, std::uint32_t size, llvm::Value* src) {
  return CreateHelperCall(BPF_FUNC_probe_read_kernel_str, getInt64Ty(), {dst, getInt64(size), src},
                          "read_kernel_str");
}

llvm::Value* bpf_builder::CreateTailCall(llvm::Value* ctx, int map_fd, llvm::Value* index) {
  return CreateHelperCall(BPF_FUNC_tail_call, getInt64Ty(), {ctx, CreateMapPointer(map_fd), index}, "tail_call");
}

llvm::Value* bpf_builder::CreateGetCurrentCgroupId() {
  return CreateHelperCall(BPF_FUNC_get_current_cgroup_id, getInt64Ty(), {}, "cgroup_id");
}

llvm::Value* bpf_builder::CreateGetCurrentAncestorCgroupId(std::uint32_t level) {
  return CreateHelperCall(BPF_FUNC_get_current_ancestor_cgroup_id, getInt64Ty(), {getInt64(level)},
                          "ancestor_cgroup_id");
}

llvm::Value* bpf_builder::CreateGetCurrentTaskBtf() {
  return CreateHelperCall(BPF_FUNC_get_current_task_btf, getPtrTy(), {}, "task");
}

llvm::Value* bpf_builder::CreateTaskStorageGet(int map_fd, llvm::Value* task, bool create) {
  return CreateHelperCall(BPF_FUNC_task_storage_get, getPtrTy(),
                          {CreateMapPointer(map_fd), task, getInt64(0),
                           getInt64(create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0)},
                          "entry");
}

llvm::Value* bpf_builder::CreateMapLookup(int map_fd, llvm::Value* key) {
  return CreateHelperCall(BPF_FUNC_map_lookup_elem, getPtrTy(), {CreateMapPointer(map_fd), key},
                          "value");
}

llvm::Value* bpf_builder::CreateMapUpdate(int map_fd, llvm::Value* key, llvm::Value* value,
                                         std::uint64_t flags) {
  return CreateHelperCall(BPF_FUNC_map_update_elem, getInt64Ty(),
                          {CreateMapPointer(map_fd), key, value, getInt64(flags)}, "updated");
}

llvm::Value* bpf_builder::CreateProbeReadUserStr(llvm::Value* dst, std::uint32_t size,
                                                 llvm::Value* src) {
  return CreateHelperCall(BPF_FUNC_probe_read_user_str, getInt64Ty(),
                          {dst, getInt64(size), src}, "read");
}

llvm::Value* bpf_builder::CreateProbeReadUser(llvm::Value* dst, llvm::Value* size,
                                              llvm::Value* src) {
  return CreateHelperCall(BPF_FUNC_probe_read_user, getInt64Ty(), {dst, size, src}, "read");
}

llvm::Value* bpf_builder::CreateRingbufQuery(int map_fd, std::uint64_t flags) {
  return CreateHelperCall(BPF_FUNC_ringbuf_query, getInt64Ty(),
                          {CreateMapPointer(map_fd), getInt64(flags)}, "ring_query");
}

llvm::Value* bpf_builder::CreateRingbufOutput(int map_fd, llvm::Value* data, llvm::Value* size,
                                              llvm::Value* flags) {
  return CreateHelperCall(BPF_FUNC_ringbuf_output, getInt64Ty(),
                          {CreateMapPointer(map_fd), data, size, flags}, "sent");
}

llvm::Value* bpf_builder::CreateRingbufReserve(int map_fd, std::uint64_t size) {
  return CreateHelperCall(BPF_FUNC_ringbuf_reserve, getPtrTy(),
                          {CreateMapPointer(map_fd), getInt64(size), getInt64(0)}, "slot");
}

void bpf_builder::CreateRingbufSubmit(llvm::Value* data, llvm::Value* flags) {
  CreateHelperCall(BPF_FUNC_ringbuf_submit, getVoidTy(), {data, flags});
}

void bpf_builder::CreateRingbufDiscard(llvm::Value* data) {
  CreateHelperCall(BPF_FUNC_ringbuf_discard, getVoidTy(), {data, getInt64(0)});
}

llvm::Value* bpf_builder::CreateProbeReadKernel(llvm::Value* dst, llvm::Value* size, llvm::Value* src) {
  return CreateHelperCall(BPF_FUNC_probe_read_kernel, getInt64Ty(), {dst, size, src}, "read_kernel");
}

llvm::Value* bpf_builder::CreatePerfEventOutput(llvm::Value* ctx, int map_fd, llvm::Value* data,
                                                llvm::Value* size) {
  return CreateHelperCall(BPF_FUNC_perf_event_output, getInt64Ty(),
                          {ctx, CreateMapPointer(map_fd), getInt64(BPF_F_CURRENT_CPU), data, size},
                          "sent");
}

llvm::Value* bpf_builder::CreateBytePointer(llvm::Value* base, llvm::Value* offset,
                                            const llvm::Twine& name) {
  return CreateInBoundsGEP(getInt8Ty(), base, offset, name);
}

llvm::Value* bpf_builder::CreateLoadAt(llvm::Type* type, llvm::Value* base, std::uint64_t offset,
                                       const llvm::Twine& name) {
  return CreateLoadAt(type, base, getInt64(offset), name);
}

llvm::Value* bpf_builder::CreateLoadAt(llvm::Type* type, llvm::Value* base, llvm::Value* offset,
                                       const llvm::Twine& name) {
  return CreateLoad(type, CreateBytePointer(base, offset), name);
}

void bpf_builder::CreateStoreAt(llvm::Value* value, llvm::Value* base, std::uint64_t offset) {
  CreateStoreAt(value, base, getInt64(offset));
}

void bpf_builder::CreateStoreAt(llvm::Value* value, llvm::Value* base, llvm::Value* offset) {
  CreateStore(value, CreateBytePointer(base, offset));
}

}  // namespace ebpfpub::detail
