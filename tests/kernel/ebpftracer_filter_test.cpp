// ebpftracer --filter: the five examples of docs/filters.md and its three on context
// fields, as written, on commands making known calls; and a bad expression's caret and
// exit status.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ebpfpub/context/cgroup.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cgroup.hpp"
#include "support/child.hpp"
#include "support/process.hpp"

using ebpfpub::test::program_run;
using nlohmann::json;

namespace {

const std::string tracer_path = EBPFTRACER_PATH;
const std::string filter_calls = FILTER_CALLS_PATH;

std::vector<json> json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

// What identifies each event: the path, the address and port, or the program.
std::string what(const json& e) {
  const auto& args = e["args"];
  if (e["syscall"] == "connect")
    return fmt::format("connect {}:{}", args["uservaddr"]["address"].get<std::string>(),
                       args["uservaddr"]["port"].get<int>());
  return fmt::format("{} {}", e["syscall"].get<std::string>(), args["filename"].get<std::string>());
}

}  // namespace

TEST_CASE("ebpftracer --filter runs the documented examples as written") {
  // One directory for every generated row: the table is built once, on the first run.
  static ebpfpub::test::scratch_dir dir;
  const auto base = dir.path.string();
  // A filter naming a syscall filters that syscall only: each row traces what it names.
  const auto [list, filter, expected, filtered] =
      GENERATE_COPY(table<std::string, std::string, std::vector<std::string>, int>({
          {"openat", "openat.filename startswith \"/etc/\"", {"openat /etc/hostname"}, 3},
          {"openat",
           "openat.flags & O_CREAT and exit_code == -ENOENT",
           {"openat " + base + "/missing/y"},
           3},
          {"connect",
           "connect.uservaddr.port == 443 or connect.uservaddr.address in 10.0.0.0/8",
           {"connect 127.0.0.1:443", "connect 10.1.2.3:80"},
           2},
          // The command's own execve (of filter_calls) is filtered too.
          {"execve", "execve.filename endswith \"/curl\"", {"execve /nonexistent/curl"}, 2},
          // A header field: every traced syscall (3 openat, 4 connect, 3 execve as root).
          {"openat,connect,execve", "uid != 0", {"openat " + base + "/as-user"}, 3 + 4 + 3},
      }));
  INFO(filter);
  const auto output = (dir.path / "trace.json").string();
  program_run tracer({tracer_path, "-t", list, "--format", "json", "-o", output, "--filter", filter,
                      "--", filter_calls, base});
  CHECK(tracer.finish() == 0);
  auto lines = json_lines(output);
  REQUIRE(!lines.empty());
  const auto summary = lines.back();
  lines.pop_back();
  std::vector<std::string> seen;
  for (const auto& e : lines) seen.push_back(what(e));
  CHECK(seen == expected);
  INFO(summary.dump());
  CHECK(summary["summary"]["filtered"] == filtered);
  CHECK(summary["summary"]["lost"] == 0);
  CHECK(tracer.err().find(fmt::format("filtered: {}", filtered)) != std::string::npos);
}

TEST_CASE("ebpftracer --filter points at a bad expression and exits with status 2") {
  program_run tracer(
      {tracer_path, "-t", "openat", "--filter", "openat.filenme startswith \"/etc/\""});
  CHECK(tracer.finish() == 2);
  CHECK(
      tracer.err() ==
      "ebpftracer: --filter: filter: openat has no field filenme (its fields: dfd, filename, "
      "flags, mode, pid, "
      "tid, uid, gid, comm, exit_code)\n  openat.filenme startswith \"/etc/\"\n  ^^^^^^^^^^^^^^\n");
}

namespace {

// The test's own cgroup v2 path ("/" in the root cgroup), which the tracer and its
// command inherit.
std::string own_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("0::")) return line.substr(3);
  return {};
}

std::string summary_line(const std::vector<json>& lines) { return lines.empty() ? "" : lines.back().dump(); }

}  // namespace

