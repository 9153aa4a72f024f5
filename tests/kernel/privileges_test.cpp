// Least privilege: the documented capabilities are enough, a missing one is named, and a
// tracer that dropped every privilege after start() keeps delivering events.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/privileges.hpp>
#include <fmt/format.h>

#include "support/child.hpp"
#include "support/process.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::child_process;
using ebpfpub::test::program_run;

namespace {

const std::string tracer_path = EBPFTRACER_PATH;
constexpr int nobody = 65534;

// ebpftracer as uid/gid 65534 holding exactly `caps` (setpriv's list, e.g.
// "+bpf,+perfmon,+dac_read_search") as ambient capabilities.
std::vector<std::string> as_nobody_with(const std::string& caps, std::vector<std::string> argv) {
  std::vector<std::string> all = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "--inh-caps=-all," + caps, "--ambient-caps=" + caps, "--"};
  all.insert(all.end(), argv.begin(), argv.end());
  return all;
}

}  // namespace

TEST_CASE("ebpftracer as an unprivileged user with CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH traces a command") {
  // The command checks it did not inherit the tracer's capabilities, then makes 3 getppid.
  program_run tracer(as_nobody_with("+bpf,+perfmon,+dac_read_search",
                                    {tracer_path, "-t", "getppid", "--format", "json", "--", "/bin/sh", "-c",
                                     "grep -q '^CapAmb:\t0000000000000000' /proc/self/status && "
                                     "grep -q '^CapEff:\t0000000000000000' /proc/self/status && "
                                     "cat /proc/self/stat >/dev/null"}));
  CHECK(tracer.finish() == 0);
  INFO(tracer.err());
  // sh's own getppid calls are not fixed, but the command ran as nobody and was traced:
  CHECK(tracer.out().find("\"user_id\":65534") != std::string::npos);
  CHECK(tracer.err().find("lost: 0") != std::string::npos);
}

TEST_CASE("each missing capability is named in the error") {
  const auto missing = GENERATE(std::pair<std::string, std::string>{"+bpf,+perfmon", "CAP_DAC_READ_SEARCH"},
                                std::pair<std::string, std::string>{"+bpf,+dac_read_search", "CAP_PERFMON"},
                                std::pair<std::string, std::string>{"+perfmon,+dac_read_search", "CAP_BPF"});
  program_run tracer(as_nobody_with(missing.first, {tracer_path, "-t", "getppid", "--", "/bin/true"}));
  CHECK(tracer.finish() == 1);
  INFO(tracer.err());
  CHECK(tracer.err().find("permission denied") != std::string::npos);
  CHECK(tracer.err().find("lacks " + missing.second) != std::string::npos);
}

TEST_CASE("a tracer that dropped every privilege after start() still delivers and counts events") {
  // In a child: the test process itself must keep its capabilities for the other tests.
  child_process child([] {
    ebpfpub::tracer_options options;
    options.exclude_self = false;  // this process's own getppid calls are the known calls
    auto tracer = ebpfpub::tracer::create(options);
    if (!tracer) return 10;
    const auto self = static_cast<std::uint32_t>(::getpid());
    int seen = 0;
    if (!tracer->trace<sys::getppid>([&](const ebpfpub::event<sys::getppid>& e) {
          if (e.header.process_id == self && e.header.user_id == nobody) ++seen;
        }))
      return 11;
    if (!tracer->start()) return 12;
    if (!ebpfpub::drop_privileges({.user = "65534"})) return 13;
    if (ebpfpub::effective_capabilities() != 0 || ::getuid() != nobody || ::getgid() != nobody) return 14;
    for (int i = 0; i < 10; ++i) ::syscall(SYS_getppid);
    for (int i = 0; i < 5 && seen < 10; ++i)
      if (!tracer->poll(std::chrono::milliseconds(100))) return 15;
    if (seen != 10) return 16;
    const auto stats = tracer->stats();  // map lookups through the descriptors it holds
    if (stats.events() < 10 || stats.lost() != 0) return 17;
    tracer->stop();
    return 0;
  });
  child.go();
  CHECK(child.wait() == 0);
}

