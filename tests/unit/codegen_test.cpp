// Code generation without a kernel: the module must verify, compile, and contain the
// programs and helper calls the plans ask for.
#include <catch2/catch.hpp>

#include <algorithm>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/syscalls.hpp>

#include "codegen/codegen.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::detail::generate_programs;

namespace {

// Map fds only become immediates in the code: any numbers do without a kernel.
ebpfpub::detail::program_maps fake_maps(const std::vector<ebpfpub::plan>& plans) {
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11};
  for (const auto& p : plans) {
    maps.storage_fd.push_back(12);
    maps.storage_size.push_back(ebpfpub::detail::entry_size(p, 4));
  }
  return maps;
}

// The text of function `name` in the module's IR.
std::string function_ir(const std::string& ir, const std::string& name) {
  const auto at = ir.find("@" + name + "(");
  if (at == std::string::npos) return {};
  const auto start = ir.rfind("define", at);
  return ir.substr(start, ir.find("\n}\n", at) - start);
}

bool calls(const std::string& function, int helper) {
  return function.find("inttoptr (i64 " + std::to_string(helper) + " to ptr)") != std::string::npos;
}

}  // namespace

TEST_CASE("openat and exit_group compile to the programs their plans need") {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({}),
                                   ebpfpub::serializer<sys::exit_group>::make_plan({})};
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  auto code = generate_programs(plans, fake_maps(plans),
                                {.output = transport, .self_tgid = 42, .wakeup_bytes = 4096, .keep_ir = true});
  if (!code) FAIL(code.error().what());
  REQUIRE(code->programs.size() == 3);
  CHECK(code->programs[0].name == "enter_openat");
  CHECK(code->programs[0].tracepoint == "sys_enter_openat");
  CHECK(code->programs[1].name == "exit_openat");
  CHECK(code->programs[1].tracepoint == "sys_exit_openat");
  CHECK(code->programs[2].name == "enter_exit_group");
  for (const auto& p : code->programs) {
    INFO(p.name);
    CHECK(p.instructions.size() > 10);
    CHECK(p.instructions.size() < 1000);
    CHECK(std::any_of(p.instructions.begin(), p.instructions.end(),
                      [](const bpf_insn& i) { return i.code == (BPF_JMP | BPF_EXIT); }));
  }
  // Helpers are called by number: task storage (156), current task (158), and the
  // string read (114) at enter; the output at exit.
  const auto& ir = code->ir;
  CHECK(ir.find("inttoptr (i64 156 to ptr)") != std::string::npos);
  CHECK(ir.find("inttoptr (i64 158 to ptr)") != std::string::npos);
  CHECK(ir.find("inttoptr (i64 114 to ptr)") != std::string::npos);
  const auto output = transport == ebpfpub::transport::ring ? "inttoptr (i64 130 to ptr)"
                                                            : "inttoptr (i64 25 to ptr)";
  CHECK(ir.find(output) != std::string::npos);
  CHECK(ir.find("@llvm.bpf.pseudo(i64 1, i64 10)") != std::string::npos);
  // The tracer's own process is filtered out.
  CHECK(ir.find("42") != std::string::npos);
}

TEST_CASE("every syscall's generic programs compile in one module") {
  std::vector<ebpfpub::plan> plans;
  sys::all::for_each([&]<typename S>() { plans.push_back(ebpfpub::serializer<S>::make_plan({})); });
  auto code = generate_programs(plans, fake_maps(plans), {});
  if (!code) FAIL(code.error().what());
  CHECK(code->programs.size() == 2 * plans.size() - 2);
  CHECK(code->ir.empty());  // not kept unless asked
}

TEST_CASE("the in-flight entry has room for the header, the arguments and each capture") {
  const auto openat = ebpfpub::serializer<sys::openat>::make_plan({.string_size = 4096});
  // 48 header + 4 * 8 arguments + (8 capture header + 4104 string room).
  CHECK(ebpfpub::detail::entry_size(openat, 4) == 48 + 32 + 8 + 4104);
  const auto rename = ebpfpub::serializer<sys::renameat2>::make_plan({.string_size = 100});
  CHECK(ebpfpub::detail::entry_size(rename, 4) == 48 + 40 + 2 * (8 + 104));
  CHECK(ebpfpub::detail::entry_size(rename, 1) == 48 + 40 + 8 + 104);
}

