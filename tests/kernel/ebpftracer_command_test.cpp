// ebpftracer -- CMD: every call of the command and its children, nothing else, in JSON.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/syscall.h>

#include <fmt/format.h>

#include "support/child.hpp"
#include "support/process.hpp"

using ebpfpub::test::program_run;
using ebpfpub::test::random_name;
using nlohmann::json;

namespace {

const std::string tracer_path = EBPFTRACER_PATH;
const std::string known_calls = KNOWN_CALLS_PATH;

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));  // throws if invalid
  return lines;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("ebpftracer -- CMD traces the command and its child, exactly, and exits with its status") {
  ebpfpub::test::scratch_dir dir;
  const auto name = random_name();
  const auto output = (dir.path / "trace.json").string();
  program_run tracer({tracer_path, "-t", "mkdir,openat,unlinkat,rmdir,exit_group", "--format", "json",
                      "-o", output, "--", known_calls, dir.path.string(), name});
  CHECK(tracer.finish() == 4);
  const auto lines = json_lines(slurp(output));
  REQUIRE(lines.size() == 10);  // 9 calls, then the summary

  const auto base = dir.path.string() + "/" + name;
  const auto parent = lines[0]["process_id"].get<std::uint32_t>();
  const std::vector<json> expected{
      {{"syscall", "mkdir"}, {"exit_code", 0}, {"args", {{"pathname", base}, {"mode", 0700}}}},
      {{"syscall", "openat"}, {"exit_code", 3},
       {"args", {{"dfd", -100}, {"filename", base + "/file"}, {"flags", O_CREAT | O_WRONLY}, {"mode", 0600}}}},
      {{"syscall", "openat"}, {"exit_code", 3},
       {"args", {{"dfd", -100}, {"filename", base + "/child"}, {"flags", O_CREAT | O_WRONLY}, {"mode", 0600}}}},
      {{"syscall", "exit_group"}, {"exit_code", 0}, {"args", {{"error_code", 0}}}},
      {{"syscall", "unlinkat"}, {"exit_code", 0}, {"args", {{"dfd", -100}, {"pathname", base + "/file"}, {"flag", 0}}}},
      {{"syscall", "unlinkat"}, {"exit_code", 0}, {"args", {{"dfd", -100}, {"pathname", base + "/child"}, {"flag", 0}}}},
      {{"syscall", "rmdir"}, {"exit_code", 0}, {"args", {{"pathname", base}}}},
      {{"syscall", "openat"}, {"exit_code", -ENOENT},
       {"args", {{"dfd", -100}, {"filename", base + "/file"}, {"flags", O_RDONLY}, {"mode", 0}}}},
      {{"syscall", "exit_group"}, {"exit_code", 0}, {"args", {{"error_code", 4}}}},
  };
  std::uint32_t child = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("event " << i << ": " << lines[i].dump());
    const auto& e = lines[i];
    CHECK(e["syscall"] == expected[i]["syscall"]);
    CHECK(e["exit_code"] == expected[i]["exit_code"]);
    CHECK(e["args"] == expected[i]["args"]);
    CHECK(e["probe_error"] == false);
    // Every call that returned took some time; exit_group, sent at enter, has none.
    CHECK((e["duration_ns"] == 0) == (e["syscall"] == "exit_group"));
    CHECK(e["user_id"] == 0);
    CHECK(e["group_id"] == 0);
    CHECK(e["thread_id"] == e["process_id"]);
    // Events 2 and 3 are the child's; every other one the command's.
    if (i == 2 || i == 3) {
      if (child == 0) child = e["process_id"].get<std::uint32_t>();
      CHECK(e["process_id"] == child);
    } else {
      CHECK(e["process_id"] == parent);
    }
    if (i > 0) CHECK(e["timestamp"].get<std::uint64_t>() > lines[i - 1]["timestamp"].get<std::uint64_t>());
    for (const char* key : {"timestamp", "process_id", "thread_id", "user_id", "group_id", "syscall",
                            "exit_code", "duration_ns", "probe_error", "args"})
      CHECK(e.contains(key));
    // Beside the numbers, the names strace would print, and a failed call's errno.
    const auto syscall = e["syscall"].get<std::string>();
    const bool named = syscall != "exit_group" && syscall != "rmdir";
    CHECK(e.contains("names") == named);
    CHECK(e.contains("error") == (e["exit_code"].get<int>() < 0));
    CHECK(e.size() == 10u + (named ? 1u : 0u) + (e.contains("error") ? 1u : 0u));
  }
  CHECK(lines[1]["names"] == json{{"dfd", "AT_FDCWD"}, {"flags", "O_WRONLY|O_CREAT"}, {"mode", "0600"}});
  CHECK(lines[0]["names"] == json{{"mode", "0700"}});
  CHECK(lines[4]["names"] == json{{"dfd", "AT_FDCWD"}, {"flag", "0"}});
  CHECK(lines[7]["names"] == json{{"dfd", "AT_FDCWD"}, {"flags", "O_RDONLY"}, {"mode", "000"}});
  CHECK(lines[7]["error"] == "ENOENT");
  CHECK(child != parent);
  const auto& summary = lines.back()["summary"];
  CHECK(summary["events"] == 9);
  CHECK(summary["lost"] == 0);
  CHECK(summary["probe_errors"] == 0);
  CHECK(summary["by_syscall"]["openat"] == json{{"events", 3}, {"lost", 0}});
  CHECK(summary["by_syscall"]["exit_group"] == json{{"events", 2}, {"lost", 0}});
}

