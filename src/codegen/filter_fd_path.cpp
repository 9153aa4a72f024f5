// A filter on an fd's full path (`read.fd.path startswith "/etc/"`): the path is walked in
// the kernel when the comparison runs, and only then (a component costs two helper calls),
// as /proc/PID/fd shows it: from the file's f_path up d_parent to the caller's root,
// across mounts (emit_dentry_walk, prepending "/name" as d_path does), with " (deleted)"
// after the path of a file that was unlinked. The path lands in order in a per-thread
// scratch value (fd_path_scratch), where the string tests of a captured string compare it.
//
// What compares how: an fd whose identity is not an open file passes no test (`!=`
// neither), as for every fd field; an open file with no path in the caller's view (a
// socket, a pipe, an anonymous inode or memfd: /proc makes their names up; a disconnected
// dentry) and a path past the walk's bounds (filter::max_path_bytes, 160 steps) compare as
// a path that equals no constant: `!=` holds and nothing else does. A kernel structure
// that cannot be read passes no test.

#include <algorithm>
#include <utility>

#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/record.hpp>
#include <ebpfpub/resolved_path.hpp>

#include "codegen/filter_code.hpp"

namespace ebpfpub::detail {
namespace {

using filter::checked_comparison;
namespace scratch = fd_path_scratch;

constexpr char deleted_suffix[] = " (deleted)";
constexpr std::uint32_t deleted_bytes = sizeof deleted_suffix - 1;

struct path_test {
  capture_context& cc;
  const checked_comparison& c;
  llvm::Value* result;      // i1 slot: what the comparison says
  llvm::BasicBlock* done;   // every way ends here
  llvm::Value* slot;        // one stack slot for the pointers read

  llvm::Value* pair;         // two stack words, for two pointers read at once

  // *(u64 *)(base + offset) from kernel memory, or 0 when the read fails.
  llvm::Value* pointer_at(llvm::Value* base, std::uint32_t offset, const char* name) {
    auto& b = cc.p.b;
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
    return b.CreateLoad(b.getInt64Ty(), slot, name);
  }
  // Two pointers of one struct: one read when they are neighbours (a struct path's mnt
  // and dentry, a dentry's d_hash.pprev and d_parent on Linux 6.18), two otherwise. Each
  // helper call is ~30 ns here. Both 0 when the read fails (the helper zeroes on failure).
  std::pair<llvm::Value*, llvm::Value*> pointers_at(llvm::Value* base, std::uint32_t first, std::uint32_t second) {
    auto& b = cc.p.b;
    if (first + 8 != second && second + 8 != first) return {pointer_at(base, first, "first"), pointer_at(base, second, "second")};
    const std::uint32_t low = std::min(first, second);
    b.CreateProbeReadKernel(pair, 16, b.CreateAdd(base, b.getInt64(low)));
    return {b.CreateLoadAt(b.getInt64Ty(), pair, std::uint64_t{first - low}, "first"),
            b.CreateLoadAt(b.getInt64Ty(), pair, std::uint64_t{second - low}, "second")};
  }
  // Ends here with `answer` when `condition` holds; goes on in a new block otherwise.
  void end_if(llvm::Value* condition, llvm::Value* answer, const char* next_name) {
    auto& p = cc.p;
    auto* stop = p.block("fd_path_stop");
    auto* next = p.block(next_name);
    p.b.CreateCondBr(condition, stop, next);
    p.b.SetInsertPoint(stop);
    p.b.CreateStore(answer, result);
    p.b.CreateBr(done);
    p.b.SetInsertPoint(next);
  }
  void unreadable_if(llvm::Value* condition, const char* next_name) {
    end_if(condition, cc.p.b.getFalse(), next_name);
  }
  // No path to compare: it equals no constant, so only `!=` holds.
  void no_path_if(llvm::Value* condition, const char* next_name) {
    end_if(condition, cc.p.b.getInt1(c.op == filter::comparison_op::ne), next_name);
  }
  llvm::Value* is_null(llvm::Value* v) {
    auto& b = cc.p.b;
    if (v->getType()->isPointerTy()) v = b.CreatePtrToInt(v, b.getInt64Ty());
    return b.CreateICmpEQ(v, b.getInt64(0));
  }