TEST_CASE("dropping privileges to an unknown user names it") {
  child_process child([] {
    auto dropped = ebpfpub::drop_privileges({.user = "no-such-user-ebpfpub"});
    if (dropped) return 1;
    return dropped.error().message().find("no-such-user-ebpfpub") != std::string::npos ? 0 : 2;
  });
  child.go();
  CHECK(child.wait() == 0);
}

TEST_CASE("once attached, ebpftracer holds no capability, and with --user runs as that user") {
  const auto user = GENERATE(std::string(), std::string("65534"));
  std::vector<std::string> argv = {tracer_path, "-t", "getppid"};
  if (!user.empty()) argv.insert(argv.end(), {"--user", user});
  program_run tracer(argv);
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  std::ifstream status("/proc/" + std::to_string(tracer.pid()) + "/status");
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(status, line);) {
    const auto colon = line.find(':');
    const auto value = line.find_first_not_of(" \t", colon + 1);
    if (colon != std::string::npos && value != std::string::npos) fields[line.substr(0, colon)] = line.substr(value);
  }
  INFO(user);
  CHECK(fields["CapEff"] == "0000000000000000");
  CHECK(fields["CapPrm"] == "0000000000000000");
  CHECK(fields["CapAmb"] == "0000000000000000");
  CHECK(fields["NoNewPrivs"] == "1");
  CHECK(fields["Uid"].starts_with(user.empty() ? "0\t" : "65534\t"));
  // And it still traces: a child's getppid arrives.
  child_process child([] { return ::syscall(SYS_getppid) > 0 ? 0 : 1; });
  child.go();
  REQUIRE(child.wait() == 0);
  CHECK(tracer.wait_for(fmt::format("process_id: {0} thread_id: {0} ", child.pid())));
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
}

TEST_CASE("ebpftracer -o does not follow a symlink planted where the file should be") {
  ebpfpub::test::scratch_dir dir;
  const auto target = dir.path / "target";
  const auto link = dir.path / "events.log";
  std::ofstream(target) << "precious";
  std::filesystem::create_symlink(target, link);
  program_run tracer({tracer_path, "-t", "getppid", "-o", link.string(), "--duration", "1"});
  CHECK(tracer.finish() == 1);
  CHECK(tracer.err().find("symlinks are not followed") != std::string::npos);
  std::ifstream in(target);
  std::string text;
  std::getline(in, text);
  CHECK(text == "precious");
}

TEST_CASE("with --context exe, ebpftracer keeps CAP_SYS_PTRACE alone and names a root process's executable") {
  const auto user = GENERATE(std::string(), std::string("65534"));
  std::vector<std::string> argv = {tracer_path, "-t", "getppid", "--context", "exe"};
  if (!user.empty()) argv.insert(argv.end(), {"--user", user});
  program_run tracer(argv);
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  std::ifstream status("/proc/" + std::to_string(tracer.pid()) + "/status");
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(status, line);) {
    const auto colon = line.find(':');
    const auto value = line.find_first_not_of(" \t", colon + 1);
    if (colon != std::string::npos && value != std::string::npos) fields[line.substr(0, colon)] = line.substr(value);
  }
  INFO(user);
  CHECK(fields["CapEff"] == "0000000000080000");  // 1 << CAP_SYS_PTRACE (19)
  CHECK(fields["CapPrm"] == "0000000000080000");
  CHECK(fields["CapBnd"] == "0000000000080000");
  CHECK(fields["NoNewPrivs"] == "1");
  // A child of this root test process (all capabilities), alive while its event is decoded.
  child_process child([] {
    if (::syscall(SYS_getppid) <= 0) return 1;
    ::usleep(500'000);
    return 0;
  });
  child.go();
  CHECK(tracer.wait_for(fmt::format("process_id: {0} thread_id: {0} ", child.pid())));
  CHECK(tracer.wait_for(fmt::format(" executable: '{}'", std::filesystem::canonical("/proc/self/exe").string())));
  REQUIRE(child.wait() == 0);
  tracer.signal(SIGINT);
  CHECK(tracer.finish() == 0);
}