TEST_CASE("ebpftracer --failed keeps only failed calls, --count stops after N") {
  ebpfpub::test::scratch_dir dir;
  program_run failed({tracer_path, "-t", "openat,mkdir", "--format", "json", "--failed", "--",
                      known_calls, dir.path.string(), random_name()});
  CHECK(failed.finish() == 4);
  auto lines = json_lines(failed.out());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["syscall"] == "openat");
  CHECK(lines[0]["exit_code"] == -ENOENT);

  program_run counted({tracer_path, "-t", "openat,mkdir", "--format", "json", "--count", "2", "--",
                       known_calls, dir.path.string(), random_name()});
  counted.finish();
  lines = json_lines(counted.out());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["syscall"] == "mkdir");
  CHECK(lines[1]["syscall"] == "openat");
  CHECK(lines[2].contains("summary"));
}

TEST_CASE("file names with terminal escapes, newlines and invalid UTF-8 come out escaped") {
  ebpfpub::test::scratch_dir dir;
  const auto hostile = (dir.path / ("a\x1b[2J\nb\xff" + random_name(6))).string();
  const auto script = fmt::format("mkdir \"$(printf '{}')\"", std::string());  // unused
  (void)script;
  for (const std::string format : {"text", "json"}) {
    program_run tracer({tracer_path, "-t", "mkdir", "--format", format, "--", "/bin/mkdir", hostile});
    CHECK(tracer.finish() == 0);
    ::rmdir(hostile.c_str());
    if (format == "text") {
      CHECK(tracer.out().find('\x1b') == std::string::npos);
      CHECK(tracer.out().find('\xff') == std::string::npos);
      const auto escaped = fmt::format("pathname: '{}'", dir.path.string() + "/a\\x1b[2J\\nb\\xff" +
                                                             hostile.substr(hostile.size() - 6));
      CHECK(tracer.out().find(escaped) != std::string::npos);
    } else {
      const auto lines = json_lines(tracer.out());
      REQUIRE(lines.size() == 2);
      CHECK(lines[0]["args"]["pathname"] ==
            dir.path.string() + "/a\x1b[2J\nb\\xff" + hostile.substr(hostile.size() - 6));
      CHECK(tracer.out().find('\x1b') == std::string::npos);  // JSON escapes it as \u001b
    }
  }
}

