#pragma once
// ebpftracer's command line: parsed with CLI11 into tracer options and settings. Kept
// apart from main so it can be fuzzed (tests/fuzz/targets/cli_options_fuzzer.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ebpfpub/tracer.hpp>

namespace ebpftracer {

struct settings {
  std::string list;
  std::string transport = "ring";
  std::string ring_write = "staged";
  std::string attach = "automatic";
  std::string event_map = "task_storage";
  std::string format = "text";
  std::string output;
  double duration = 0;
  std::uint64_t count = 0;
  bool verbose = false;
  bool failed = false;
  bool succeeded = false;
  std::vector<std::uint32_t> pids;
  std::vector<std::uint32_t> uids;
  std::vector<std::string> comms;
  std::string context;  ///< --context: "fd,paths,exe,ppid,cgroup,container,ns" or "all"
  std::string cgroup;   ///< --cgroup PATH
  std::string rate_limit;  ///< "N/s" as given; parsed into the filter
  std::uint32_t rate_burst = 0;
  std::vector<std::string> filters;  ///< --filter expressions, compiled into the programs
  std::vector<std::string> command;
  bool raw = false;                ///< the seed's numbers only: no names in text or JSON
  std::vector<std::string> sinks;  ///< --sink URLs
  std::string user;                ///< --user: the user to become once the programs are attached
  bool summary = false;            ///< -c: count in the kernel, print the table at the end
  double interval = 0;             ///< --interval: with -c, the table every this many seconds too
};

struct parsed_options {
  bool run = false;   ///< false: help was printed or the line was wrong; exit with exit_code
  int exit_code = 0;
  ebpftracer::settings settings;
  ebpfpub::tracer_options options;
};

/// Parses the command line; prints help or the error (CLI11's words) itself.
parsed_options parse_options(int argc, const char* const* argv);

/// "1000/s" (or "1000") -> 1000; 0 when it is not a rate of 1 to 1e9 calls per second.
std::uint32_t parse_rate(const std::string& text);

/// "exe,container" -> those context fields; "all" -> every one; nullopt for an unknown
/// name (exe, ppid, cgroup, container, ns, all).
std::optional<ebpfpub::context_fields> parse_context(const std::string& list);

/// "openat,,execve" -> {"openat", "execve"}.
std::vector<std::string> split_list(const std::string& list);

}  // namespace ebpftracer
