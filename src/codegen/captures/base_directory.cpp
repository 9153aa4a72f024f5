// capture_op::base_directory: the directory a path argument is relative to, as the call
// sees it — the caller's cwd (current->fs->pwd) or the directory fd's file->f_path — walked
// up to the caller's root (current->fs->root) by emit_dentry_walk. Written at enter, so a
// later chdir, or the process's exit before the reader gets the event, changes nothing.

#include <ebpfpub/resolved_path.hpp>
#include <ebpfpub/record.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
namespace {

namespace layout = record::base_directory_layout;

// AT_FDCWD: the dfd that means the cwd.
constexpr std::int64_t at_fdcwd = -100;

}  // namespace

void emit_base_directory(capture_context& cc, std::uint8_t index, const capture& c) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& l = p.options.paths;
  auto* i64 = b.getInt64Ty();
  auto* next = p.block("next_capture");
  auto* header = reserve_capture(cc, c, next);
  auto* data = b.CreateBytePointer(header, b.getInt64(record::capture_header_size), "base");
  b.CreateStoreAt(b.getInt64(0), data, std::uint64_t{0});
  auto* finish = p.block("base_done");
  auto* length_slot = p.entry_alloca(i64, "base_length");
  b.CreateStore(b.getInt64(layout::names), length_slot);
  auto end_with = [&](path_base_state s) {
    b.CreateStoreAt(b.getInt8(static_cast<std::uint8_t>(s)), data, layout::state);
    b.CreateBr(finish);
  };
  auto branch_end = [&](llvm::Value* condition, path_base_state s, const char* next_name) {
    auto* end = p.block("base_end");
    auto* go_on = p.block(next_name);
    b.CreateCondBr(condition, end, go_on);
    b.SetInsertPoint(end);
    end_with(s);
    b.SetInsertPoint(go_on);
  };
  auto* slot = p.entry_alloca(i64, "base_pointer");
  auto pointer_at = [&](llvm::Value* base, std::uint32_t offset, const char* name) {
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
    return b.CreateLoad(i64, slot, name);
  };

  // An absolute path needs no base. The first byte is read on its own: the string capture
  // may have been deferred to exit (a page not yet faulted in), and then the walk runs,
  // as for a relative path, and the decoder decides by the text read at exit.
  auto* first = p.entry_alloca(b.getInt8Ty(), "path_first_byte");
  b.CreateStore(b.getInt8(0), first);
  b.CreateProbeReadUser(first, b.getInt64(1), argument_slot(cc, c.argument));
  branch_end(b.CreateICmpEQ(b.CreateLoad(b.getInt8Ty(), first), b.getInt8('/')), path_base_state::absolute,
             "base_relative");

  auto* task = b.CreateGetCurrentTaskBtf();
  auto* fs = b.CreatePtrToInt(b.CreateLoadAt(b.getPtrTy(), task, l.task_fs, "fs"), i64);
  branch_end(b.CreateICmpEQ(fs, b.getInt64(0)), path_base_state::unreadable, "base_have_fs");
  auto* root_mnt = pointer_at(fs, l.fs_root + l.path_mnt, "root_mnt");
  auto* root_dentry = pointer_at(fs, l.fs_root + l.path_dentry, "root_dentry");
  auto* cwd = p.block("base_cwd");
  auto* start = p.block("base_start");
  llvm::Value* fd_mnt = nullptr;
  llvm::Value* fd_dentry = nullptr;
  llvm::BasicBlock* from_fd = nullptr;
  if (c.base_fd != capture::current_directory) {
    // The dfd is the slot's low 32 bits, signed; AT_FDCWD means the cwd.
    auto* fd = b.CreateSExt(b.CreateTrunc(argument_slot(cc, c.base_fd), b.getInt32Ty()), i64, "dfd");
    auto* table = p.block("base_fd");
    b.CreateCondBr(b.CreateICmpEQ(fd, b.getInt64(at_fdcwd)), cwd, table);
    b.SetInsertPoint(table);
    branch_end(b.CreateICmpSLT(fd, b.getInt64(0)), path_base_state::bad_fd, "base_fd_positive");
    // task->files->fdt as BTF-checked loads, as fd_identity.cpp does; the slot fd[fd]
    // with a helper (the verifier types a `struct file **` as a number).
    auto* files = b.CreateLoadAt(b.getPtrTy(), task, l.task_files, "files");
    branch_end(b.CreateICmpEQ(b.CreatePtrToInt(files, i64), b.getInt64(0)), path_base_state::unreadable,
               "base_have_files");
    auto* fdt = b.CreateLoadAt(b.getPtrTy(), files, l.files_fdt, "fdt");
    branch_end(b.CreateICmpEQ(b.CreatePtrToInt(fdt, i64), b.getInt64(0)), path_base_state::unreadable,
               "base_have_fdt");
    auto* max_fds = b.CreateZExt(b.CreateLoadAt(b.getInt32Ty(), fdt, l.fdt_max_fds, "max_fds"), i64);
    branch_end(b.CreateICmpUGE(fd, max_fds), path_base_state::bad_fd, "base_fd_within");
    auto* array = b.CreateLoadAt(i64, fdt, l.fdt_fd, "fd_array");
    branch_end(b.CreateICmpEQ(array, b.getInt64(0)), path_base_state::unreadable, "base_have_array");
    auto* file = pointer_at(b.CreateAdd(array, b.CreateShl(fd, 3)), 0, "file");
    branch_end(b.CreateICmpEQ(file, b.getInt64(0)), path_base_state::bad_fd, "base_have_file");
    fd_mnt = pointer_at(file, l.file_path + l.path_mnt, "fd_mnt");
    fd_dentry = pointer_at(file, l.file_path + l.path_dentry, "fd_dentry");
    from_fd = b.GetInsertBlock();
    b.CreateBr(start);
  } else {
    b.CreateBr(cwd);
  }
  b.SetInsertPoint(cwd);
  auto* pwd_mnt = pointer_at(fs, l.fs_pwd + l.path_mnt, "pwd_mnt");
  auto* pwd_dentry = pointer_at(fs, l.fs_pwd + l.path_dentry, "pwd_dentry");
  auto* from_cwd = b.GetInsertBlock();
  b.CreateBr(start);

  b.SetInsertPoint(start);
  auto* mnt = b.CreatePHI(i64, 2, "base_mnt");
  auto* dentry = b.CreatePHI(i64, 2, "base_dentry");
  mnt->addIncoming(pwd_mnt, from_cwd);
  dentry->addIncoming(pwd_dentry, from_cwd);
  if (from_fd) {
    mnt->addIncoming(fd_mnt, from_fd);
    dentry->addIncoming(fd_dentry, from_fd);
  }
  branch_end(b.CreateOr(b.CreateICmpEQ(mnt, b.getInt64(0)), b.CreateICmpEQ(dentry, b.getInt64(0))),
             path_base_state::unreadable, "base_have_start");
  // d_unlinked(): unhashed and not a root (a mount's root is never hashed). getcwd says
  // ENOENT for it; so do we, before walking names that no longer lead there.
  auto* pprev = pointer_at(dentry, l.dentry_hash_pprev, "d_hash_pprev");
  auto* parent = pointer_at(dentry, l.dentry_parent, "d_parent");
  branch_end(b.CreateAnd(b.CreateICmpEQ(pprev, b.getInt64(0)), b.CreateICmpNE(parent, dentry)),
             path_base_state::deleted, "base_walk");
  auto* names = b.CreateBytePointer(data, b.getInt64(layout::names), "names");
  // The counters: the header's length field (finish_capture writes it after) and the
  // record's own count, which the walk leaves final.
  auto* bytes_field = b.CreateBytePointer(header, b.getInt64(4), "walk_bytes_field");
  auto* count_field = b.CreateBytePointer(data, b.getInt64(layout::count), "walk_count_field");
  const auto walked =
      emit_dentry_walk(p, l, names, bytes_field, count_field, mnt, dentry, root_mnt, root_dentry);
  b.CreateStoreAt(walked.state, data, layout::state);
  b.CreateStoreAt(b.CreateTrunc(walked.count, b.getInt32Ty()), data, layout::count);
  b.CreateStore(b.CreateAdd(walked.bytes, b.getInt64(layout::names)), length_slot);
  b.CreateBr(finish);

  b.SetInsertPoint(finish);
  auto* length = b.CreateAnd(b.CreateLoad(i64, length_slot), b.getInt64(mask_for(layout::size)));
  finish_capture(cc, header, index, status_value(p, capture_status::ok), length);
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

}  // namespace ebpfpub::detail
