// ebpftracer -c: the strace -c table of a known program's calls, exact, and --interval.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "support/child.hpp"
#include "support/process.hpp"

using ebpfpub::test::program_run;
using ebpfpub::test::random_name;

namespace {

const std::string tracer_path = EBPFTRACER_PATH;
const std::string known_calls = KNOWN_CALLS_PATH;

struct table_row {
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  double p50_usecs = 0;
};

// The rows of the last table in `text`: "% time seconds usecs/call p50 p99 calls [errors] name".
std::map<std::string, table_row> last_table(const std::string& text) {
  std::map<std::string, table_row> rows;
  std::istringstream in(text);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("% time")) {
      rows.clear();
      inside = true;
      continue;
    }
    if (!inside || line.starts_with("------")) continue;
    if (line.empty()) {
      inside = false;
      continue;
    }
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() != 7 && f.size() != 8) continue;
    table_row r{std::stoull(f[5]), f.size() == 8 ? std::stoull(f[6]) : 0, std::stod(f[3])};
    rows[f.back()] = r;
  }
  return rows;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("ebpftracer -c -- CMD prints the exact calls and errors of the command and its child") {
  ebpfpub::test::scratch_dir dir;
  const auto output = (dir.path / "summary.txt").string();
  program_run tracer({tracer_path, "-c", "-t", "mkdir,openat,unlinkat,rmdir,exit_group", "-o", output, "--",
                      known_calls, dir.path.string(), random_name()});
  CHECK(tracer.finish() == 4);
  const auto text = slurp(output);
  INFO(text);
  const auto rows = last_table(text);
  // known_calls: mkdir, openat x2 (its own, its child's), a failed openat (ENOENT),
  // unlinkat x2, rmdir, exit_group x2 (child and parent).
  REQUIRE(rows.size() == 6);
  CHECK(rows.at("mkdir").calls == 1);
  CHECK(rows.at("openat").calls == 3);
  CHECK(rows.at("openat").errors == 1);
  CHECK(rows.at("unlinkat").calls == 2);
  CHECK(rows.at("rmdir").calls == 1);
  CHECK(rows.at("exit_group").calls == 2);
  CHECK(rows.at("total").calls == 9);
  CHECK(rows.at("total").errors == 1);
  CHECK(text.find("errors by errno:\n  openat: ENOENT 1\n") != std::string::npos);
  CHECK(text.find("@openat (ns):\n") != std::string::npos);
  CHECK(text.find("@exit_group") == std::string::npos);  // no duration, no histogram
  // Nothing per event.
  CHECK(text.find("syscall: ") == std::string::npos);
}

TEST_CASE("ebpftracer -c --interval prints the table while the command runs, then the last") {
  program_run tracer({tracer_path, "-c", "--interval", "0.3", "-t", "clock_nanosleep", "--", "/bin/sleep", "1.5"});
  CHECK(tracer.finish() == 0);
  const auto& out = tracer.out();
  INFO(out);
  std::size_t tables = 0;
  for (auto at = out.find("% time"); at != std::string::npos; at = out.find("% time", at + 1)) ++tables;
  CHECK(tables >= 3);  // a few "After N s:" tables, and the final one
  CHECK(out.find("After 0.") != std::string::npos);
  const auto rows = last_table(out);
  REQUIRE(rows.contains("clock_nanosleep"));
  CHECK(rows.at("clock_nanosleep").calls == 1);
  CHECK(rows.at("clock_nanosleep").p50_usecs >= 1'500'000);
}

TEST_CASE("ebpftracer -c refuses what has no meaning without events") {
  program_run json({tracer_path, "-c", "-t", "openat", "--format", "json"});
  CHECK(json.finish() != 0);
  CHECK(json.err().find("--format excludes --summary") != std::string::npos);
  program_run interval({tracer_path, "--interval", "1", "-t", "openat"});
  CHECK(interval.finish() != 0);
  CHECK(interval.err().find("--interval requires --summary") != std::string::npos);
}