TEST_CASE("ebpftracer --filter runs the documented context examples as written") {
  static ebpfpub::test::scratch_dir dir;
  const auto output = (dir.path / "trace.json").string();

  SECTION("read.fd.kind == socket and read.fd.remote_port == 443: the read of the socket connected to 443") {
    // Three reads (count 1, 2, 3): a UDP socket connected to :443, one to :8443, a file.
    program_run tracer({tracer_path, "-t", "read", "--context", "fd", "--format", "json", "-o", output, "--filter",
                        "read.fd.kind == socket and read.fd.remote_port == 443", "--", filter_calls, "read"});
    CHECK(tracer.finish() == 0);
    auto lines = json_lines(output);
    INFO(summary_line(lines));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["args"]["count"] == 1);
    CHECK(lines[0]["args"]["fd"]["remote"]["port"] == 443);
    CHECK(lines[1]["summary"]["filtered"] == 2);
    CHECK(lines[1]["summary"]["lost"] == 0);
  }

  SECTION("ppid == 1 and exe.name != \"systemd\": the orphan's open, not the systemd-named orphan's") {
    // Copies of the helper under two names, run as orphans (re-parented to pid 1) by a
    // child of the test, which opens a file itself first (its parent is the test).
    for (const auto* name : {"orphan", "systemd"})
      std::filesystem::copy_file(filter_calls, dir.path / name, std::filesystem::copy_options::overwrite_existing);
    static std::string base;
    base = dir.path.string();
    ebpfpub::test::child_process child([] {
      ::syscall(SYS_openat, AT_FDCWD, (base + "/by-child").c_str(), O_RDONLY);
      int done[2];
      if (::pipe(done) != 0) return 1;
      for (const auto* name : {"orphan", "systemd"}) {
        const pid_t middle = ::fork();
        if (middle == 0) {
          if (::fork() == 0) {
            ::close(done[0]);
            // Re-parented once `middle` exits: to pid 1, the test having no subreaper.
            for (int i = 0; i < 5000 && ::getppid() != 1; ++i) ::usleep(1000);
            if (::getppid() != 1) ::_exit(3);
            const auto program = base + "/" + name;
            const auto path = base + "/by-" + name;
            char* args[] = {const_cast<char*>(program.c_str()), const_cast<char*>("open"),
                            const_cast<char*>(path.c_str()), nullptr};
            ::execv(program.c_str(), args);
            ::_exit(4);
          }
          ::_exit(0);
        }
        ::waitpid(middle, nullptr, 0);
      }
      ::close(done[1]);
      char byte;
      while (::read(done[0], &byte, 1) > 0) {
      }  // EOF: both orphans have exited
      return 0;
    });
    program_run tracer({tracer_path, "-t", "openat", "--context", "ppid,exe", "--format", "json", "-o", output,
                        "--filter", "ppid == 1 and exe.name != \"systemd\"", "-P", std::to_string(child.pid()),
                        "--duration", "2"});
    REQUIRE(tracer.wait_for("Entering main loop...\n"));
    child.go();
    CHECK(child.wait() == 0);
    CHECK(tracer.finish() == 0);
    auto lines = json_lines(output);
    INFO(summary_line(lines));
    REQUIRE(lines.size() == 2);
    CHECK(what(lines[0]) == "openat " + base + "/by-orphan");
    CHECK(lines[0]["context"]["parent_process_id"] == 1);
    CHECK(lines[1]["summary"]["filtered"] == 2);
    CHECK(lines[1]["summary"]["lost"] == 0);
  }

  SECTION("cgroup != \"/\": the execve made after moving into a cgroup") {
    auto resolver = ebpfpub::cgroup_resolver::create();
    REQUIRE(resolver);
    ebpfpub::test::test_cgroup scope(std::filesystem::path(resolver->mount_point()) /
                                     ("ebpfpub-example-" + ebpfpub::test::random_name()));
    program_run tracer({tracer_path, "-t", "execve", "--context", "cgroup", "--format", "json", "-o", output,
                        "--filter", "cgroup != \"/\"", "--", filter_calls, "cgroup",
                        (scope.path / "cgroup.procs").string()});
    CHECK(tracer.finish() == 0);
    auto lines = json_lines(output);
    INFO(summary_line(lines));
    REQUIRE(!lines.empty());
    const auto summary = lines.back();
    lines.pop_back();
    std::vector<std::string> seen;
    for (const auto& e : lines) seen.push_back(what(e));
    // The command's own execve and /nonexistent/before run in the tracer's cgroup: in the
    // root one they are filtered.
    const bool in_root = own_cgroup() == "/";
    std::vector<std::string> expected = {"execve /nonexistent/after"};
    if (!in_root) expected = {"execve " + filter_calls, "execve /nonexistent/before", "execve /nonexistent/after"};
    CHECK(seen == expected);
    CHECK(summary["summary"]["filtered"] == (in_root ? 2 : 0));
    CHECK(summary["summary"]["lost"] == 0);
  }
}