namespace {

// openat's programs, its path captured up to `string_size` bytes, written to `output` by `write`.
ebpfpub::detail::generated_code openat_code(std::uint32_t string_size, ebpfpub::ring_write write,
                                            ebpfpub::transport output = ebpfpub::transport::ring) {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({.string_size = string_size})};
  auto code = generate_programs(plans, fake_maps(plans), {.output = output, .write = write, .keep_ir = true});
  if (!code) FAIL(code.error().what());
  return std::move(*code);
}

}  // namespace

TEST_CASE("a path is read at exit into a reserved ring slot, or staged at enter and copied out") {
  // Helpers: 114 probe_read_user_str, 130 ringbuf_output, 131 ringbuf_reserve, 132 submit.
  constexpr int read_str = 114, output = 130, reserve = 131, submit = 132;
  SECTION("ring_write::reserved: enter keeps the pointer, exit reads into the slot") {
    const auto code = openat_code(4096, ebpfpub::ring_write::reserved);
    const auto enter = function_ir(code.ir, "enter_openat");
    const auto exit = function_ir(code.ir, "exit_openat");
    CHECK_FALSE(calls(enter, read_str));
    CHECK(calls(exit, read_str));
    CHECK(calls(exit, reserve));
    CHECK(calls(exit, submit));
    CHECK_FALSE(calls(exit, output));
    // The slot is the plan's largest record: 48 + 4 * 8 + 8 + 4104 bytes.
    CHECK(exit.find("i64 4192, i64 0)") != std::string::npos);
  }
  SECTION("ring_write::staged: enter reads into the entry, exit copies it out") {
    const auto code = openat_code(4096, ebpfpub::ring_write::staged);
    CHECK(calls(function_ir(code.ir, "enter_openat"), read_str));
    CHECK(calls(function_ir(code.ir, "exit_openat"), output));
    CHECK_FALSE(calls(function_ir(code.ir, "exit_openat"), reserve));
  }
  SECTION("a record over max_slot_bytes is staged: a slot of its size would waste the ring") {
    const auto code = openat_code(20000, ebpfpub::ring_write::reserved);
    CHECK(calls(function_ir(code.ir, "enter_openat"), read_str));
    CHECK_FALSE(calls(function_ir(code.ir, "exit_openat"), reserve));
  }
  SECTION("ring_write::automatic: a path is read at exit; the record staged or, for a long one, a slot") {
    const auto code = openat_code(4096, ebpfpub::ring_write::automatic);
    const auto exit = function_ir(code.ir, "exit_openat");
    CHECK_FALSE(calls(function_ir(code.ir, "enter_openat"), read_str));
    CHECK(calls(exit, read_str));
    CHECK(calls(exit, output));
    CHECK(calls(exit, reserve));
    CHECK(exit.find("string_too_long") != std::string::npos);
  }
  SECTION("ring_write::automatic stages whole a plan with no long path read at exit") {
    // read and execve (memory the call fills or consumes), and a path limit within the
    // first read's bound: no slot, no second read.
    std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::read>::make_plan({}),
                                     ebpfpub::serializer<sys::execve>::make_plan({}),
                                     ebpfpub::serializer<sys::mkdir>::make_plan({.string_size = 256})};
    auto code = generate_programs(plans, fake_maps(plans),
                                  {.output = ebpfpub::transport::ring, .write = ebpfpub::ring_write::automatic,
                                   .keep_ir = true});
    if (!code) FAIL(code.error().what());
    for (const char* name : {"read", "execve", "mkdir"}) {
      INFO(name);
      const auto exit = function_ir(code->ir, std::string("exit_") + name);
      REQUIRE_FALSE(exit.empty());
      CHECK(calls(exit, output));
      CHECK_FALSE(calls(exit, reserve));
    }
    CHECK(calls(function_ir(code->ir, "enter_mkdir"), read_str));
  }
  SECTION("perf buffers are always staged") {
    const auto code = openat_code(4096, ebpfpub::ring_write::reserved, ebpfpub::transport::perf);
    CHECK(calls(function_ir(code.ir, "enter_openat"), read_str));
    CHECK_FALSE(calls(function_ir(code.ir, "exit_openat"), reserve));
  }
}
