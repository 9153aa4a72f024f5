// capture_op::fd_identity: what an fd names in the calling task's own fd table, read
// through the kernel's structures (offsets from its BTF, codegen_options::fd), written
// into the entry as the fixed record of include/ebpfpub/fd_identity.hpp.
//
// The walk: current->files->fdt; fd < fdt->max_fds; fdt->fd[fd] -> struct file; its
// f_inode (i_ino, i_mode, i_sb->s_dev), f_flags and dentry name; for a socket,
// file->private_data -> struct socket -> sk, and for AF_UNIX the unix_sock's address and
// its peer's. Plain BTF-checked loads as far as fdt->fd. From the slot fd[fd] on (the
// verifier types a `struct file **` as a number) plain loads again through bpf_rdonly_cast()
// where the kernel allows it (file_by_casts), bpf_probe_read_kernel otherwise
// (file_by_helpers); a socket's fields always by helper. A tracepoint program runs under
// RCU, which keeps the fd table and the files it points to alive while we read.

#include <algorithm>
#include <climits>
#include <cstdint>

#include <sys/socket.h>
#include <sys/stat.h>

#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/record.hpp>

#include "codegen/captures.hpp"

namespace ebpfpub::detail {
namespace {

namespace layout = record::fd_identity_layout;

struct walk {
  program& p;
  const fd_layout& l;
  llvm::Value* data;    // the record, in the entry
  llvm::BasicBlock* finish;  // the block every path ends in
  llvm::Value* slot;         // one stack slot for every pointer read: the stack is 512 bytes

  // *(u64 *)(base + offset) from kernel memory, or 0 when the read fails.
  llvm::Value* pointer_at(llvm::Value* base, std::uint32_t offset, const char* name) {
    auto& b = p.b;
    b.CreateStore(b.getInt64(0), slot);
    b.CreateProbeReadKernel(slot, 8, b.CreateAdd(base, b.getInt64(offset)));
    return b.CreateLoad(b.getInt64Ty(), slot, name);
  }
  // `size` bytes at base + offset straight into the record at `field` (left zero on failure).
  void copy(std::uint32_t field, std::uint32_t size, llvm::Value* base, std::uint32_t offset) {
    auto& b = p.b;
    b.CreateProbeReadKernel(b.CreateBytePointer(data, b.getInt64(field)), size,
                            b.CreateAdd(base, b.getInt64(offset)));
  }
  void state(fd_state s) {
    p.b.CreateStoreAt(p.b.getInt8(static_cast<std::uint8_t>(s)), data, layout::state);
  }
  // Ends the walk here with `s` when `pointer` is 0; goes on in a new block otherwise.
  void require(llvm::Value* pointer, fd_state s, const char* next_name) {
    auto& b = p.b;
    auto* stop = p.block("fd_stop");
    auto* next = p.block(next_name);
    b.CreateCondBr(b.CreateICmpEQ(pointer, b.getInt64(0)), stop, next);
    b.SetInsertPoint(stop);
    state(s);
    b.CreateBr(finish);
    b.SetInsertPoint(next);
  }
  // A unix_sock's bound address (its length and sun_path) into the record's fields.
  void unix_address(llvm::Value* sk, std::uint32_t length_field, std::uint32_t path_field) {
    auto& b = p.b;
    auto* address = pointer_at(sk, l.unix_addr, "unix_address");
    auto* bound = p.block("unix_bound");
    auto* after = p.block("unix_after");
    b.CreateCondBr(b.CreateICmpEQ(address, b.getInt64(0)), after, bound);
    b.SetInsertPoint(bound);
    copy(length_field, 4, address, l.unix_address_len);
    copy(path_field, layout::unix_path_size, address, l.unix_address_name + 2);  // after sun_family
    b.CreateBr(after);
    b.SetInsertPoint(after);
  }
  void socket(llvm::Value* sock);
  void name(llvm::Value* buffer, llvm::Value* dentry);
  llvm::Value* file_by_helpers(llvm::Value* buffer, llvm::Value* slot_address);
  llvm::Value* file_by_casts(llvm::Value* slot_address);
  void typed_name(llvm::Value* dentry);
};

// Several fields of one struct, read with one bpf_probe_read_kernel when they lie within
// `span_bytes` of each other (file's f_flags, f_inode, f_path.dentry; inode's i_mode, i_sb,
// i_ino), else one read each. Each helper call costs ~30 ns here: with the BTF loads of
// the task's table and the inline name, the walk of a regular file went from 15 calls to 6.
class struct_read {
 public:
  static constexpr std::uint32_t span_bytes = 80;

