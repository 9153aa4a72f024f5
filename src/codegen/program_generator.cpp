// From plans to LLVM IR: one enter and one exit program per syscall (one program for
// those sent at enter), all in one module.
//
// The in-flight entry lives in a task-storage map: enter fills the record header, the
// argument slots and the enter captures; exit adds the return value and exit captures
// and sends the record's used bytes with one copy. Between the two, the record's `size`
// field is the write cursor.

#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include <ebpfpub/record.hpp>

#include "codegen/bpf_builder.hpp"
#include "codegen/codegen.hpp"
#include "codegen/program_generator.hpp"

namespace ebpfpub::detail {
namespace {

// The longest element of a string array read in one go, with its NUL.
std::uint32_t array_item_bytes(const capture& c) { return std::min<std::uint32_t>(c.max_bytes, 4096) + 1; }

// Bytes a capture may write into the entry beyond its header: the verifier checks the
// whole destination range of a read, whatever it actually returns.
std::uint32_t capture_reserve(const capture& c) {
  switch (c.op) {
    case capture_op::string:
      // +2: a string of exactly max_bytes reads as max_bytes+1 (with its NUL); one more
      // byte tells a longer string, which we cut and flag, from it.
      return record::capture_header_size + record::align8(c.max_bytes + 2);
    case capture_op::buffer:
    case capture_op::sockaddr:
    case capture_op::msghdr_name:
      return record::capture_header_size + record::align8(c.max_bytes);
    case capture_op::string_array:
      // Each element is read whole into what is left; the read may run past the limit.
      return record::capture_header_size + record::align8(c.max_bytes + array_item_bytes(c));
  }
  return 0;
}

class program_generator {
 public:
  /// A plan the program works for, with its index and in-flight storage.
  struct target {
    const plan* p;
    std::uint16_t index;
    int storage_fd;
    std::uint32_t storage_size;
  };

  program_generator(bpf_builder& b, const program_maps& maps, const codegen_options& options)
      : b_(b), maps_(maps), options_(options) {}

  llvm::Function* enter(const target& t) {
    use(t);
    begin(fmt::format("enter_{}", plan_->syscall.name));
    // exit and exit_group have no result: a result filter never passes them.
    if (plan_->emit_at_enter && options_.filter.result != result_filter::any) {
      b_.CreateBr(done_);
      return finish();
    }
    auto* entry = get_entry(true);
    branch_if_null(entry, loss_reason::no_storage);

    // Header, then the raw argument slots straight from the tracepoint's context.
    auto* i8 = b_.getInt8Ty();
    const auto argc = static_cast<std::uint32_t>(plan_->syscall.arguments.size());
    const std::uint8_t flags = plan_->emit_at_enter ? record::sent_at_enter : record::in_flight;
    b_.CreateStoreAt(b_.getInt16(index_), entry, record::offset::syscall);
    b_.CreateStoreAt(llvm::ConstantInt::get(i8, flags), entry, record::offset::flags);
    b_.CreateStoreAt(llvm::ConstantInt::get(i8, argc), entry, record::offset::argument_count);
    b_.CreateStoreAt(b_.CreateKtimeGetNs(), entry, record::offset::timestamp);
    // pid_tgid is tgid << 32 | pid: the process id is the high half.
    b_.CreateStoreAt(b_.CreateTrunc(b_.CreateLShr(pid_tgid_, 32), b_.getInt32Ty()), entry,
                     record::offset::process_id);
    b_.CreateStoreAt(b_.CreateTrunc(pid_tgid_, b_.getInt32Ty()), entry, record::offset::thread_id);
    b_.CreateStoreAt(b_.CreateGetCurrentUidGid(), entry, record::offset::user_id);
    b_.CreateStoreAt(b_.getInt64(0), entry, record::offset::exit_code);
    for (std::uint32_t i = 0; i < argc; ++i) {
      auto* slot = b_.CreateLoadAt(b_.getInt64Ty(), ctx_, plan_->syscall.arguments[i].offset,
                                   plan_->syscall.arguments[i].name);
      b_.CreateStoreAt(slot, entry, record::offset::arguments + 8 * i);
    }
    b_.CreateStore(b_.getInt64(record::header_size + 8 * argc), cursor_);
    emit_captures(entry, syscall_phase::enter);

    auto* size = b_.CreateLoad(b_.getInt64Ty(), cursor_, "size");
    b_.CreateStoreAt(b_.CreateTrunc(size, b_.getInt32Ty()), entry, record::offset::size);
    if (plan_->emit_at_enter) send(entry, size);
    b_.CreateBr(done_);
    return finish();
  }

