// Dispatch mode's two forms of program: tp_btf ones (BPF_PROG_TYPE_TRACING on
// raw_syscalls' BTF typedefs) where the kernel takes them, as this one (6.18) does, which
// read the caller's registers and thread status with plain loads; and the raw tracepoint
// ones an older kernel gets (EBPFPUB_TEST_READS=helpers asks for them here), which read
// them through bpf_probe_read_kernel. Both give a child's calls exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "session/dispatch.hpp"
#include "support/child.hpp"

namespace sys = ebpfpub::syscalls;

namespace {

// EBPFPUB_TEST_READS for one scope (unset for ""), put back as it was after: the suite
// may run with it set (ctest's kernel_tests_dispatch_helper_reads).
class reads_for_scope {
 public:
  explicit reads_for_scope(const std::string& value) {
    if (const char* old = std::getenv("EBPFPUB_TEST_READS")) old_ = old;
    if (value.empty()) ::unsetenv("EBPFPUB_TEST_READS");
    else ::setenv("EBPFPUB_TEST_READS", value.c_str(), 1);
  }
  ~reads_for_scope() {
    if (old_) ::setenv("EBPFPUB_TEST_READS", old_->c_str(), 1);
    else ::unsetenv("EBPFPUB_TEST_READS");
  }

 private:
  std::optional<std::string> old_;
};

// The program types (BPF_PROG_TYPE_*) of the programs this process holds, by name.
std::vector<std::pair<std::string, std::uint32_t>> own_program_types() {
  std::vector<std::pair<std::string, std::uint32_t>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:bpf-prog") continue;
    bpf_prog_info info{};
    __u32 length = sizeof(info);
    const int fd = std::stoi(entry.path().filename().string());
    if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0) found.emplace_back(info.name, info.type);
  }
  std::sort(found.begin(), found.end());
  return found;
}

bool calls_helper(const ebpfpub::detail::program_code& program, int helper) {
  for (const auto& insn : program.instructions)
    if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 && insn.imm == helper) return true;
  return false;
}

}  // namespace

TEST_CASE("in dispatch mode the programs are tp_btf ones on this kernel, raw tracepoint ones "
          "with EBPFPUB_TEST_READS=helpers, and both record a child's mkdir and rmdir exactly") {
  const std::string reads = GENERATE(as<std::string>{}, "", "helpers");
  INFO("EBPFPUB_TEST_READS=" << reads);
  const reads_for_scope scope(reads);
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / "made").string();
  ebpfpub::test::child_process child([path] {
    if (::syscall(SYS_mkdir, path.c_str(), 0751) != 0) return 10;
    if (::syscall(SYS_mkdir, path.c_str(), 0700) != -1) return 11;  // EEXIST
    return ::syscall(SYS_rmdir, path.c_str()) == 0 ? 0 : 12;
  });
  const auto pid = static_cast<std::uint32_t>(child.pid());
  // No process filter: then no process tracking programs, only the calls' and the dispatchers.
  auto tracer = ebpfpub::tracer::create({.attach = ebpfpub::attach_mode::dispatch});
  REQUIRE(tracer);
  std::vector<std::string> seen;
  REQUIRE(tracer->trace<sys::mkdir>([&](const auto& e) {
    if (e.header.process_id == pid)
      seen.push_back("mkdir " + e.args.pathname.value + " " + std::to_string(e.args.mode) + " " +
                     std::to_string(e.header.exit_code));
  }));
  REQUIRE(tracer->trace<sys::rmdir>([&](const auto& e) {
    if (e.header.process_id == pid) seen.push_back("rmdir " + e.args.pathname.value + " " + std::to_string(e.header.exit_code));
  }));
  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(started->attached == ebpfpub::attach_mode::dispatch);
  const std::uint32_t type = reads == "helpers" ? BPF_PROG_TYPE_RAW_TRACEPOINT : BPF_PROG_TYPE_TRACING;
  using typed = std::pair<std::string, std::uint32_t>;
  CHECK(own_program_types() == std::vector<typed>{{"dispatch_enter", type}, {"dispatch_exit", type},
                                                  {"enter_mkdir", type}, {"enter_rmdir", type},
                                                  {"exit_mkdir", type}, {"exit_rmdir", type}});
  child.go();
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 50 && seen.size() < 3; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(seen == std::vector<std::string>{"mkdir " + path + " 489 0", "mkdir " + path + " 448 -17",
                                         "rmdir " + path + " 0"});
  tracer->stop();
  CHECK(own_program_types().empty());
}

TEST_CASE("dispatch's tp_btf programs read the registers, the syscall number at exit and the "
          "thread's status with plain loads; the raw tracepoint ones with bpf_probe_read_kernel") {
  const std::string reads = GENERATE(as<std::string>{}, "", "helpers");
  INFO("EBPFPUB_TEST_READS=" << reads);
  const reads_for_scope scope(reads);
  auto fs = ebpfpub::tracefs::open();
  REQUIRE(fs);
  std::vector<ebpfpub::plan> plans;
  for (const char* name : {"openat", "getppid"}) {
    auto d = ebpfpub::describe_syscall(*fs, name);
    REQUIRE(d);
    plans.push_back(ebpfpub::make_generic_plan(*d, {}));
  }
  ebpfpub::detail::codegen_options options;
  ebpfpub::detail::injected_faults no_faults;
  auto tables = ebpfpub::detail::dispatch_tables::create(options.dispatch, plans, no_faults);
  if (!tables) FAIL(tables.error().what());
  const bool typed = reads.empty();
  CHECK((options.dispatch.enter_btf_id != 0) == typed);
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11, .storage_kind = ebpfpub::event_map_kind::task_storage};
  for (const auto& p : plans) {
    maps.storage_fd.push_back(12);
    maps.storage_size.push_back(ebpfpub::detail::entry_size(p, 4));
  }
  auto code = ebpfpub::detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  // enter_openat, enter_getppid, exit_openat, exit_getppid and the two dispatchers.
  REQUIRE(code->programs.size() == 6);
  const auto enter_id = ebpfpub::detail::kernel_btf_id("btf_trace_sys_enter", BTF_KIND_TYPEDEF);
  const auto exit_id = ebpfpub::detail::kernel_btf_id("btf_trace_sys_exit", BTF_KIND_TYPEDEF);
  REQUIRE(enter_id);
  REQUIRE(exit_id);
  for (const auto& program : code->programs) {
    INFO(program.name);
    const bool enter = program.name.starts_with("enter_") || program.name == "dispatch_enter";
    if (typed) {
      CHECK(program.kind == ebpfpub::detail::program_kind::btf_tracepoint);
      CHECK(program.attach_btf_id == (enter ? *enter_id : *exit_id));
      CHECK_FALSE(calls_helper(program, BPF_FUNC_probe_read_kernel));
      CHECK_FALSE(calls_helper(program, BPF_FUNC_get_current_task));
    } else {
      CHECK(program.kind == ebpfpub::detail::program_kind::raw_tracepoint);
      CHECK(program.attach_btf_id == 0);
      // The enter dispatcher has the number in its context and reads nothing.
      CHECK(calls_helper(program, BPF_FUNC_probe_read_kernel) == (program.name != "dispatch_enter"));
    }
    // Each syscall program checks the thread's status, typed or by helper.
    if (program.name.starts_with("enter_") || program.name.starts_with("exit_")) {
      CHECK(calls_helper(program, BPF_FUNC_get_current_task_btf) == true);  // its task storage, and typed: the status
      CHECK(calls_helper(program, BPF_FUNC_get_current_task) == !typed);
    }
  }
}
