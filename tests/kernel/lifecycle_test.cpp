// Kernel objects come and go with their owners; the verifier's word reaches the user.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <linux/btf.h>
#include <sys/syscall.h>

#include <ebpfpub/ebpfpub.hpp>

#include "kernel/kernel.hpp"
#include "codegen/codegen.hpp"
#include "session/kernel_facts.hpp"
#include "support/child.hpp"
#include "support/process.hpp"

namespace sys = ebpfpub::syscalls;

namespace {

// Names of the BPF programs and maps loaded in the whole system whose names start with
// `prefix` (the kernel keeps 15 characters).
std::vector<std::string> loaded(bool programs, const std::string& prefix) {
  std::vector<std::string> names;
  __u32 id = 0;
  for (;;) {
    const int next = programs ? bpf_prog_get_next_id(id, &id) : bpf_map_get_next_id(id, &id);
    if (next != 0) break;
    const ebpfpub::detail::unique_fd fd(programs ? bpf_prog_get_fd_by_id(id) : bpf_map_get_fd_by_id(id));
    if (!fd) continue;
    std::string name;
    if (programs) {
      bpf_prog_info info{};
      __u32 length = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd.get(), &info, &length) == 0) name = info.name;
    } else {
      bpf_map_info info{};
      __u32 length = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd.get(), &info, &length) == 0) name = info.name;
    }
    if (name.starts_with(prefix)) names.push_back(name);
  }
  return names;
}

// The kernel frees a map after the programs that use it, a little later (RCU): wait for
// the count to settle, up to 10 s.
std::size_t settled_maps(const std::string& prefix, std::size_t expected) {
  std::size_t n = loaded(false, prefix).size();
  for (int i = 0; i < 100 && n != expected; ++i) {
    ::usleep(100'000);
    n = loaded(false, prefix).size();
  }
  return n;
}

}  // namespace

TEST_CASE("a verifier rejection comes back with the verifier's log") {
  // r0 = *(u64 *)(r10 + 8): a read above the stack frame; exit.
  std::vector<bpf_insn> program{
      {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_10, .off = 8, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}};
  auto fd = ebpfpub::detail::load_tracepoint_program("bad_program", program);
  REQUIRE_FALSE(fd);
  CHECK(fd.error().code() == ebpfpub::errc::verifier_rejected);
  const auto& message = fd.error().message();
  CHECK(message.starts_with("the kernel's verifier rejected program bad_program"));
  CHECK(message.find("verifier log:\n") != std::string::npos);
  CHECK(message.find("invalid read from stack") != std::string::npos);
}

TEST_CASE("no program or map of ours outlives its tracer") {
  const auto programs_before = loaded(true, "enter_").size() + loaded(true, "exit_").size();
  const auto maps_before = loaded(false, "ebpfpub_").size();
  {
    auto tracer = ebpfpub::tracer::create();
    REQUIRE(tracer);
    REQUIRE(tracer->trace<sys::mkdir>([](const auto&) {}));
    REQUIRE(tracer->trace("exit_group", [](const auto&) {}));
    REQUIRE(tracer->start());
    CHECK(loaded(true, "enter_mkdir").size() == 1);
    CHECK(loaded(true, "exit_mkdir").size() == 1);
    CHECK(loaded(true, "enter_exit_grou").size() == 1);
    CHECK(loaded(false, "ebpfpub_").size() == maps_before + 3);  // storage, counters, ring
    tracer->stop();
    CHECK(loaded(true, "enter_mkdir").empty());
  }
  CHECK(loaded(true, "enter_").size() + loaded(true, "exit_").size() == programs_before);
  CHECK(settled_maps("ebpfpub_", maps_before) == maps_before);
}

TEST_CASE("a start() that fails half-way leaves nothing behind and says why") {
  const auto maps_before = loaded(false, "ebpfpub_").size();
  ebpfpub::tracer_options options;
  options.resources.buffer_size = 32768;
  options.resources.buffer_count = 2;  // renameat2's two paths: 64 KiB, over the limit
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace<sys::openat>([](const auto&) {}));
  REQUIRE(tracer->trace<sys::renameat2>([](const auto&) {}));
  auto started = tracer->start();
  REQUIRE_FALSE(started);
  CHECK(started.error().code() == ebpfpub::errc::exhausted);
  CHECK(started.error().message().find("lower resources.buffer_size (32768) or resources.buffer_count (2)") !=
        std::string::npos);
  tracer = ebpfpub::tracer::create();  // drops the first
  CHECK(settled_maps("ebpfpub_", maps_before) == maps_before);
}