  // The program of exit tracepoint `syscall`: it completes the in-flight entry of the
  // first target whose enter left one (usually the syscall's own plan; after a
  // successful execveat the kernel reports the exit of execve).
  llvm::Function* exit(std::string_view syscall, const std::vector<target>& targets) {
    use(targets.front());
    begin(fmt::format("exit_{}", syscall));
    for (const auto& t : targets) {
      use(t);
      auto* next = block("next_target");
      auto* entry = get_entry(false);
      auto* present = block("present");
      b_.CreateCondBr(b_.CreateIsNull(entry), next, present);
      b_.SetInsertPoint(present);

      // Only an entry that this plan's enter left in flight is ours to complete.
      auto* index = b_.CreateLoadAt(b_.getInt16Ty(), entry, record::offset::syscall);
      auto* flags = b_.CreateLoadAt(b_.getInt8Ty(), entry, record::offset::flags);
      auto* in_flight = b_.CreateAnd(flags, b_.getInt8(record::in_flight));
      auto* ours = b_.CreateAnd(b_.CreateICmpEQ(index, b_.getInt16(index_)),
                                b_.CreateICmpNE(in_flight, b_.getInt8(0)));
      auto* matched = block("matched");
      b_.CreateCondBr(ours, matched, next);

      b_.SetInsertPoint(matched);
      b_.CreateStoreAt(b_.getInt8(0), entry, record::offset::flags);
      auto* ret = b_.CreateLoadAt(b_.getInt64Ty(), ctx_, plan_->syscall.return_offset, "ret");
      ret_ = ret;
      if (options_.filter.result != result_filter::any) {
        // The entry is released (no longer in flight) and nothing is sent.
        auto* keep = block("result_matches");
        const bool want_failed = options_.filter.result == result_filter::failed;
        auto* failed = b_.CreateICmpSLT(ret, b_.getInt64(0));
        b_.CreateCondBr(want_failed ? failed : b_.CreateNot(failed), keep, done_);
        b_.SetInsertPoint(keep);
      }
      b_.CreateStoreAt(ret, entry, record::offset::exit_code);
      auto* cursor = b_.CreateZExt(b_.CreateLoadAt(b_.getInt32Ty(), entry, record::offset::size),
                                   b_.getInt64Ty());
      b_.CreateStore(cursor, cursor_);
      emit_retries(entry, flags);
      emit_captures(entry, syscall_phase::exit);
      auto* size = b_.CreateLoad(b_.getInt64Ty(), cursor_, "size");
      b_.CreateStoreAt(b_.CreateTrunc(size, b_.getInt32Ty()), entry, record::offset::size);
      send(entry, size);
      b_.CreateBr(done_);
      b_.SetInsertPoint(next);
    }
    use(targets.front());
    count(loss_reason::unmatched_exit);
    b_.CreateBr(done_);
    return finish();
  }

 private:
  void use(const target& t) {
    plan_ = t.p;
    index_ = t.index;
    storage_fd_ = t.storage_fd;
    storage_size_ = t.storage_size;
  }

  // A stack slot in the entry block, where LLVM expects every alloca.
  llvm::Value* entry_alloca(llvm::Type* type, const char* name) {
    auto& entry = function_->getEntryBlock();
    llvm::IRBuilder<> at(&entry, entry.getFirstInsertionPt());
    return at.CreateAlloca(type, nullptr, name);
  }

  llvm::BasicBlock* block(const char* name) {
    return llvm::BasicBlock::Create(b_.getContext(), name, function_);
  }

  // Creates the function, its stack slots and the self-filter; leaves the builder in the
  // block where the program's work starts.
  void begin(const std::string& name, bool with_filters = true) {
    auto* type = llvm::FunctionType::get(b_.getInt32Ty(), {b_.getPtrTy()}, false);
    function_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, b_.module());
    function_->setSection("tracepoint/" + name);
    function_->addFnAttr(llvm::Attribute::NoUnwind);
    ctx_ = function_->getArg(0);
    ctx_->setName("ctx");

    b_.SetInsertPoint(block("entry"));
    cursor_ = b_.CreateAlloca(b_.getInt64Ty(), nullptr, "cursor");
    key_ = b_.CreateAlloca(b_.getInt32Ty(), nullptr, "counter_key");
    thread_key_ = b_.CreateAlloca(b_.getInt32Ty(), nullptr, "thread_key");
    length_slot_ = b_.CreateAlloca(b_.getInt32Ty(), nullptr, "length_slot");
    msghdr_slot_ = b_.CreateAlloca(llvm::ArrayType::get(b_.getInt64Ty(), 2), nullptr, "msghdr");
    done_ = block("done");

    pid_tgid_ = b_.CreateGetCurrentPidTgid();
    if (!with_filters) return;
    if (options_.self_tgid != 0) {
      // The tracer's own calls (its reads of the ring buffer) are never recorded.
      auto* work = block("work");
      auto* self = b_.CreateICmpEQ(b_.CreateLShr(pid_tgid_, 32), b_.getInt64(options_.self_tgid));
      b_.CreateCondBr(self, done_, work);
      b_.SetInsertPoint(work);
    }
    apply_filters();
  }

  // Continues only for calls the filters let through. Exit programs check them too, so a
  // call filtered out at enter is not counted as an exit without its enter.
  void apply_filters() {
    const auto& f = options_.filter;
    auto pass_if = [&](llvm::Value* condition, const char* name) {
      auto* pass = block(name);
      b_.CreateCondBr(condition, pass, done_);
      b_.SetInsertPoint(pass);
    };
    if (f.process_map_fd >= 0) {
      b_.CreateStore(b_.CreateTrunc(b_.CreateLShr(pid_tgid_, 32), b_.getInt32Ty()), key_);
      pass_if(b_.CreateIsNotNull(b_.CreateMapLookup(f.process_map_fd, key_)), "process_traced");
    }
    if (!f.user_ids.empty()) {
      auto* uid = b_.CreateTrunc(b_.CreateGetCurrentUidGid(), b_.getInt32Ty(), "uid");
      llvm::Value* any = b_.getFalse();
      for (auto id : f.user_ids) any = b_.CreateOr(any, b_.CreateICmpEQ(uid, b_.getInt32(id)));
      pass_if(any, "user_matches");
    }
    if (!f.commands.empty()) {
      auto* comm = entry_alloca(llvm::ArrayType::get(b_.getInt64Ty(), 2), "comm");
      b_.CreateStore(llvm::ConstantAggregateZero::get(llvm::ArrayType::get(b_.getInt64Ty(), 2)), comm);
      b_.CreateGetCurrentComm(comm, 16);
      auto* low = b_.CreateLoadAt(b_.getInt64Ty(), comm, std::uint64_t{0});
      auto* high = b_.CreateLoadAt(b_.getInt64Ty(), comm, 8);
      llvm::Value* any = b_.getFalse();
      for (const auto& name : f.commands) {
        std::uint64_t words[2];
        std::memcpy(words, name.data(), 16);
        any = b_.CreateOr(any, b_.CreateAnd(b_.CreateICmpEQ(low, b_.getInt64(words[0])),
                                            b_.CreateICmpEQ(high, b_.getInt64(words[1]))));
      }
      pass_if(any, "command_matches");
    }
  }