  void emit();
};

void path_test::emit() {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& l = p.options.paths;
  auto* i64 = b.getInt64Ty();
  auto* ptr = b.getPtrTy();
  auto* task = b.CreateGetCurrentTaskBtf();
  auto* buffer = b.CreateTaskStorageGet(p.options.fd_path_scratch_fd, task, true);
  unreadable_if(is_null(buffer), "fd_path_have_scratch");

  // The file again, from the fd table (the identity record keeps no kernel pointer): the
  // identity said it is open; a thread that closed it since finds no file.
  auto* fd = b.CreateSExt(b.CreateTrunc(argument_slot(cc, c.source.argument), b.getInt32Ty()), i64, "fd");
  unreadable_if(b.CreateICmpSLT(fd, b.getInt64(0)), "fd_path_fd");
  auto* files = b.CreateLoadAt(ptr, task, l.task_files, "files");
  unreadable_if(is_null(files), "fd_path_have_files");
  auto* fdt = b.CreateLoadAt(ptr, files, l.files_fdt, "fdt");
  unreadable_if(is_null(fdt), "fd_path_have_fdt");
  auto* max_fds = b.CreateZExt(b.CreateLoadAt(b.getInt32Ty(), fdt, l.fdt_max_fds, "max_fds"), i64);
  unreadable_if(b.CreateICmpUGE(fd, max_fds), "fd_path_within");
  auto* array = b.CreateLoadAt(i64, fdt, l.fdt_fd, "fd_array");
  unreadable_if(is_null(array), "fd_path_have_array");
  auto* file = pointer_at(b.CreateAdd(array, b.CreateShl(fd, 3)), 0, "file");
  unreadable_if(is_null(file), "fd_path_have_file");
  auto [mnt, dentry] = pointers_at(file, l.file_path + l.path_mnt, l.file_path + l.path_dentry);
  unreadable_if(b.CreateOr(is_null(mnt), is_null(dentry)), "fd_path_have_path");
  auto* fs = b.CreateLoadAt(ptr, task, l.task_fs, "fs");
  unreadable_if(is_null(fs), "fd_path_have_fs");
  auto* fs_address = b.CreatePtrToInt(fs, i64);
  auto [root_mnt, root_dentry] = pointers_at(fs_address, l.fs_root + l.path_mnt, l.fs_root + l.path_dentry);

  // A pseudo file (socket, pipe, anonymous inode, memfd) is a dentry that is its own
  // parent without being its mount's root: /proc shows a name its d_dname makes up.
  auto [parent, pprev] = pointers_at(dentry, l.dentry_parent, l.dentry_hash_pprev);
  auto* mnt_root = pointer_at(mnt, l.vfsmount_root, "mnt_root");
  no_path_if(b.CreateAnd(b.CreateICmpEQ(parent, dentry), b.CreateICmpNE(dentry, mnt_root)), "fd_path_file");
  // d_unlinked(): unhashed and not a root. d_path then ends the path with " (deleted)".
  auto* unlinked = b.CreateAnd(is_null(pprev), b.CreateICmpNE(parent, dentry), "unlinked");
  auto* mark = p.block("fd_path_deleted");
  auto* walk = p.block("fd_path_walk");
  b.CreateCondBr(unlinked, mark, walk);
  b.SetInsertPoint(mark);
  for (std::uint32_t i = 0; i < deleted_bytes; ++i)
    b.CreateStoreAt(b.getInt8(static_cast<std::uint8_t>(deleted_suffix[i])), buffer,
                    std::uint64_t{scratch::end - deleted_bytes + i});
  b.CreateBr(walk);
  b.SetInsertPoint(walk);
  auto* initial = b.CreateSelect(unlinked, b.getInt64(deleted_bytes), b.getInt64(0), "initial_bytes");

  auto* bytes_field = b.CreateBytePointer(buffer, b.getInt64(scratch::bytes), "path_bytes_field");
  auto* count_field = b.CreateBytePointer(buffer, b.getInt64(scratch::count), "path_count_field");
  const auto walked = emit_dentry_walk(p, l, buffer, bytes_field, count_field, mnt, dentry, root_mnt, root_dentry,
                                       {scratch::end, static_cast<std::uint32_t>(filter::max_path_bytes), initial});
  auto state_is = [&](path_base_state s) {
    return b.CreateICmpEQ(walked.state, b.getInt8(static_cast<std::uint8_t>(s)));
  };
  no_path_if(b.CreateOr(state_is(path_base_state::truncated), state_is(path_base_state::unreachable)),
             "fd_path_complete");
  unreadable_if(b.CreateNot(state_is(path_base_state::resolved)), "fd_path_resolved");

  // The root itself: no component, and d_path writes "/" (before " (deleted)", if any).
  auto* length_slot = p.entry_alloca(i64, "path_length");
  b.CreateStore(walked.bytes, length_slot);
  auto* root = p.block("fd_path_root");
  auto* whole = p.block("fd_path_whole");
  b.CreateCondBr(b.CreateICmpEQ(walked.count, b.getInt64(0)), root, whole);
  b.SetInsertPoint(root);
  for (const bool deleted : {false, true}) {
    auto* here = p.block(deleted ? "fd_path_root_deleted" : "fd_path_root_kept");
    auto* next = p.block("fd_path_root_next");
    b.CreateCondBr(deleted ? unlinked : b.CreateNot(unlinked), here, next);
    b.SetInsertPoint(here);
    const std::uint32_t bytes = 1 + (deleted ? deleted_bytes : 0);
    b.CreateStoreAt(b.getInt8('/'), buffer, std::uint64_t{scratch::end - bytes});
    b.CreateStore(b.getInt64(bytes), length_slot);
    b.CreateBr(whole);
    b.SetInsertPoint(next);
  }
  b.CreateBr(whole);
  b.SetInsertPoint(whole);

  // In order at `data`, where a captured string's tests read it (one copy: the tests need
  // the string's start at a fixed place, the walk leaves it where its first byte fell).
  auto* length = b.CreateLoad(i64, length_slot, "path_length");
  no_path_if(b.CreateICmpUGT(length, b.getInt64(filter::max_path_bytes)), "fd_path_fits");
  b.CreateProbeReadKernel(b.CreateBytePointer(buffer, b.getInt64(scratch::data)), length,
                          b.CreateBytePointer(buffer, b.CreateSub(b.getInt64(scratch::end), length)));
  capture shape;
  shape.max_bytes = static_cast<std::uint32_t>(filter::max_path_bytes);
  capture_context in_scratch{p, cc.t, buffer, cc.ret};
  auto* matches = string_test_at(in_scratch, c, shape, b.getInt64(scratch::header), length,
                                 b.getInt8(static_cast<std::uint8_t>(capture_status::ok)));
  b.CreateStore(matches, result);
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

bool reads_fd_path(const filter::checked_expression& e) {
  for (const auto& o : e.operands)
    if (reads_fd_path(o)) return true;
  return e.type == filter::expression::kind::comparison && e.test.source.type == filter::operand_source::kind::fd_path;
}

}  // namespace

llvm::Value* combine_paths_last(program& p, const filter::checked_expression& e, bool all,
                                const std::function<llvm::Value*(const filter::checked_expression&)>& emit) {
  auto& b = p.b;
  llvm::Value* cheap = all ? b.getTrue() : b.getFalse();
  std::vector<const filter::checked_expression*> walks;
  for (const auto& o : e.operands) {
    if (reads_fd_path(o)) {
      walks.push_back(&o);
      continue;
    }
    auto* v = emit(o);
    cheap = all ? b.CreateAnd(cheap, v) : b.CreateOr(cheap, v);
  }
  if (walks.empty()) return cheap;
  const auto rest = [&] {
    llvm::Value* v = all ? b.getTrue() : b.getFalse();
    for (const auto* o : walks) v = all ? b.CreateAnd(v, emit(*o)) : b.CreateOr(v, emit(*o));
    return all ? v : b.CreateNot(v);
  };
  // and: the walks only where the rest holds; or: only where it does not.
  if (all) return when_present(p, cheap, "walks_needed", rest);
  return b.CreateNot(when_present(p, b.CreateNot(cheap), "walks_needed", rest));
}

llvm::Value* emit_fd_path_test(capture_context& cc, const checked_comparison& c) {
  auto& p = cc.p;
  auto& b = p.b;
  // As every fd field: only an open file (the identity capture says) is compared.
  auto where = locate_capture(cc, c.source.capture);
  return when_present(p, where.present, "fd_path_identity", [&] {
    auto* data = b.CreateAdd(where.offset, b.getInt64(record::capture_header_size));
    auto* state = b.CreateLoadAt(b.getInt8Ty(), cc.entry,
                                 b.CreateAdd(data, b.getInt64(record::fd_identity_layout::state)));
    auto* open = b.CreateICmpEQ(state, b.getInt8(static_cast<std::uint8_t>(fd_state::open)));
    return when_present(p, open, "fd_path_open", [&] {
      auto* result = p.entry_alloca(b.getInt1Ty(), "fd_path_result");
      b.CreateStore(b.getFalse(), result);
      path_test t{cc, c, result, p.block("fd_path_tested"), p.entry_alloca(b.getInt64Ty(), "fd_path_pointer"),
                  p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), 2), "fd_path_pair")};
      t.emit();
      return b.CreateLoad(b.getInt1Ty(), result, "fd_path_matches");
    });
  });
}

}  // namespace ebpfpub::detail