  struct_read(walk& w, llvm::Value* buffer, llvm::Value* base,
              std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> fields)
      : w_(w), buffer_(buffer), base_(base) {
    std::uint32_t last = 0;
    first_ = UINT32_MAX;
    for (auto [offset, size] : fields) {
      first_ = std::min(first_, offset);
      last = std::max(last, offset + size);
    }
    together_ = last - first_ <= span_bytes;
    if (!together_) return;
    auto& b = w_.p.b;
    // bpf_probe_read_kernel zeroes its destination when it fails: no stale bytes.
    b.CreateProbeReadKernel(buffer_, last - first_, b.CreateAdd(base_, b.getInt64(first_)));
  }
  /// The field at `offset` of the struct, of `type` (an integer of `size` bytes).
  llvm::Value* load(llvm::Type* type, std::uint32_t offset, const char* name) {
    auto& b = w_.p.b;
    if (together_) return b.CreateLoadAt(type, buffer_, offset - first_, name);
    b.CreateStore(b.getInt64(0), w_.slot);
    b.CreateProbeReadKernel(w_.slot, type->getIntegerBitWidth() / 8, b.CreateAdd(base_, b.getInt64(offset)));
    return b.CreateLoad(type, w_.slot, name);
  }
  /// Copies the field into the record at `field`.
  void copy(std::uint32_t field, llvm::Type* type, std::uint32_t offset) {
    w_.p.b.CreateStoreAt(load(type, offset, "field"), w_.data, field);
  }

