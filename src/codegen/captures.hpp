#pragma once
// One emitter per capture operation. Each takes the capture's context explicitly: the
// program, the plan it works for, the entry being filled and (in exit programs) the
// return value. Every emitter writes a capture header at the entry's cursor, the bytes
// after it, and moves the cursor on; a capture that does not fit is left out.

#include <cstdint>
#include <vector>

#include <ebpfpub/plan.hpp>

#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {

/// What an enter program has in hand before it writes anything into the entry: the
/// filter's numbers stage reads these instead of the entry, so that a call it rejects
/// pays for no header and no argument slot (syscall_programs.cpp).
struct enter_values {
  llvm::Value* pid_tgid = nullptr;  ///< i64, bpf_get_current_pid_tgid()
  llvm::Value* uid_gid = nullptr;   ///< i64, bpf_get_current_uid_gid(); null if not read
  std::vector<llvm::Value*> arguments;  ///< the argument slots; empty if not read
};

struct capture_context {
  program& p;
  const target& t;
  llvm::Value* entry;
  llvm::Value* ret = nullptr;  ///< the return value, in exit programs
  /// When set, the header fields and arguments a number test reads come from here, not
  /// from the entry (which is then not written yet, and may be null).
  const enter_values* values = nullptr;
  /// ring_write::automatic's first try at exit: strings read_at_exit() are read up to
  /// automatic_string_bytes, and this i8 slot is set when one was longer.
  llvm::Value* longer_than_bound = nullptr;
};

/// Bytes a capture may write into the entry beyond its header: the verifier checks the
/// whole destination range of a read, whatever it actually returns.
std::uint32_t capture_reserve(const capture& c);

/// Whether an enter capture that faults is read again at exit (its retry bit): strings
/// and string arrays of a plan sent at exit. Filters on it wait for exit.
bool retryable(const plan& p, std::uint8_t index, const capture& c);
/// The largest record written straight into a ring slot: each record of a plan takes
/// its entry's full size of ring, so past this, staging (a copy, but only the used
/// bytes) is kinder to the ring than a slot (docs/resources.md, "Ring space per event").
inline constexpr std::uint32_t max_slot_bytes = 16 * 1024;
/// Whether the exit program of `t` writes its record straight into a reserved ring slot
/// (ring transport, a plan sent at exit, an entry of at most max_slot_bytes, and
/// ring_write::reserved, or ring_write::automatic for a plan with a string readable at
/// exit whose limit is over automatic_string_bytes: then only for a call where it is).
bool writes_into_slot(const codegen_options& o, const target& t);
/// Whether enter capture `index` is left to the exit program, which reads it into the
/// slot: a string the plan says is readable at exit, of a plan that writes into a slot.
/// It is retryable too, so a filter on it already waits for exit.
bool read_at_exit(const codegen_options& o, const target& t, std::uint8_t index, const capture& c);
/// Whether the exit program of `t` chooses per call between the staged copy and a slot
/// (ring_write::automatic, a plan that writes into a slot and has a string read at exit).
bool slot_by_length(const codegen_options& o, const target& t);
/// The longest element of a string array read in one go, with its NUL.
std::uint32_t array_item_bytes(const capture& c);

/// Runs the plan's captures of `phase`, in order (skipping, at exit, those that want a
/// successful call when it failed). Enter captures read_at_exit() run at exit instead.
void emit_captures(capture_context& cc, syscall_phase phase);

/// At exit: reads again each enter capture that faulted at enter (its retry bit is set
/// in `flags`, the entry's flags byte as enter left it).
void emit_retries(capture_context& cc, llvm::Value* flags);

// The emitters, and what they share (captures/*.cpp).

/// A NUL-terminated string from `source` (the capture's argument when null). With
/// `defer_faults`, a fault writes nothing and marks the capture for a retry at exit. With
/// `cut_flag` (an i8 slot), a string longer than max_bytes sets it.
void emit_string(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* source,
                 bool defer_faults, llvm::Value* cut_flag = nullptr);
/// `length` bytes from `source` (both from the plan when null), clamped to max_bytes.
void emit_bytes(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* source,
                llvm::Value* length);
/// A NULL-terminated array of strings, stored back to back with their NULs.
void emit_string_array(capture_context& cc, std::uint8_t index, const capture& c, bool defer_faults);
/// What the fd in `fd_value` (the capture's argument when null) names in the caller's fd
/// table: the fixed record of include/ebpfpub/fd_identity.hpp.
void emit_fd_identity(capture_context& cc, std::uint8_t index, const capture& c, llvm::Value* fd_value);
/// Where the path string at the capture's argument starts (capture_op::base_directory):
/// the record of include/ebpfpub/resolved_path.hpp.
void emit_base_directory(capture_context& cc, std::uint8_t index, const capture& c);

/// What a dentry walk leaves: its path_base_state (i8), the bytes of names written and
/// their number (i64 each).
struct dentry_walk {
  llvm::Value* state;
  llvm::Value* bytes;
  llvm::Value* count;
};
/// How a walk writes its names: leaf first from `names` on (end == 0), or prepending, as
/// the kernel's d_path: each component as "/name" right before the bytes written so far,
/// which end at `names + end`, so that the path reads in order, root first; at most
/// `limit` bytes (past them the walk says truncated), starting from `initial_bytes`
/// already there (a suffix such as " (deleted)"; null: none). `names` must have room for
/// mask_for(end) + 256 bytes: the verifier sees each name's start only as masked, and
/// cannot tell that a name ends where the last began.
struct prepend_walk {
  std::uint32_t end = 0;
  std::uint32_t limit = 0;
  llvm::Value* initial_bytes = nullptr;
};
/// Walks from `dentry` on `vfsmount` (kernel pointers as i64) up to the caller's root
/// (`root_mnt`, `root_dentry`), crossing mounts, writing each component's name, leaf first
/// and NUL-terminated, at `names` (room for base_directory_layout::name_bytes), or as
/// `prepend` says. `bytes_field` and `count_field` point to a u32 each in the map's memory
/// (the entry), where the walk keeps the bytes it wrote and the names it counted. The
/// builder goes on after the walk, in one block, whatever it found. Prepending, reaching
/// the namespace's root without meeting the caller's root ends the path `resolved` (as
/// d_path shows such a file) rather than `unreachable`, which is left for a disconnected
/// dentry.
dentry_walk emit_dentry_walk(program& p, const path_layout& l, llvm::Value* names, llvm::Value* bytes_field,
                             llvm::Value* count_field, llvm::Value* vfsmount, llvm::Value* dentry, llvm::Value* root_mnt,
                             llvm::Value* root_dentry, const prepend_walk& prepend = {});

/// After a successful execve: the same bytes from the new image's stack.
void emit_from_new_image(capture_context& cc, std::uint8_t index, const capture& c);

/// The capture's header pointer when it fits in the entry; otherwise the builder goes
/// on at `next` (the decoder reports the capture as no_space).
llvm::Value* reserve_capture(capture_context& cc, const capture& c, llvm::BasicBlock* next);
/// Writes a capture header and advances the cursor past `length` bytes (padded to 8).
void finish_capture(capture_context& cc, llvm::Value* header, std::uint8_t index,
                    llvm::Value* status, llvm::Value* length);
/// The argument slot `index` as the enter program stored it in the entry.
llvm::Value* argument_slot(capture_context& cc, std::uint8_t index);
/// Sets capture `index`'s retry bit in the entry's flags.
void defer_capture(capture_context& cc, std::uint8_t index);
llvm::Value* status_value(program& p, capture_status status);

}  // namespace ebpfpub::detail