TEST_CASE("a syscall with private storage gets its own in-flight map") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / ebpfpub::test::random_name()).string();
  ebpfpub::test::child_process child([&] {
    ::syscall(SYS_mkdir, path.c_str(), 0700);
    ::syscall(SYS_rmdir, path.c_str());
    return 0;
  });
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  std::vector<std::string> seen;
  auto own = [&](const ebpfpub::dynamic_event& e) {
    if (e.header.process_id == static_cast<std::uint32_t>(child.pid()))
      seen.push_back(std::string(e.header.syscall) + " " +
                     std::get<ebpfpub::user_string>(e.args[0].value).value);
  };
  auto mkdir = ebpfpub::serializer<sys::mkdir>::make_plan({});
  mkdir.private_storage = true;
  REQUIRE(tracer->add(mkdir, [&](const ebpfpub::record_view& r) { own(ebpfpub::decode_dynamic(r)); }));
  REQUIRE(tracer->trace("rmdir", own));
  const auto shared_before = settled_maps("ebpfpub_events", 0);
  REQUIRE(tracer->prepare());
  CHECK(loaded(false, "ebpfpub_mkdir").size() == 1);
  CHECK(loaded(false, "ebpfpub_events").size() == shared_before + 1);
  REQUIRE(tracer->start());
  child.go();
  CHECK(child.wait() == 0);
  for (int i = 0; i < 20 && seen.size() < 2; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(seen == std::vector<std::string>{"mkdir " + path, "rmdir " + path});
}

TEST_CASE("after SIGKILL of ebpftracer no program of its stays attached") {
  ebpfpub::test::program_run tracer({EBPFTRACER_PATH, "-t", "mkdir,rmdir"});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  CHECK(loaded(true, "enter_mkdir").size() == 1);
  tracer.signal(SIGKILL);
  CHECK(tracer.finish() == 128 + SIGKILL);
  // The kernel releases links, programs and maps with the process's descriptors.
  std::size_t left = 1;
  for (int i = 0; i < 100 && left != 0; ++i) {
    left = loaded(true, "enter_mkdir").size() + loaded(true, "exit_mkdir").size();
    if (left) ::usleep(100'000);
  }
  CHECK(left == 0);
}

TEST_CASE("generated programs call no helper that writes memory or changes kernel state") {
  // The helpers programs may call: reads of the caller's context and memory, maps,
  // outputs, time and ids. Anything else (bpf_probe_write_user, bpf_send_signal,
  // bpf_override_return, ...) is a bug.
  const std::set<int> allowed{BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem,
                              BPF_FUNC_map_delete_elem, BPF_FUNC_ktime_get_ns,
                              BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
                              BPF_FUNC_get_current_comm, BPF_FUNC_perf_event_output,
                              BPF_FUNC_get_current_task, BPF_FUNC_probe_read_user,
                              BPF_FUNC_probe_read_kernel, BPF_FUNC_probe_read_user_str,
                              BPF_FUNC_ringbuf_output, BPF_FUNC_ringbuf_query,
                              BPF_FUNC_task_storage_get, BPF_FUNC_get_current_task_btf,
                              BPF_FUNC_probe_read_kernel_str};
  // The one kernel function: a cast the verifier turns into a register move.
  const auto rdonly_cast = ebpfpub::detail::kernel_btf_id("bpf_rdonly_cast", BTF_KIND_FUNC);
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  auto names = tracer->available_syscalls();
  REQUIRE(names);
  // Two sessions: every syscall with the generic serializer, and every specialization.
  // And every syscall with fd identities and every context field, which read the kernel's
  // structures.
  std::vector<ebpfpub::plan> generic, specialized, enriched;
  for (const auto& name : *names) {
    auto d = ebpfpub::describe_syscall(ebpfpub::tracefs::open().value(), name);
    REQUIRE(d);
    generic.push_back(ebpfpub::make_generic_plan(*d, {}));
    enriched.push_back(ebpfpub::make_generic_plan(*d, {.fd_identity = true}));
  }
  ebpfpub::serializers::specialized::for_each([&]<typename S>() {
    specialized.push_back(ebpfpub::serializer<S>::make_plan({.capture_envp = true}));
  });
  for (auto kind : {ebpfpub::event_map_kind::task_storage, ebpfpub::event_map_kind::hash})
  for (const auto* session : {&generic, &specialized, &enriched}) {
    const auto& plans = *session;
    ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11, .storage_kind = kind, .seed_fd = 13};
    for (const auto& p : plans) {
      maps.storage_fd.push_back(12);
      maps.storage_size.push_back(ebpfpub::detail::entry_size(p, 4));
    }
    ebpfpub::detail::codegen_options options;
    options.filter.process_map_fd = 14;
    options.filter.user_ids = {1};
    options.exec = {true, 8, 16, 24, 32, 40};
    if (session == &enriched) {
      options.fd = ebpfpub::detail::fd_layout_for(plans).value();
      options.context = ebpfpub::detail::context_layout_for(ebpfpub::context_fields::from_bits(31)).value();
      CHECK(options.fd.rdonly_cast != 0);  // this kernel (6.18) casts: the typed walk is checked
    }
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    for (const auto& program : code->programs)
      for (const auto& insn : program.instructions)
        if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0) {
          INFO(program.name << " calls helper " << insn.imm);
          CHECK(allowed.count(insn.imm) == 1);
        } else if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_KFUNC_CALL) {
          INFO(program.name << " calls kernel function " << insn.imm);
          REQUIRE(rdonly_cast);
          CHECK(static_cast<std::uint32_t>(insn.imm) == *rdonly_cast);
        }
  }
}
