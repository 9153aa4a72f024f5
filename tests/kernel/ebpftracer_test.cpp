// ebpftracer as a user runs it: the seed's output, its options and its errors.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include <regex>
#include <thread>

#include <sys/syscall.h>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"
#include "support/process.hpp"

using ebpfpub::test::child_process;
using ebpfpub::test::program_run;
using ebpfpub::test::random_name;

namespace {
const std::string tracer_path = EBPFTRACER_PATH;
constexpr int nobody = 65534;
}  // namespace

TEST_CASE("ebpftracer prints the seed's blocks for a traced call and a summary on SIGINT") {
  const auto transport = GENERATE(std::string("ring"), std::string("perf"));
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / random_name()).string();
  program_run tracer({tracer_path, "-t", "mkdir,rmdir", "--transport", transport, "--raw"});
  REQUIRE(tracer.wait_for("Entering main loop...\n\n"));
  // The seed's layout: a blank line after each heading, programs as "name (serializer: x)".
  CHECK(tracer.out().starts_with("Memory usage\n\n > Event map: task-local storage, "));
  const std::regex headings(" > Total allocated up front: [0-9]+ bytes\n\n"
                            "Generating the BPF programs...\n\n"
                            " > mkdir \\(serializer: generic\\)\n"
                            " > rmdir \\(serializer: generic\\)\n\n"
                            "Entering main loop...\n\n");
  CHECK(std::regex_search(tracer.out(), headings));

  child_process child([&] { return ::syscall(SYS_mkdir, path.c_str(), 0751) == 0 ? 0 : 1; });
  child.go();
  REQUIRE(child.wait() == 0);
  const auto second_line = fmt::format("syscall: mkdir mode: 489 pathname: '{}'\n\n", path);
  REQUIRE(tracer.wait_for(second_line));
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
  // The seed's first line, then the call's duration (which a real mkdir always has).
  const std::regex header(fmt::format("timestamp: [0-9]+ process_id: {0} thread_id: {0} user_id: 0 group_id: 0 "
                                      "exit_code: 0 probe_error: 0 duration_ns: [1-9][0-9]*\n",
                                      child.pid()) +
                          std::regex_replace(second_line, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"));
  CHECK(std::regex_search(tracer.out(), header));
  // The seed's blank line after each event, then its own before Terminating.
  CHECK(tracer.out().ends_with("\n\n\nTerminating...\n"));
  CHECK(tracer.err().find("Events received: ") != std::string::npos);
  CHECK(tracer.err().find(", lost: 0") != std::string::npos);
}

TEST_CASE("ebpftracer names modes, flags and errnos as strace does, unless --raw") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / random_name()).string();
  program_run tracer({tracer_path, "-t", "mkdir,openat"});
  REQUIRE(tracer.wait_for("Entering main loop...\n\n"));
  child_process child([&] {
    ::syscall(SYS_mkdir, path.c_str(), 0751);
    ::syscall(SYS_mkdir, path.c_str(), 0751);  // EEXIST
    ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    return 0;
  });
  child.go();
  REQUIRE(child.wait() == 0);
  const auto pid = std::to_string(child.pid());
  REQUIRE(tracer.wait_for(fmt::format("syscall: openat dfd: AT_FDCWD filename: '{}' flags: O_RDONLY|O_CLOEXEC|O_DIRECTORY mode: 000\n\n", path)));
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
  const auto mkdir_line = fmt::format("\nsyscall: mkdir mode: 0751 pathname: '{}'\n", path);
  const std::regex failed("exit_code: -17 EEXIST probe_error: 0 duration_ns: [0-9]+" + std::regex_replace(
      mkdir_line, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"));
  CHECK(std::regex_search(tracer.out(), failed));
  CHECK(tracer.out().find("exit_code: 0 probe_error: 0 duration_ns: ") != std::string::npos);
}

TEST_CASE("ebpftracer stops on SIGTERM too") {
  program_run tracer({tracer_path, "-t", "getppid"});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  tracer.signal(SIGTERM);
  CHECK(tracer.finish() == 0);
  CHECK(tracer.out().ends_with("\nTerminating...\n"));
}

TEST_CASE("ebpftracer says once how many of its own calls it left out") {
  // Its main loop waits in epoll_wait (libbpf's ring_buffer__poll): those calls are its own.
  program_run tracer({tracer_path, "-t", "epoll_wait,epoll_pwait"});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
  const std::regex excluded("\n  (1 call of ebpftracer itself was|([2-9]|[1-9][0-9]+) calls of ebpftracer itself were) not traced \\(exclude_self\\)\n");
  CHECK(std::regex_search(tracer.err(), excluded));
  CHECK(tracer.err().find("exclude_self") == tracer.err().rfind("exclude_self"));
}

TEST_CASE("ebpftracer --verbose prints the generated IR") {
  program_run tracer({tracer_path, "-v", "-t", "openat"});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
  CHECK(tracer.out().find("i32 @enter_openat(ptr") != std::string::npos);
  CHECK(tracer.out().find("i32 @exit_openat(ptr") != std::string::npos);
  CHECK(tracer.out().find("section \"tracepoint/enter_openat\"") != std::string::npos);
}

TEST_CASE("ebpftracer explains an unknown syscall and suggests the closest") {
  program_run tracer({tracer_path, "-t", "mkdri"});
  CHECK(tracer.finish() == 1);
  CHECK(tracer.err().starts_with("ebpftracer: not found: syscall 'mkdri' has no enter tracepoint"));
  CHECK(tracer.err().find("did you mean mkdir") != std::string::npos);
}

TEST_CASE("ebpftracer requires -t and shows its help") {
  program_run missing({tracer_path});
  CHECK(missing.finish() != 0);
  CHECK(missing.err().find("--tracepoint_list is required") != std::string::npos);

  program_run help({tracer_path, "--help"});
  CHECK(help.finish() == 0);
  for (const char* option : {"-t,--tracepoint_list", "-b,--buffer_size", "--buffer_count", "-c,--summary", "--interval",
                             "-p,--perf_size", "-e,--event_map_size", "-v,--verbose", "--transport"})
    CHECK(help.out().find(option) != std::string::npos);
}

TEST_CASE("ebpftracer without privileges says what is missing") {
  program_run tracer({tracer_path, "-t", "openat"}, nobody);
  CHECK(tracer.finish() == 1);
  CHECK(tracer.err().starts_with("ebpftracer: permission denied: using bpf(): Operation not permitted; "
                                 "this process lacks CAP_BPF and CAP_PERFMON: run as root, or grant them"));
}

TEST_CASE("tracer::create without privileges is a permission error, not a crash") {
  child_process child([] {
    if (::setresuid(nobody, nobody, nobody) != 0) return 10;
    auto tracer = ebpfpub::tracer::create();
    if (tracer) return 11;
    return tracer.error().code() == ebpfpub::errc::permission_denied ? 0 : 12;
  });
  child.go();
  CHECK(child.wait() == 0);
}