 private:
  walk& w_;
  llvm::Value* buffer_;
  llvm::Value* base_;
  std::uint32_t first_ = 0;
  bool together_ = false;
};

// `sock`: the file's private_data, a struct socket.
void walk::socket(llvm::Value* sock) {
  auto& b = p.b;
  require(sock, fd_state::open, "have_socket");
  auto* sk = pointer_at(sock, l.socket_sk, "sk");
  require(sk, fd_state::open, "have_sk");
  copy(layout::family, 2, sk, l.sk_family);
  copy(layout::type, 2, sk, l.sk_type);
  copy(layout::protocol, 2, sk, l.sk_protocol);
  auto* family = b.CreateLoadAt(b.getInt16Ty(), data, layout::family, "family");

  auto* inet = p.block("inet");
  auto* inet6 = p.block("inet6");
  auto* unix_socket = p.block("unix");
  auto* done = finish;
  auto* sw = b.CreateSwitch(family, done, 3);
  sw->addCase(b.getInt16(AF_INET), inet);
  sw->addCase(b.getInt16(AF_INET6), inet6);
  sw->addCase(b.getInt16(AF_UNIX), unix_socket);

  for (auto [block, v6] : {std::pair{inet, false}, std::pair{inet6, true}}) {
    b.SetInsertPoint(block);
    copy(layout::local_port, 2, sk, l.sk_num);
    copy(layout::remote_port, 2, sk, l.sk_dport);
    if (v6) {
      copy(layout::local_address, 16, sk, l.sk_v6_rcv_saddr);
      copy(layout::remote_address, 16, sk, l.sk_v6_daddr);
    } else {
      copy(layout::local_address, 4, sk, l.sk_rcv_saddr);
      copy(layout::remote_address, 4, sk, l.sk_daddr);
    }
    b.CreateBr(done);
  }

  // A connected client is seldom bound: its peer's address is the path it connected to.
  b.SetInsertPoint(unix_socket);
  unix_address(sk, layout::unix_length, layout::unix_path);
  auto* peer = pointer_at(sk, l.unix_peer, "peer");
  auto* has_peer = p.block("unix_peer");
  b.CreateCondBr(b.CreateICmpEQ(peer, b.getInt64(0)), done, has_peer);
  b.SetInsertPoint(has_peer);
  unix_address(peer, layout::unix_peer_length, layout::unix_peer_path);
  b.CreateBr(done);
}

// The dentry's name into the record. A name shorter than 40 bytes lives inside the dentry
// (d_shortname), right after the qstr that points to it: one read of both gets it, and
// saves the second helper call of a read through the pointer (~30 ns here).
void walk::name(llvm::Value* buffer, llvm::Value* dentry) {
  auto& b = p.b;
  auto* field = b.CreateBytePointer(data, b.getInt64(layout::name));
  constexpr std::uint32_t inline_size = 40;  // DNAME_INLINE_LEN on 64-bit
  const std::uint32_t first = l.dentry_name;
  const std::uint32_t last = l.dentry_inline_name + inline_size;
  if (l.dentry_inline_name == 0 || l.dentry_inline_name < first || last - first > struct_read::span_bytes) {
    b.CreateProbeReadKernelStr(field, layout::name_size, pointer_at(dentry, l.dentry_name, "name"));
    return;
  }
  b.CreateProbeReadKernel(buffer, last - first, b.CreateAdd(dentry, b.getInt64(first)));
  auto* name = b.CreateLoadAt(b.getInt64Ty(), buffer, std::uint64_t{0}, "name");
  auto* inline_name = b.CreateAdd(dentry, b.getInt64(l.dentry_inline_name));
  auto* copy = p.block("name_inline");
  auto* read = p.block("name_elsewhere");
  auto* after = p.block("name_done");
  b.CreateCondBr(b.CreateICmpEQ(name, inline_name), copy, read);
  b.SetInsertPoint(copy);
  // NUL-terminated within its 40 bytes; the rest of the field cleared.
  for (std::uint32_t at = 0; at < layout::name_size; at += 8)
    b.CreateStoreAt(at < inline_size ? b.CreateLoadAt(b.getInt64Ty(), buffer, l.dentry_inline_name - first + at)
                                     : b.getInt64(0),
                    field, at);
  b.CreateBr(after);
  b.SetInsertPoint(read);
  b.CreateProbeReadKernelStr(field, layout::name_size, name);
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

// From the slot fd[fd] on by bpf_probe_read_kernel: five helper calls for a regular file
// (the slot, the file's fields, the inode's, s_dev, the name). Returns private_data.
llvm::Value* walk::file_by_helpers(llvm::Value* buffer, llvm::Value* slot_address) {
  auto& b = p.b;
  auto* i16 = b.getInt16Ty();
  auto* i32 = b.getInt32Ty();
  auto* i64 = b.getInt64Ty();
  auto* file = pointer_at(slot_address, 0, "file");
  require(file, fd_state::not_open, "have_file");
  state(fd_state::open);
  struct_read file_fields(*this, buffer, file,
                          {{l.file_flags, 4}, {l.file_inode, 8}, {l.file_dentry, 8}, {l.file_private, 8}});
  auto* private_data = file_fields.load(i64, l.file_private, "private_data");
  file_fields.copy(layout::flags, i32, l.file_flags);
  auto* dentry = file_fields.load(i64, l.file_dentry, "dentry");
  auto* inode = file_fields.load(i64, l.file_inode, "inode");
  require(inode, fd_state::open, "have_inode");
  struct_read inode_fields(*this, buffer, inode, {{l.inode_ino, 8}, {l.inode_mode, 2}, {l.inode_sb, 8}});
  inode_fields.copy(layout::inode, i64, l.inode_ino);
  inode_fields.copy(layout::mode, i16, l.inode_mode);
  auto* sb = inode_fields.load(i64, l.inode_sb, "sb");
  copy(layout::device, 4, sb, l.sb_dev);
  name(buffer, dentry);
  return private_data;
}

// From the slot fd[fd] on by plain loads: bpf_rdonly_cast() makes the slot readable
// (untyped) and the file behind it a `struct file *` the verifier checks every further
// load against (f_inode, i_sb and f_path.dentry stay typed). The verifier turns each
// cast into a register move and each load into a fault-tolerant load (PROBE_MEM: a bad
// address reads as 0), so a regular file costs no helper call at all where the helper
// walk cost five (~30 ns each here). Returns private_data.
llvm::Value* walk::file_by_casts(llvm::Value* slot_address) {
  auto& b = p.b;
  auto* ptr = b.getPtrTy();
  auto* slot = b.CreateRdonlyCast(l.rdonly_cast, slot_address, 0);
  auto* file_address = b.CreateLoad(b.getInt64Ty(), slot, "file");
  require(file_address, fd_state::not_open, "have_file");
  state(fd_state::open);
  auto* file = b.CreateRdonlyCast(l.rdonly_cast, file_address, l.file_type);
  auto* private_data = b.CreateLoadAt(b.getInt64Ty(), file, l.file_private, "private_data");
  b.CreateStoreAt(b.CreateLoadAt(b.getInt32Ty(), file, l.file_flags, "flags"), data, layout::flags);
  auto* dentry = b.CreateLoadAt(ptr, file, l.file_dentry, "dentry");
  auto* inode = b.CreateLoadAt(ptr, file, l.file_inode, "inode");
  require(b.CreatePtrToInt(inode, b.getInt64Ty()), fd_state::open, "have_inode");
  b.CreateStoreAt(b.CreateLoadAt(b.getInt64Ty(), inode, l.inode_ino, "ino"), data, layout::inode);
  b.CreateStoreAt(b.CreateLoadAt(b.getInt16Ty(), inode, l.inode_mode, "mode"), data, layout::mode);
  auto* sb = b.CreateLoadAt(ptr, inode, l.inode_sb, "sb");
  b.CreateStoreAt(b.CreateLoadAt(b.getInt32Ty(), sb, l.sb_dev, "s_dev"), data, layout::device);
  typed_name(dentry);
  return private_data;
}

// The dentry's name through a typed (untrusted) dentry pointer: an inline name by five
// 8-byte loads (the verifier lets a load from an untrusted pointer span elements of the
// char array), a longer one by bpf_probe_read_kernel_str() through its pointer.
void walk::typed_name(llvm::Value* dentry) {
  auto& b = p.b;
  auto* i64 = b.getInt64Ty();
  auto* field = b.CreateBytePointer(data, b.getInt64(layout::name));
  auto* name = b.CreateLoadAt(i64, dentry, l.dentry_name, "name");
  if (l.dentry_inline_name == 0) {
    b.CreateProbeReadKernelStr(field, layout::name_size, name);
    return;
  }
  constexpr std::uint32_t inline_size = 40;  // DNAME_INLINE_LEN on 64-bit
  auto* inline_name = b.CreateAdd(b.CreatePtrToInt(dentry, i64), b.getInt64(l.dentry_inline_name));
  auto* copy = p.block("name_inline");
  auto* read = p.block("name_elsewhere");
  auto* after = p.block("name_done");
  b.CreateCondBr(b.CreateICmpEQ(name, inline_name), copy, read);
  b.SetInsertPoint(copy);
  for (std::uint32_t at = 0; at < layout::name_size; at += 8)
    b.CreateStoreAt(at < inline_size ? b.CreateLoadAt(i64, dentry, l.dentry_inline_name + at, "name_word")
                                     : b.getInt64(0),
                    field, at);
  b.CreateBr(after);
  b.SetInsertPoint(read);
  b.CreateProbeReadKernelStr(field, layout::name_size, name);
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

}  // namespace

void emit_fd_identity(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* fd_value) {
  auto& p = cc.p;
  auto& b = p.b;
  const auto& l = p.options.fd;
  auto* next = p.block("next_capture");
  auto* header = reserve_capture(cc, c, next);
  auto* data = b.CreateBytePointer(header, b.getInt64(record::capture_header_size), "identity");
  // The entry holds what the last call left: clear the fixed fields. The UNIX paths count
  // by their lengths (cleared here), the name is read whenever the state is open.
  for (std::uint32_t at = 0; at < layout::unix_path; at += 8) b.CreateStoreAt(b.getInt64(0), data, at);
  auto* finish = p.block("fd_identity_done");
  walk w{p, l, data, finish, p.entry_alloca(b.getInt64Ty(), "kernel_pointer")};
  auto* buffer = p.entry_alloca(llvm::ArrayType::get(b.getInt64Ty(), struct_read::span_bytes / 8),
                                "struct_span");
  auto* i32 = b.getInt32Ty();
  auto* i64 = b.getInt64Ty();

  // The descriptor is the slot's low 32 bits, signed (close's is an unsigned int).
  auto* raw = fd_value ? fd_value : argument_slot(cc, c.argument);
  auto* fd = b.CreateSExt(b.CreateTrunc(raw, b.getInt32Ty()), b.getInt64Ty(), "fd");
  auto* negative = p.block("fd_negative");
  auto* look = p.block("fd_lookup");
  b.CreateCondBr(b.CreateICmpSLT(fd, b.getInt64(0)), negative, look);
  b.SetInsertPoint(negative);
  w.state(fd_state::bad_fd);
  b.CreateBr(finish);

  b.SetInsertPoint(look);
  // task->files->fdt and its head as plain loads through the BTF-typed task pointer: the
  // verifier checks each against the kernel's BTF and makes it a fault-tolerant load
  // (PROBE_MEM), so these three steps cost no helper call. fdt->fd is a `struct file **`,
  // which the verifier types as a number: the slot fd[fd] is read with a helper.
  auto* task = b.CreateGetCurrentTaskBtf();
  auto* files = b.CreateLoadAt(b.getPtrTy(), task, l.task_files, "files");
  w.require(b.CreatePtrToInt(files, i64), fd_state::unreadable, "have_files");
  auto* fdt = b.CreateLoadAt(b.getPtrTy(), files, l.files_fdt, "fdt");
  w.require(b.CreatePtrToInt(fdt, i64), fd_state::unreadable, "have_fdt");
  auto* max_fds = b.CreateZExt(b.CreateLoadAt(i32, fdt, l.fdt_max_fds, "max_fds"), i64);
  auto* beyond = p.block("fd_beyond");
  auto* within = p.block("fd_within");
  b.CreateCondBr(b.CreateICmpUGE(fd, max_fds), beyond, within);
  b.SetInsertPoint(beyond);
  w.state(fd_state::bad_fd);
  b.CreateBr(finish);

  b.SetInsertPoint(within);
  auto* table = b.CreateLoadAt(i64, fdt, l.fdt_fd, "fd_array");
  w.require(table, fd_state::unreadable, "have_table");
  auto* slot_address = b.CreateAdd(table, b.CreateShl(fd, 3), "slot_address");
  auto* private_data =
      l.rdonly_cast ? w.file_by_casts(slot_address) : w.file_by_helpers(buffer, slot_address);

  auto* mode = b.CreateLoadAt(b.getInt16Ty(), data, layout::mode, "mode");
  auto* socket = p.block("fd_socket");
  b.CreateCondBr(b.CreateICmpEQ(b.CreateAnd(mode, b.getInt16(S_IFMT)), b.getInt16(S_IFSOCK)), socket,
                 finish);
  b.SetInsertPoint(socket);
  w.socket(private_data);

  b.SetInsertPoint(finish);
  finish_capture(cc, header, index, status_value(p, capture_status::ok), b.getInt64(layout::size));
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

}  // namespace ebpfpub::detail
