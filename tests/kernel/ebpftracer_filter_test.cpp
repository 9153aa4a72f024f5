// ebpftracer --filter: the five examples of docs/filters.md, as written, on a command
// making known calls; and a bad expression's caret and exit status.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
