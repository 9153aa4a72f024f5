// Kernel objects come and go with their owners; the verifier's word reaches the user.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <sys/syscall.h>

#include <ebpfpub/ebpfpub.hpp>

#include "kernel/kernel.hpp"
#include "support/child.hpp"

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
  CHECK(started.error().message().find("lower -b (buffer size 32768) or -c (buffer count 2)") !=
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
