#pragma once
// An llvm::IRBuilder that knows the BPF helpers ebpfpub calls. Every helper goes through
// CreateHelperCall (a call to `inttoptr(helper id)`, which the BPF back end turns into
// `call <id>`); each emitter quotes the kernel's prototype from include/uapi/linux/bpf.h.

#include <cstdint>

#include <linux/bpf.h>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

namespace ebpfpub::detail {

class bpf_builder : public llvm::IRBuilder<> {
 public:
  bpf_builder(llvm::LLVMContext& context, llvm::Module& module)
      : llvm::IRBuilder<>(context), module_(module) {}

  llvm::Module& module() { return module_; }

  /// Calls helper `id`, whose arguments and result are all 64-bit registers.
  llvm::CallInst* CreateHelperCall(bpf_func_id id, llvm::Type* result,
                                   llvm::ArrayRef<llvm::Value*> args, const llvm::Twine& name = "");

  /// Calls kernel function (kfunc) `btf_id` of the running kernel's BTF. The BPF back end
  /// only emits helper calls, so the call goes out as a helper call to `btf_id` plus
  /// kfunc_call_marker, an id no helper has; the compiler turns it into a kfunc call
  /// (src_reg BPF_PSEUDO_KFUNC_CALL, imm the BTF id) when it takes the instructions out.
  static constexpr std::uint32_t kfunc_call_marker = 1u << 30;
  llvm::CallInst* CreateKfuncCall(std::uint32_t btf_id, llvm::Type* result,
                                  llvm::ArrayRef<llvm::Value*> args, const llvm::Twine& name = "");
  /// bpf_rdonly_cast(object, type_id) (kfunc `kfunc_id`): `object` as a read-only pointer
  /// to the kernel's BTF type `type_id` (0: untyped memory), whose loads the verifier
  /// makes fault-tolerant plain loads. The verifier replaces the call by a register move.
  llvm::Value* CreateRdonlyCast(std::uint32_t kfunc_id, llvm::Value* object, std::uint32_t type_id);

  /// A pointer to the map behind `fd` (`ld_imm64` with BPF_PSEUDO_MAP_FD), through the
  /// llvm.bpf.pseudo intrinsic, so the program needs no relocation at load time.
  llvm::Value* CreateMapPointer(int fd);

  // u64 bpf_get_current_pid_tgid(void)
  llvm::Value* CreateGetCurrentPidTgid();
  // u64 bpf_get_current_uid_gid(void)
  llvm::Value* CreateGetCurrentUidGid();
  // u64 bpf_ktime_get_ns(void)
  llvm::Value* CreateKtimeGetNs();
  // long bpf_get_current_comm(void *buf, u32 size_of_buf)
  llvm::Value* CreateGetCurrentComm(llvm::Value* buffer, std::uint32_t size);
  // long bpf_map_delete_elem(struct bpf_map *map, const void *key)
  llvm::Value* CreateMapDelete(int map_fd, llvm::Value* key);
  // u64 bpf_get_current_task(void)
  llvm::Value* CreateGetCurrentTask();
  // long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr)
  llvm::Value* CreateProbeReadKernel(llvm::Value* dst, std::uint32_t size, llvm::Value* src);
  // long bpf_probe_read_kernel_str(void *dst, u32 size, const void *unsafe_ptr)
  llvm::Value* CreateProbeReadKernelStr(llvm::Value* dst, std::uint32_t size, llvm::Value* src);
  // u64 bpf_get_current_cgroup_id(void)
  llvm::Value* CreateGetCurrentCgroupId();
  // u64 bpf_get_current_ancestor_cgroup_id(int ancestor_level)
  llvm::Value* CreateGetCurrentAncestorCgroupId(std::uint32_t level);
  // struct task_struct *bpf_get_current_task_btf(void)
  llvm::Value* CreateGetCurrentTaskBtf();
  // void *bpf_task_storage_get(struct bpf_map *map, struct task_struct *task, void *value, u64 flags)
  llvm::Value* CreateTaskStorageGet(int map_fd, llvm::Value* task, bool create);
  // void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)
  llvm::Value* CreateMapLookup(int map_fd, llvm::Value* key);
  // long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)
  llvm::Value* CreateMapUpdate(int map_fd, llvm::Value* key, llvm::Value* value, std::uint64_t flags);
  // long bpf_tail_call(void *ctx, struct bpf_map *prog_array_map, u32 index)
  // (returns only when the slot is empty or out of range)
  llvm::Value* CreateTailCall(llvm::Value* ctx, int map_fd, llvm::Value* index);
  // long bpf_probe_read_user_str(void *dst, u32 size, const void *unsafe_ptr)
  llvm::Value* CreateProbeReadUserStr(llvm::Value* dst, std::uint32_t size, llvm::Value* src);
  // long bpf_probe_read_user(void *dst, u32 size, const void *unsafe_ptr)
  llvm::Value* CreateProbeReadUser(llvm::Value* dst, llvm::Value* size, llvm::Value* src);
  // u64 bpf_ringbuf_query(void *ringbuf, u64 flags)
  llvm::Value* CreateRingbufQuery(int map_fd, std::uint64_t flags);
  // long bpf_ringbuf_output(void *ringbuf, void *data, u64 size, u64 flags)
  llvm::Value* CreateRingbufOutput(int map_fd, llvm::Value* data, llvm::Value* size,
                                   llvm::Value* flags);
  // void *bpf_ringbuf_reserve(void *ringbuf, u64 size, u64 flags): null when there is no room
  llvm::Value* CreateRingbufReserve(int map_fd, std::uint64_t size);
  // void bpf_ringbuf_submit(void *data, u64 flags)
  void CreateRingbufSubmit(llvm::Value* data, llvm::Value* flags);
  // void bpf_ringbuf_discard(void *data, u64 flags)
  void CreateRingbufDiscard(llvm::Value* data);
  // long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr), a run-time size
  llvm::Value* CreateProbeReadKernel(llvm::Value* dst, llvm::Value* size, llvm::Value* src);
  // long bpf_perf_event_output(void *ctx, struct bpf_map *map, u64 flags, void *data, u64 size)
  llvm::Value* CreatePerfEventOutput(llvm::Value* ctx, int map_fd, llvm::Value* data,
                                     llvm::Value* size);

  /// `*(T*)(base + offset)`, for byte offsets into records and contexts.
  llvm::Value* CreateLoadAt(llvm::Type* type, llvm::Value* base, std::uint64_t offset,
                            const llvm::Twine& name = "");
  llvm::Value* CreateLoadAt(llvm::Type* type, llvm::Value* base, llvm::Value* offset,
                            const llvm::Twine& name = "");
  void CreateStoreAt(llvm::Value* value, llvm::Value* base, std::uint64_t offset);
  void CreateStoreAt(llvm::Value* value, llvm::Value* base, llvm::Value* offset);
  llvm::Value* CreateBytePointer(llvm::Value* base, llvm::Value* offset, const llvm::Twine& name = "");

 private:
  llvm::Module& module_;
};

}  // namespace ebpfpub::detail