TEST_CASE("ebpftracer --duration stops on time and -o writes the events to a file") {
  // A child makes three getppid calls while the tracer runs: exactly its three events are
  // in the file, and none of them on stdout.
  ebpfpub::test::scratch_dir dir;
  const auto output = (dir.path / "out.txt").string();
  ebpfpub::test::child_process child([] {
    for (int i = 0; i < 3; ++i) ::syscall(SYS_getppid);
    return 0;
  });
  const auto pid = std::to_string(child.pid());
  const auto start = std::chrono::steady_clock::now();
  program_run tracer({tracer_path, "-t", "getppid", "-P", pid, "--duration", "1", "-o", output});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  child.go();
  CHECK(child.wait() == 0);
  CHECK(tracer.finish() == 0);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::seconds(1));
  CHECK(elapsed < std::chrono::seconds(20));
  CHECK(tracer.out().find("Terminating...") != std::string::npos);
  CHECK(tracer.out().find("syscall: getppid") == std::string::npos);
  const auto text = slurp(output);
  const auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("process_id: " + pid + " ") == 3);
  CHECK(count("syscall: getppid") == 3);
}

TEST_CASE("ebpftracer -- with a command that does not exist says so") {
  program_run tracer({tracer_path, "-t", "openat", "--", "/nonexistent/" + random_name()});
  CHECK(tracer.finish() == 127);
  CHECK(tracer.err().find("cannot run /nonexistent/") != std::string::npos);
  CHECK(tracer.err().find("No such file or directory") != std::string::npos);
}

TEST_CASE("with -- CMD sharing stdout, every line is the command's own or a whole event") {
  // A chatty command: each echo is one write(2) of its own line, made while ebpftracer
  // writes the events of those very writes to the same pipe (a pause every 20 lines
  // spreads them over ~1 s, across many of ebpftracer's polls).
  constexpr int count = 2000;
  const auto script = fmt::format(
      "i=0; while [ $i -lt {} ]; do echo \"child line $i\"; i=$((i+1)); "
      "[ $((i % 20)) -eq 0 ] && sleep 0.01; done; true", count);
  const auto format = GENERATE(std::string("json"), std::string("text"));
  INFO(format);
  program_run tracer({tracer_path, "-t", "write", "--format", format, "--", "/bin/sh", "-c", script});
  // A slow reader keeps the pipe full, so both writers wait on it and take turns.
  tracer.read_slowly(512, std::chrono::microseconds(500));
  REQUIRE(tracer.finish() == 0);

  int next_child_line = 0, events = 0, summaries = 0;
  json summary;
  std::istringstream in(tracer.out());
  std::string line;
  bool after_header = false;
  while (std::getline(in, line)) {
    if (line == fmt::format("child line {}", next_child_line)) {
      ++next_child_line;
      continue;
    }
    if (format == "json") {
      const auto parsed = json::parse(line, nullptr, false);
      REQUIRE_FALSE(parsed.is_discarded());  // neither the child's line nor a whole object
      if (parsed.contains("summary")) {
        ++summaries;
        summary = parsed["summary"];
        continue;
      }
      REQUIRE(parsed["syscall"] == "write");
      ++events;
    } else if (after_header) {
      REQUIRE(line.starts_with("syscall: write buf: '"));
      after_header = false;
    } else if (line.starts_with("timestamp: ")) {
      REQUIRE(line.find(" probe_error: ") != std::string::npos);
      after_header = true;
      ++events;
    } else {
      // The headings before the events and the seed's blank line after each event.
      const bool heading = line.empty() || line == "Memory usage" || line.starts_with(" > ") ||
                           line == "Generating the BPF programs..." || line == "Entering main loop..." ||
                           line == "Terminating...";
      INFO(line);
      REQUIRE(heading);
    }
  }
  CHECK(next_child_line == count);  // every child line, whole and in order
  CHECK(events == count);           // one event per echo, none cut, none lost
  if (format == "json") {
    REQUIRE(summaries == 1);
    CHECK(summary["events"] == count);
    CHECK(summary["lost"] == 0);
  }
}