 public:
  // track_fork: a traced process's child joins the map (threads add their id too; it is
  // never looked up, and leaves again at the thread's exit).
  llvm::Function* track_fork(std::uint32_t counters_base) {
    begin("track_fork", false);
    const auto& f = options_.filter;
    b_.CreateStore(b_.CreateTrunc(b_.CreateLShr(pid_tgid_, 32), b_.getInt32Ty()), key_);
    auto* add = block("parent_traced");
    b_.CreateCondBr(b_.CreateIsNull(b_.CreateMapLookup(f.process_map_fd, key_)), done_, add);
    b_.SetInsertPoint(add);
    auto* child = entry_alloca(b_.getInt32Ty(), "child");
    b_.CreateStore(b_.CreateLoadAt(b_.getInt32Ty(), ctx_, f.fork_child_pid, "child_pid"), child);
    auto* one = entry_alloca(b_.getInt8Ty(), "one");
    b_.CreateStore(b_.getInt8(1), one);
    auto* result = b_.CreateMapUpdate(f.process_map_fd, child, one, BPF_ANY);
    auto* full = block("map_full");
    b_.CreateCondBr(b_.CreateICmpNE(result, b_.getInt64(0)), full, done_);
    b_.SetInsertPoint(full);
    count_at(counters_base + static_cast<std::uint32_t>(global_counter::untracked_children));
    b_.CreateBr(done_);
    return finish();
  }

  // track_exit: a thread's own key goes; the process's goes when its last thread does.
  llvm::Function* track_exit() {
    begin("track_exit", false);
    const auto& f = options_.filter;
    auto* tgid = b_.CreateTrunc(b_.CreateLShr(pid_tgid_, 32), b_.getInt32Ty(), "tgid");
    auto* pid = b_.CreateLoadAt(b_.getInt32Ty(), ctx_, f.exit_pid, "pid");
    auto* thread = block("thread_exit");
    auto* group = block("check_group");
    b_.CreateCondBr(b_.CreateICmpNE(pid, tgid), thread, group);
    b_.SetInsertPoint(thread);
    b_.CreateStore(pid, key_);
    b_.CreateMapDelete(f.process_map_fd, key_);
    b_.CreateBr(group);
    b_.SetInsertPoint(group);
    auto* dead = b_.CreateLoadAt(b_.getInt8Ty(), ctx_, f.exit_group_dead, "group_dead");
    auto* remove = block("process_exit");
    b_.CreateCondBr(b_.CreateICmpNE(dead, b_.getInt8(0)), remove, done_);
    b_.SetInsertPoint(remove);
    b_.CreateStore(tgid, key_);
    b_.CreateMapDelete(f.process_map_fd, key_);
    b_.CreateBr(done_);
    return finish();
  }

 private:

  llvm::Function* finish() {
    b_.SetInsertPoint(done_);
    b_.CreateRet(b_.getInt32(0));
    // Blocks were created in order of need; put `done` last for readable IR.
    done_->moveAfter(&function_->back());
    return function_;
  }

  // The thread's in-flight entry, or null. Task storage creates it on demand; the LRU
  // hash map (keyed by thread id) is seeded from a zeroed per-CPU value, once per thread:
  // entries stay between calls, and the LRU evicts those of threads that are gone.
  llvm::Value* get_entry(bool create) {
    if (maps_.storage_kind == event_map_kind::task_storage)
      return b_.CreateTaskStorageGet(storage_fd_, b_.CreateGetCurrentTaskBtf(), create);
    auto* key = thread_key_;
    b_.CreateStore(b_.CreateTrunc(pid_tgid_, b_.getInt32Ty()), key);
    auto* found = b_.CreateMapLookup(storage_fd_, key);
    if (!create) return found;
    auto* from = b_.GetInsertBlock();
    auto* seed = block("seed");
    auto* have = block("have_entry");
    b_.CreateCondBr(b_.CreateIsNull(found), seed, have);
    b_.SetInsertPoint(seed);
    b_.CreateStore(b_.getInt32(0), key_);
    auto* zero = b_.CreateMapLookup(maps_.seed_fd, key_);
    auto* seeded = block("seeded");
    auto* seeded_end = seeded;
    b_.CreateCondBr(b_.CreateIsNull(zero), have, seeded);
    b_.SetInsertPoint(seeded);
    b_.CreateMapUpdate(storage_fd_, key, zero, BPF_ANY);
    auto* created = b_.CreateMapLookup(storage_fd_, key);
    b_.CreateBr(have);
    b_.SetInsertPoint(have);
    auto* entry = b_.CreatePHI(b_.getPtrTy(), 3, "entry");
    entry->addIncoming(found, from);
    entry->addIncoming(llvm::ConstantPointerNull::get(b_.getPtrTy()), seed);
    entry->addIncoming(created, seeded_end);
    return entry;
  }

  void branch_if_null(llvm::Value* pointer, loss_reason reason) {
    auto* present = block("present");
    auto* missing = block("missing");
    b_.CreateCondBr(b_.CreateIsNull(pointer), missing, present);
    b_.SetInsertPoint(missing);
    count(reason);
    b_.CreateBr(done_);
    b_.SetInsertPoint(present);
  }

