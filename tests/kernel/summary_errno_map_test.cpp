// Summary mode's errno map when it is full: the errors it has no room for are counted,
// never dropped. Built from the backend's parts (a one-pair errno map), since the
// tracer's map holds 4096 pairs.
#include <catch2/catch.hpp>

#include <cerrno>

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/record.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"
#include "session/summary_maps.hpp"
#include "support/child.hpp"

namespace detail = ebpfpub::detail;

TEST_CASE("a full errno map counts the errors it has no room for, and errors stay exact", "[summary]") {
  const auto missing = "/nonexistent-" + ebpfpub::test::random_name();
  ebpfpub::test::child_process child([&] {
    for (int i = 0; i < 3; ++i)
      if (::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY, 0) != -1 || errno != ENOENT) return 10;
    for (int i = 0; i < 2; ++i)
      if (::syscall(SYS_openat, AT_FDCWD, "/dev/null/x", O_RDONLY, 0) != -1 || errno != ENOTDIR) return 11;
    return 0;
  });
  auto fs = ebpfpub::tracefs::open();
  REQUIRE(fs);
  auto description = ebpfpub::describe_syscall(*fs, "openat");
  REQUIRE(description);
  std::vector<ebpfpub::plan> plans{ebpfpub::make_generic_plan(*description, {})};

  detail::injected_faults none;
  auto counting = detail::summary_maps::create(plans.size(), none, 1);  // room for one {syscall, errno}
  REQUIRE(counting);
  const std::uint32_t entry = ebpfpub::record::header_size;
  auto storage = detail::create_task_storage_map("ebpfpub_t_store", entry);
  REQUIRE(storage);
  auto counters = detail::create_counters_map("ebpfpub_t_lost", detail::loss_reason_count + 2);
  REQUIRE(counters);
  auto processes = detail::create_process_map("ebpfpub_t_pids", 16);
  REQUIRE(processes);
  const auto pid = static_cast<std::uint32_t>(child.pid());
  const std::uint8_t one = 1;
  REQUIRE(bpf_map_update_elem(processes->fd.get(), &pid, &one, BPF_ANY) == 0);

  detail::program_maps maps{.counters_fd = counters->fd.get(), .storage_fd = {storage->fd.get()},
                            .storage_size = {entry}, .summary_fd = counting->counters_fd(),
                            .errno_fd = counting->errno_fd()};
  detail::codegen_options options;
  options.summary = true;
  options.filter.process_map_fd = processes->fd.get();
  options.filter.follow_children = false;
  auto code = detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  REQUIRE(code->programs.size() == 2);

  // Load both, attach the exit first (as the session does), trace the child, detach.
  std::vector<detail::unique_fd> programs;
  std::vector<detail::attachment> attached;
  for (const auto& program : code->programs) {
    auto fd = detail::load_tracepoint_program(program.name, program.instructions);
    if (!fd) FAIL(fd.error().what());
    programs.push_back(std::move(*fd));
  }
  for (std::size_t i : {std::size_t{1}, std::size_t{0}}) {
    const auto& program = code->programs[i];
    const auto phase = program.tracepoint.starts_with("sys_exit_") ? ebpfpub::syscall_phase::exit
                                                                   : ebpfpub::syscall_phase::enter;
    auto format = fs->syscall_format("openat", phase);
    REQUIRE(format);
    auto a = detail::attach_tracepoint(programs[i].get(), format->id, program.tracepoint);
    if (!a) FAIL(a.error().what());
    attached.push_back(std::move(*a));
  }
  child.go();
  REQUIRE(child.wait() == 0);
  detail::detach_all(attached);

  const auto s = counting->read(plans);
  REQUIRE(s);
  const auto& openat = s->by_syscall.at(0);
  CHECK(openat.calls == 5);
  CHECK(openat.errors == 5);
  // The first pair took the one slot; ENOTDIR found the map full.
  CHECK(openat.errors_by_errno == std::map<int, std::uint64_t>{{ENOENT, 3}});
  CHECK(openat.errors_unattributed == 2);
  CHECK(ebpfpub::format_summary_table(*s).ends_with("  openat: ENOENT 3, 2 with no room in the errno map\n"));
}