TEST_CASE("ebpftracer --sink sends every event with its host and sequence number") {
  ebpfpub::test::scratch_dir dir;
  const auto sink = (dir.path / "events.jsonl").string();
  ebpfpub::test::child_process child([] {
    for (int i = 0; i < 5; ++i) ::syscall(SYS_getppid);
    return 0;
  });
  program_run tracer({tracer_path, "-t", "getppid", "-P", std::to_string(child.pid()), "--sink", "file://" + sink,
                      "--duration", "1"});
  REQUIRE(tracer.wait_for("Entering main loop...\n"));
  child.go();
  CHECK(child.wait() == 0);
  CHECK(tracer.finish() == 0);
  INFO(tracer.err());
  const auto records = json_lines(slurp(sink));
  REQUIRE(records.size() == 5);
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i]["seq"] == i);
    CHECK(records[i]["host"]["name"].is_string());
    CHECK(records[i]["event"]["syscall"] == "getppid");
    CHECK(records[i]["event"]["process_id"] == child.pid());
  }
  CHECK(tracer.err().find("sink file://" + sink + ": 5 delivered, 0 retried, 0 dropped") != std::string::npos);
}

TEST_CASE("ebpftracer --context fd shows what each fd names: the fd openat returned, with its path, and close's") {
  ebpfpub::test::scratch_dir dir;
  const auto name = random_name();
  const auto output = (dir.path / "trace.json").string();
  program_run tracer({tracer_path, "-t", "openat,close", "--context", "fd", "--format", "json", "-o",
                      output, "--", known_calls, dir.path.string(), name});
  CHECK(tracer.finish() == 4);
  const auto base = dir.path.string() + "/" + name;
  const json* opened = nullptr;
  const json* closed = nullptr;
  const json* failed = nullptr;
  const auto lines = json_lines(slurp(output));
  for (const auto& e : lines) {
    if (!e.contains("syscall")) continue;  // the summary
    if (e["syscall"] == "openat" && e["args"]["filename"] == base + "/file")
      (e["exit_code"] == 3 ? opened : failed) = &e;
    if (e["syscall"] == "close" && e["args"]["fd"].is_object()) closed = &e;
  }
  REQUIRE(opened);
  INFO(opened->dump());
  const auto& returned = (*opened)["returned_fd"];
  CHECK(returned["value"] == 3);
  CHECK(returned["state"] == "open");
  CHECK(returned["kind"] == "regular");
  CHECK(returned["name"] == "file");
  CHECK(returned["path"] == base + "/file");
  CHECK(returned["path_origin"] == "traced_open");
  CHECK(returned["path_stale"] == false);
  CHECK(((*opened)["args"]["dfd"] == json{{"value", -100}, {"state", "bad_fd"}}));
  CHECK((*opened)["names"]["dfd"] == "AT_FDCWD");
  REQUIRE(closed);
  const auto& fd = (*closed)["args"]["fd"];
  CHECK(fd["value"] == 3);
  CHECK(fd["inode"] == returned["inode"]);
  CHECK(fd["device"] == returned["device"]);
  CHECK(fd["path"] == base + "/file");
  REQUIRE(failed);
  CHECK((*failed)["exit_code"] == -ENOENT);
  CHECK_FALSE(failed->contains("returned_fd"));
}

TEST_CASE("ebpftracer --context paths shows a relative path with where it led, in text and JSON") {
  ebpfpub::test::scratch_dir dir;
  const auto name = "rel-" + random_name();
  const auto script = "cd " + dir.path.string() + " && : > " + name;
  program_run text({tracer_path, "-t", "openat", "--context", "paths", "--", "/bin/sh", "-c", script});
  CHECK(text.finish() == 0);
  const auto cwd = std::filesystem::canonical(dir.path).string();
  INFO(text.out());
  CHECK(text.out().find("filename: '" + name + "'<" + cwd + "/" + name + ">") != std::string::npos);
  program_run json_run({tracer_path, "-t", "openat", "--context", "paths", "--format", "json", "--",
                        "/bin/sh", "-c", script});
  CHECK(json_run.finish() == 0);
  const json* mine = nullptr;
  const auto lines = json_lines(json_run.out());
  for (const auto& e : lines)
    if (e.contains("syscall") && e["args"]["filename"].is_object() && e["args"]["filename"]["value"] == name)
      mine = &e;
  REQUIRE(mine);
  CHECK((*mine)["args"]["filename"]["path_state"] == "resolved");
  CHECK((*mine)["args"]["filename"]["path"] == cwd + "/" + name);
}