  // counters[index * reasons + reason] += 1 (per-CPU array).
  void count(loss_reason reason) {
    count_at(index_ * loss_reason_count + static_cast<std::uint32_t>(reason));
  }

  void count_at(std::uint32_t slot) {
    b_.CreateStore(b_.getInt32(slot), key_);
    auto* counter = b_.CreateMapLookup(maps_.counters_fd, key_);
    auto* add = block("count");
    auto* after = block("counted");
    b_.CreateCondBr(b_.CreateIsNull(counter), after, add);
    b_.SetInsertPoint(add);
    b_.CreateAtomicRMW(llvm::AtomicRMWInst::Add, counter, b_.getInt64(1), llvm::MaybeAlign(8),
                       llvm::AtomicOrdering::Monotonic);
    b_.CreateBr(after);
    b_.SetInsertPoint(after);
  }

  void send(llvm::Value* entry, llvm::Value* size) {
    // The verifier needs the size bounded by the entry; it always is, by construction.
    auto* bounded = block("bounded");
    b_.CreateCondBr(b_.CreateICmpULE(size, b_.getInt64(storage_size_)), bounded, done_);
    b_.SetInsertPoint(bounded);
    llvm::Value* result = nullptr;
    if (options_.output == transport::ring) {
      // A wakeup per event costs more than the rest of the work (DESIGN.md): wake the
      // reader only once enough data waits; it also polls on a short timeout.
      auto* waiting = b_.CreateRingbufQuery(maps_.output_fd, BPF_RB_AVAIL_DATA);
      auto* flags = b_.CreateSelect(b_.CreateICmpUGE(waiting, b_.getInt64(options_.wakeup_bytes)),
                                    b_.getInt64(BPF_RB_FORCE_WAKEUP), b_.getInt64(BPF_RB_NO_WAKEUP));
      result = b_.CreateRingbufOutput(maps_.output_fd, entry, size, flags);
    } else {
      result = b_.CreatePerfEventOutput(ctx_, maps_.output_fd, entry, size);
    }
    auto* lost = block("lost");
    auto* sent = block("sent");
    b_.CreateCondBr(b_.CreateICmpNE(result, b_.getInt64(0)), lost, sent);
    b_.SetInsertPoint(lost);
    count(loss_reason::output_full);
    b_.CreateBr(sent);
    b_.SetInsertPoint(sent);
  }

  void emit_captures(llvm::Value* entry, syscall_phase phase) {
    for (std::size_t i = 0; i < plan_->captures.size(); ++i) {
      const auto& c = plan_->captures[i];
      if (c.when != phase) continue;
      llvm::BasicBlock* skip = nullptr;
      if (c.only_if_success && ret_) {
        auto* run = block("capture_on_success");
        skip = block("capture_skipped");
        b_.CreateCondBr(b_.CreateICmpSLT(ret_, b_.getInt64(0)), skip, run);
        b_.SetInsertPoint(run);
      }
      switch (c.op) {
        case capture_op::string: {
          const auto index = static_cast<std::uint8_t>(i);
          emit_string(entry, index, c, phase == syscall_phase::enter && retryable(index, c));
          break;
        }
        case capture_op::buffer:
        case capture_op::sockaddr:
        case capture_op::msghdr_name: emit_bytes(entry, static_cast<std::uint8_t>(i), c); break;
        case capture_op::string_array: {
          const auto index = static_cast<std::uint8_t>(i);
          emit_string_array(entry, index, c, phase == syscall_phase::enter && retryable(index, c));
          break;
        }
      }
      if (skip) {
        b_.CreateBr(skip);
        b_.SetInsertPoint(skip);
      }
    }
  }

  // A string in a page the caller has not touched yet (a string literal after fork, a
  // fresh file mapping) cannot be read at enter: the programs may not fault pages in. By
  // exit the kernel has read it, so it is read again then.
  bool retryable(std::uint8_t index, const capture& c) const {
    return (c.op == capture_op::string || c.op == capture_op::string_array) &&
           c.when == syscall_phase::enter && !plan_->emit_at_enter &&
           index < record::max_retried_captures;
  }

  // Marks capture `index` for a retry at exit.
  void defer(llvm::Value* entry, std::uint8_t index) {
    auto* flags = b_.CreateLoadAt(b_.getInt8Ty(), entry, record::offset::flags);
    b_.CreateStoreAt(b_.CreateOr(flags, b_.getInt8(record::retry_bit(index))), entry,
                     record::offset::flags);
  }

  void emit_retries(llvm::Value* entry, llvm::Value* flags) {
    for (std::size_t i = 0; i < plan_->captures.size(); ++i) {
      const auto index = static_cast<std::uint8_t>(i);
      const auto& c = plan_->captures[i];
      if (!retryable(index, c)) continue;
      auto* retry = block("retry");
      auto* next = block("after_retry");
      auto* bit = b_.CreateAnd(flags, b_.getInt8(record::retry_bit(index)));
      b_.CreateCondBr(b_.CreateICmpNE(bit, b_.getInt8(0)), retry, next);
      b_.SetInsertPoint(retry);
      if (c.image != exec_image::none && options_.exec.available) {
        // After a successful exec the old pointers lead nowhere: read the new image.
        auto* old_image = block("retry_old_image");
        auto* new_image = block("retry_new_image");
        b_.CreateCondBr(b_.CreateICmpEQ(ret_, b_.getInt64(0)), new_image, old_image);
        b_.SetInsertPoint(new_image);
        emit_from_new_image(entry, index, c);
        b_.CreateBr(next);
        b_.SetInsertPoint(old_image);
      }
      if (c.op == capture_op::string) emit_string(entry, index, c, /*defer_faults=*/false);
      else emit_string_array(entry, index, c, /*defer_faults=*/false);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
  }

  // current->mm->field, or 0.
  llvm::Value* mm_field(llvm::Value* mm, std::uint32_t offset, const char* name) {
    auto* slot = entry_alloca(b_.getInt64Ty(), name);
    b_.CreateStore(b_.getInt64(0), slot);
    b_.CreateProbeReadKernel(slot, 8, b_.CreateAdd(mm, b_.getInt64(offset)));
    return b_.CreateLoad(b_.getInt64Ty(), slot);
  }

  // The argv or envp block (NUL-separated strings, as the decoder wants them) or the
  // file name, from the stack of the image execve just started.
  void emit_from_new_image(llvm::Value* entry, std::uint8_t index, const capture& c) {
    const auto& layout = options_.exec;
    auto* mm_slot = entry_alloca(b_.getInt64Ty(), "mm");
    b_.CreateStore(b_.getInt64(0), mm_slot);
    b_.CreateProbeReadKernel(mm_slot, 8, b_.CreateAdd(b_.CreateGetCurrentTask(), b_.getInt64(layout.task_mm)));
    auto* mm = b_.CreateLoad(b_.getInt64Ty(), mm_slot, "mm");
    if (c.image == exec_image::filename) {
      capture from_stack = c;
      // The name sits right after the environment strings.
      emit_string_at(entry, index, from_stack, mm_field(mm, layout.env_end, "env_end"));
      return;
    }
    const bool argv = c.image == exec_image::argv;
    auto* start = mm_field(mm, argv ? layout.arg_start : layout.env_start, "block_start");
    auto* end = mm_field(mm, argv ? layout.arg_end : layout.env_end, "block_end");
    emit_bytes_at(entry, index, c, start, b_.CreateSub(end, start));
  }

  // Writes a capture header at the cursor and advances the cursor past `length` bytes.
  void finish_capture(llvm::Value* header, std::uint8_t index, llvm::Value* status,
                      llvm::Value* length) {
    b_.CreateStoreAt(b_.getInt8(index), header, std::uint64_t{0});
    b_.CreateStoreAt(status, header, 1);
    b_.CreateStoreAt(b_.getInt16(0), header, 2);
    b_.CreateStoreAt(b_.CreateTrunc(length, b_.getInt32Ty()), header, 4);
    auto* cursor = b_.CreateLoad(b_.getInt64Ty(), cursor_);
    auto* padded = b_.CreateAnd(b_.CreateAdd(length, b_.getInt64(7)), b_.getInt64(~std::uint64_t{7}));
    b_.CreateStore(b_.CreateAdd(cursor, b_.CreateAdd(padded, b_.getInt64(record::capture_header_size))),
                   cursor_);
  }

  // The capture's header pointer when it fits in the entry; otherwise the capture is left
  // out (the decoder reports it as no_space) and the builder continues at `next`.
  llvm::Value* reserve(llvm::Value* entry, const capture& c, llvm::BasicBlock* next) {
    const std::uint32_t need = capture_reserve(c);
    auto* cursor = b_.CreateLoad(b_.getInt64Ty(), cursor_, "cursor");
    auto* room = block("room");
    if (need > storage_size_) {
      b_.CreateBr(next);
    } else {
      b_.CreateCondBr(b_.CreateICmpULE(cursor, b_.getInt64(storage_size_ - need)), room, next);
    }
    b_.SetInsertPoint(room);
    return b_.CreateBytePointer(entry, cursor, "capture");
  }

  llvm::Value* argument(llvm::Value* entry, std::uint8_t index) {
    return b_.CreateLoadAt(b_.getInt64Ty(), entry, record::offset::arguments + 8 * index,
                           plan_->syscall.arguments[index].name);
  }

  // Reads a string capture at the cursor. With `defer_faults`, a fault writes nothing
  // and marks the capture for a retry at exit instead.
  void emit_string(llvm::Value* entry, std::uint8_t index, const capture& c, bool defer_faults) {
    emit_string_at(entry, index, c, nullptr, defer_faults);
  }

  void emit_string_at(llvm::Value* entry, std::uint8_t index, const capture& c,
                      llvm::Value* source, bool defer_faults = false) {
    auto* next = block("next_capture");
    auto* header = reserve(entry, c, next);
    auto* pointer = source ? source : argument(entry, c.argument);
    auto* data = b_.CreateBytePointer(header, b_.getInt64(record::capture_header_size), "data");

    auto* read = block("read");
    auto* store = block("store_capture");
    auto* from = b_.GetInsertBlock();
    b_.CreateCondBr(b_.CreateICmpEQ(pointer, b_.getInt64(0)), store, read);

    b_.SetInsertPoint(read);
    const std::uint32_t size = c.max_bytes + 2;
    auto* n = b_.CreateProbeReadUserStr(data, size, pointer);
    if (defer_faults) {
      auto* deferred = block("defer");
      auto* got = block("got");
      b_.CreateCondBr(b_.CreateICmpSLT(n, b_.getInt64(0)), deferred, got);
      b_.SetInsertPoint(deferred);
      defer(entry, index);
      b_.CreateBr(next);
      b_.SetInsertPoint(got);
      read = got;
    }
    // n < 0: fault; n == size: longer than max_bytes; else n - 1 bytes before the NUL.
    auto* fault = b_.CreateICmpSLT(n, b_.getInt64(0));
    auto* cut = b_.CreateICmpEQ(n, b_.getInt64(size));
    auto* status = b_.CreateSelect(
        fault, b_.getInt8(static_cast<std::uint8_t>(capture_status::fault)),
        b_.CreateSelect(cut, b_.getInt8(static_cast<std::uint8_t>(capture_status::truncated)),
                        b_.getInt8(static_cast<std::uint8_t>(capture_status::ok))));
    auto* length = b_.CreateSelect(
        fault, b_.getInt64(0),
        b_.CreateSelect(cut, b_.getInt64(c.max_bytes),
                        b_.CreateSelect(b_.CreateICmpSGT(n, b_.getInt64(0)),
                                        b_.CreateSub(n, b_.getInt64(1)), b_.getInt64(0))));
    // The verifier cannot follow the selects: mask to the capture's bound.
    length = b_.CreateAnd(length, b_.getInt64(mask_for(c.max_bytes)));
    b_.CreateBr(store);

    b_.SetInsertPoint(store);
    auto* status_phi = b_.CreatePHI(b_.getInt8Ty(), 2, "status");
    status_phi->addIncoming(b_.getInt8(static_cast<std::uint8_t>(capture_status::null_pointer)), from);
    status_phi->addIncoming(status, read);
    auto* length_phi = b_.CreatePHI(b_.getInt64Ty(), 2, "length");
    length_phi->addIncoming(b_.getInt64(0), from);
    length_phi->addIncoming(length, read);
    finish_capture(header, index, status_phi, length_phi);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }

  llvm::Value* status_value(capture_status status) {
    return b_.getInt8(static_cast<std::uint8_t>(status));
  }

  // How many bytes a buffer capture asks for, before clamping (i64, may be negative).
  llvm::Value* requested_length(llvm::Value* entry, const capture& c, llvm::BasicBlock*& failed_read) {
    switch (c.length) {
      case length_source::fixed: return b_.getInt64(c.max_bytes);
      case length_source::argument: return argument(entry, c.length_argument);
      case length_source::return_value: return ret_;
      case length_source::argument_pointer: {
        // An int in the caller's memory (socklen_t *addrlen): read it, or fail the capture.
        auto* slot = length_slot_;
        b_.CreateStore(b_.getInt32(0), slot);
        auto* r = b_.CreateProbeReadUser(slot, b_.getInt64(4), argument(entry, c.length_argument));
        auto* ok = block("length_read");
        failed_read = block("length_fault");
        b_.CreateCondBr(b_.CreateICmpSLT(r, b_.getInt64(0)), failed_read, ok);
        b_.SetInsertPoint(ok);
        return b_.CreateSExt(b_.CreateLoad(b_.getInt32Ty(), slot), b_.getInt64Ty(), "length");
      }
    }
    return b_.getInt64(0);
  }

  // A buffer or socket address: `length` bytes (from the plan's length source), at most
  // max_bytes; a negative length (a failed call's return value) captures nothing.
  void emit_bytes(llvm::Value* entry, std::uint8_t index, const capture& c) {
    emit_bytes_at(entry, index, c, nullptr, nullptr);
  }

  // With `from` and `length`, reads those instead of the plan's pointer and length.
  void emit_bytes_at(llvm::Value* entry, std::uint8_t index, const capture& c, llvm::Value* source,
                     llvm::Value* given_length) {
    auto* next = block("next_capture");
    auto* header = reserve(entry, c, next);
    auto* data = b_.CreateBytePointer(header, b_.getInt64(record::capture_header_size), "data");
    auto* pointer = source ? source : argument(entry, c.argument);
    auto* store = block("store_capture");
    auto* status_phi_block = store;
    (void)status_phi_block;

    struct incoming {
      llvm::BasicBlock* from;
      llvm::Value* status;
      llvm::Value* length;
    };
    std::vector<incoming> results;

    auto* not_null = block("not_null");
    results.push_back({b_.GetInsertBlock(), status_value(capture_status::null_pointer), b_.getInt64(0)});
    b_.CreateCondBr(b_.CreateICmpEQ(pointer, b_.getInt64(0)), store, not_null);
    b_.SetInsertPoint(not_null);

    llvm::BasicBlock* length_fault = nullptr;
    llvm::Value* wanted = nullptr;
    if (c.op == capture_op::msghdr_name) {
      // struct user_msghdr { void __user *msg_name; int msg_namelen; ... }
      auto* header_slot = msghdr_slot_;
      auto* r = b_.CreateProbeReadUser(header_slot, b_.getInt64(16), pointer);
      auto* got = block("got_msghdr");
      length_fault = block("msghdr_fault");
      b_.CreateCondBr(b_.CreateICmpSLT(r, b_.getInt64(0)), length_fault, got);
      b_.SetInsertPoint(got);
      pointer = b_.CreateLoad(b_.getInt64Ty(), header_slot, "msg_name");
      wanted = b_.CreateSExt(b_.CreateLoadAt(b_.getInt32Ty(), header_slot, 8), b_.getInt64Ty(), "msg_namelen");
      auto* named = block("named");
      results.push_back({got, status_value(capture_status::null_pointer), b_.getInt64(0)});
      b_.CreateCondBr(b_.CreateICmpEQ(pointer, b_.getInt64(0)), store, named);
      b_.SetInsertPoint(named);
    } else if (given_length) {
      wanted = given_length;
    } else {
      wanted = requested_length(entry, c, length_fault);
    }
    if (length_fault) {
      auto* here = b_.GetInsertBlock();
      b_.SetInsertPoint(length_fault);
      results.push_back({length_fault, status_value(capture_status::fault), b_.getInt64(0)});
      b_.CreateBr(store);
      b_.SetInsertPoint(here);
    }
    // Lengths from user space are clamped, never trusted: negative is nothing, more than
    // max_bytes is max_bytes and flagged.
    auto* negative = b_.CreateICmpSLT(wanted, b_.getInt64(0));
    auto* too_long = b_.CreateICmpSGT(wanted, b_.getInt64(c.max_bytes));
    auto* length = b_.CreateSelect(negative, b_.getInt64(0),
                                   b_.CreateSelect(too_long, b_.getInt64(c.max_bytes), wanted));
    auto* status = b_.CreateSelect(too_long, status_value(capture_status::truncated),
                                   status_value(capture_status::ok));
    // The verifier cannot follow the selects: bound the length for it.
    auto* bounded = block("bounded_length");
    auto* read = block("read_bytes");
    b_.CreateBr(bounded);
    b_.SetInsertPoint(bounded);
    results.push_back({bounded, status_value(capture_status::ok), b_.getInt64(0)});
    b_.CreateCondBr(b_.CreateICmpUGT(length, b_.getInt64(c.max_bytes)), store, read);
    b_.SetInsertPoint(read);
    auto* r = b_.CreateProbeReadUser(data, length, pointer);
    auto* failed = b_.CreateICmpSLT(r, b_.getInt64(0));
    results.push_back({read, b_.CreateSelect(failed, status_value(capture_status::fault), status),
                       b_.CreateSelect(failed, b_.getInt64(0), length)});
    b_.CreateBr(store);

    b_.SetInsertPoint(store);
    auto* status_phi = b_.CreatePHI(b_.getInt8Ty(), static_cast<unsigned>(results.size()), "status");
    auto* length_phi = b_.CreatePHI(b_.getInt64Ty(), static_cast<unsigned>(results.size()), "length");
    for (const auto& in : results) {
      status_phi->addIncoming(in.status, in.from);
      length_phi->addIncoming(in.length, in.from);
    }
    finish_capture(header, index, status_phi, length_phi);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }

  // argv and envp: up to max_items strings, max_bytes in all, stored back to back with
  // their NULs. More items or bytes than that: cut, and flagged truncated.
  void emit_string_array(llvm::Value* entry, std::uint8_t index, const capture& c, bool defer_faults) {
    auto* next = block("next_capture");
    auto* header = reserve(entry, c, next);
    auto* data = b_.CreateBytePointer(header, b_.getInt64(record::capture_header_size), "data");
    auto* base = argument(entry, c.argument);
    auto* used = entry_alloca(b_.getInt64Ty(), "used");
    auto* status = entry_alloca(b_.getInt8Ty(), "array_status");
    auto* element = entry_alloca(b_.getInt64Ty(), "element");
    b_.CreateStore(b_.getInt64(0), used);
    b_.CreateStore(status_value(capture_status::ok), status);
    auto* finished = block("array_done");
    auto* first = block("array_item");
    b_.CreateStore(status_value(capture_status::null_pointer), status);
    b_.CreateCondBr(b_.CreateICmpEQ(base, b_.getInt64(0)), finished, first);
    b_.SetInsertPoint(first);
    b_.CreateStore(status_value(capture_status::ok), status);

    const std::uint32_t item = array_item_bytes(c);
    // A real loop, not an unrolled one: the verifier bounds it (Linux >= 5.3) and LLVM
    // has a sixty-fifth of the code to compile. One look past max_items only tells
    // whether the array went on.
    auto* counter = entry_alloca(b_.getInt64Ty(), "item_index");
    b_.CreateStore(b_.getInt64(0), counter);
    auto* loop = block("array_item");
    b_.CreateBr(loop);
    b_.SetInsertPoint(loop);
    auto* i = b_.CreateLoad(b_.getInt64Ty(), counter, "i");
    auto* pointer_at = b_.CreateAdd(base, b_.CreateShl(i, 3));
    auto* r = b_.CreateProbeReadUser(element, b_.getInt64(8), pointer_at);
    auto* got_pointer = block("got_element");
    auto* fault = block("element_fault");
    b_.CreateCondBr(b_.CreateICmpSLT(r, b_.getInt64(0)), fault, got_pointer);
    b_.SetInsertPoint(fault);
    b_.CreateStore(status_value(capture_status::fault), status);
    b_.CreateBr(finished);

    b_.SetInsertPoint(got_pointer);
    auto* pointer = b_.CreateLoad(b_.getInt64Ty(), element, "element_pointer");
    auto* present = block("element_present");
    b_.CreateCondBr(b_.CreateICmpEQ(pointer, b_.getInt64(0)), finished, present);
    b_.SetInsertPoint(present);
    auto* room = block("element_room");
    auto* cut = block("array_cut");
    auto* offset = b_.CreateLoad(b_.getInt64Ty(), used, "offset");
    // Past max_items, or no byte left: the array is cut.
    b_.CreateCondBr(b_.CreateOr(b_.CreateICmpUGE(i, b_.getInt64(c.max_items)),
                                b_.CreateICmpUGE(offset, b_.getInt64(c.max_bytes))),
                    cut, room);
    b_.SetInsertPoint(cut);
    b_.CreateStore(status_value(capture_status::truncated), status);
    b_.CreateBr(finished);

    b_.SetInsertPoint(room);
    auto* n = b_.CreateProbeReadUserStr(b_.CreateBytePointer(data, offset), item, pointer);
    auto* read_ok = block("element_read");
    auto* read_fault = block("element_read_fault");
    b_.CreateCondBr(b_.CreateICmpSLT(n, b_.getInt64(0)), read_fault, read_ok);
    b_.SetInsertPoint(read_fault);
    b_.CreateStore(status_value(capture_status::fault), status);
    b_.CreateBr(finished);
    b_.SetInsertPoint(read_ok);
    // n counts the NUL; an element of `item` bytes or more was cut.
    auto* total = b_.CreateAdd(offset, b_.CreateAnd(n, b_.getInt64(mask_for(item))));
    auto* over = b_.CreateOr(b_.CreateICmpUGT(total, b_.getInt64(c.max_bytes)),
                             b_.CreateICmpEQ(n, b_.getInt64(item)));
    auto* clipped = b_.CreateSelect(b_.CreateICmpUGT(total, b_.getInt64(c.max_bytes)),
                                    b_.getInt64(c.max_bytes), total);
    b_.CreateStore(clipped, used);
    auto* go_on = block("next_item");
    auto* clip = block("element_clipped");
    b_.CreateCondBr(over, clip, go_on);
    b_.SetInsertPoint(clip);
    b_.CreateStore(status_value(capture_status::truncated), status);
    b_.CreateBr(finished);
    b_.SetInsertPoint(go_on);
    b_.CreateStore(b_.CreateAdd(i, b_.getInt64(1)), counter);
    b_.CreateBr(loop);

    b_.SetInsertPoint(finished);
    auto* final_status = b_.CreateLoad(b_.getInt8Ty(), status);
    if (defer_faults) {
      auto* deferred = block("defer_array");
      auto* keep = block("keep_array");
      b_.CreateCondBr(b_.CreateICmpEQ(final_status, status_value(capture_status::fault)), deferred, keep);
      b_.SetInsertPoint(deferred);
      defer(entry, index);
      b_.CreateBr(next);
      b_.SetInsertPoint(keep);
    }
    auto* length = b_.CreateAnd(b_.CreateLoad(b_.getInt64Ty(), used), b_.getInt64(mask_for(c.max_bytes)));
    finish_capture(header, index, final_status, length);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }

  // The smallest all-ones mask that covers `n` (a length of at most n stays below it).
  static std::uint64_t mask_for(std::uint32_t n) {
    std::uint64_t mask = 1;
    while (mask < n) mask = (mask << 1) | 1;
    return mask;
  }

  bpf_builder& b_;
  const plan* plan_ = nullptr;
  std::uint16_t index_ = 0;
  int storage_fd_ = -1;
  std::uint32_t storage_size_ = 0;
  const program_maps& maps_;
  const codegen_options& options_;

  llvm::Function* function_ = nullptr;
  llvm::Argument* ctx_ = nullptr;
  llvm::Value* cursor_ = nullptr;
  llvm::Value* key_ = nullptr;
  llvm::Value* thread_key_ = nullptr;
  llvm::Value* length_slot_ = nullptr;
  llvm::Value* msghdr_slot_ = nullptr;
  llvm::Value* pid_tgid_ = nullptr;
  llvm::Value* ret_ = nullptr;  // the return value, in exit programs
  llvm::BasicBlock* done_ = nullptr;
};

}  // namespace

std::uint32_t entry_size(const plan& p, std::uint32_t max_captures) {
  std::uint32_t size = record::header_size + 8 * static_cast<std::uint32_t>(p.syscall.arguments.size());
  std::vector<std::uint32_t> reserves;
  for (const auto& c : p.captures) reserves.push_back(capture_reserve(c));
  // Room for the largest `max_captures` of them: any that many fit whole.
  std::sort(reserves.rbegin(), reserves.rend());
  for (std::size_t i = 0; i < reserves.size() && i < max_captures; ++i) size += reserves[i];
  return size;
}

void generate_process_tracking(bpf_builder& builder, std::uint32_t counters_base,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out) {
  program_generator fork_generator(builder, maps, options);
  out.push_back({fork_generator.track_fork(counters_base), "sched/sched_process_fork"});
  program_generator exit_generator(builder, maps, options);
  out.push_back({exit_generator.track_exit(), "sched/sched_process_exit"});
}

void generate_session_programs(bpf_builder& builder, std::span<const plan> plans,
                               const program_maps& maps, const codegen_options& options,
                               std::vector<generated_function>& out) {
  auto target_of = [&](std::size_t i) {
    return program_generator::target{&plans[i], static_cast<std::uint16_t>(i),
                                     maps.storage_fd.at(i), maps.storage_size.at(i)};
  };
  // Which plans complete at each exit tracepoint: the syscall's own, then those that
  // name it as an alias. std::map: programs come out in a stable order.
  std::map<std::string, std::vector<program_generator::target>> exits;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].emit_at_enter) continue;
    auto& own = exits[plans[i].syscall.name];
    own.insert(own.begin(), target_of(i));
  }
  for (std::size_t i = 0; i < plans.size(); ++i)
    for (const auto& alias : plans[i].exit_aliases) exits[alias].push_back(target_of(i));

  for (std::size_t i = 0; i < plans.size(); ++i) {
    program_generator generator(builder, maps, options);
    out.push_back({generator.enter(target_of(i)), "sys_enter_" + plans[i].syscall.name});
    auto own = exits.find(plans[i].syscall.name);
    if (own == exits.end()) continue;
    program_generator exit_generator(builder, maps, options);
    out.push_back({exit_generator.exit(own->first, own->second), "sys_exit_" + own->first});
    exits.erase(own);
  }
  // Exit tracepoints of syscalls not traced themselves, only as aliases.
  for (const auto& [syscall, targets] : exits) {
    program_generator exit_generator(builder, maps, options);
    out.push_back({exit_generator.exit(syscall, targets), "sys_exit_" + syscall});
  }
}

}  // namespace ebpfpub::detail
