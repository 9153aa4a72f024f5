// The names ebpfpub gives arguments, call by call against strace's: ebpftracer traces
// `strace -ff CMD`, so both see the very same calls of CMD (strace's output is per thread,
// in order; ebpftracer's events carry the thread id). For every argument the symbol map
// names, the text must equal strace's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <span>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <ebpfpub/format/text.hpp>
#include <ebpfpub/symbols/symbols.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/child.hpp"
#include "support/process.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::program_run;
using json = nlohmann::ordered_json;

namespace {

const std::string tracer_path = EBPFTRACER_PATH;
const std::string workload_py = std::string(EBPFPUB_TEST_SOURCE_DIR) + "/kernel/strace/workload.py";

// The syscalls the workloads make whose arguments have names.
const char* traced =
    "openat,mmap,mprotect,madvise,socket,setsockopt,fcntl,flock,lseek,access,faccessat,faccessat2,mkdir,"
    "mkdirat,chmod,fchmodat,umask,pipe2,dup3,epoll_create1,epoll_ctl,eventfd2,rt_sigaction,rt_sigprocmask,"
    "kill,prlimit64,clone,clone3,wait4,unlinkat,newfstatat,statx,fchownat,utimensat,futex,getrandom,"
    "mremap,accept4,sendto,recvfrom,shutdown,getsockopt,prctl";

struct call {
  std::vector<std::string> args;  // strace's text of each argument
};

// Splits "a, b(c, d), "e, f", {g, h}" at its top-level commas.
std::vector<std::string> split_args(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      current += c;
      if (c == '\\' && i + 1 < text.size()) current += text[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(current);
      current.clear();
      if (i + 1 < text.size() && text[i + 1] == ' ') ++i;
      continue;
    }
    current += c;
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// The offset of the parenthesis that closes the one at `open`, quotes respected.
std::size_t closing(std::string_view line, std::size_t open) {
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = open; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// strace -ff's file for one thread: "name(args) = result" per line.
std::map<std::string, std::vector<call>> strace_calls(const std::filesystem::path& file) {
  std::map<std::string, std::vector<call>> calls;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto open = line.find('(');
    if (open == std::string::npos || line.starts_with("+++") || line.starts_with("---")) continue;
    const auto end = closing(line, open);
    if (end == std::string::npos) continue;
    calls[line.substr(0, open)].push_back({split_args(std::string_view(line).substr(open + 1, end - open - 1))});
  }
  return calls;
}

struct field_info {
  std::uint8_t width;
  bool is_signed;
};

std::map<std::pair<std::string, std::string>, field_info> field_table() {
  std::map<std::pair<std::string, std::string>, field_info> fields;
  sys::all::for_each([&]<typename S>() {
    for (const auto& a : S::layout) fields[{std::string(S::name), std::string(a.name)}] = {a.width, a.is_signed};
  });
  return fields;
}

// strace prints some arguments as "key=value", in its own order (clone's "flags=").
const std::map<std::string, std::string> strace_keys = {{"clone_flags", "flags"}};

// The text strace printed for our field `field`, argument `at`; empty when it printed none.
std::string strace_text(const std::vector<std::string>& args, const std::string& field, std::size_t at) {
  const auto key = strace_keys.count(field) ? strace_keys.at(field) : field;
  for (const auto& a : args)
    if (a.starts_with(key + "=")) return a.substr(key.size() + 1);
  if (at >= args.size()) return {};
  const auto& a = args[at];
  const auto eq = a.find('=');
  const bool keyed = eq != std::string::npos && eq > 0 &&
                     std::all_of(a.begin(), a.begin() + static_cast<long>(eq),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  return keyed ? std::string() : a;  // another argument's key: strace's order differs from ours
}

// A signal mask's JSON ({"mask":N,"signals":[...]}, or NULL's error) as strace's text;
// empty for anything else. The names must be the mask's bits, in order.
std::string mask_text(const json& value) {
  if (!value.is_object()) return {};
  if (value.contains("error") && value["error"] == "null pointer") return "NULL";
  if (!value.contains("mask") || !value.contains("signals")) return {};
  const auto mask = value["mask"].get<std::uint64_t>();
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 64; ++bit)
    if (mask >> bit & 1) names.emplace_back(ebpfpub::symbols::signal_name(bit + 1));
  if (value["signals"].get<std::vector<std::string>>() != names)
    return fmt::format("<signals {} do not match mask {:#x}>", value["signals"].dump(), mask);
  return fmt::format("{}", ebpfpub::signal_mask{0, mask, ebpfpub::capture_status::ok});
}

struct comparison {
  std::size_t compared = 0;
  std::size_t masks = 0;  // of which signal masks
  std::vector<std::string> differences;
  std::set<std::string> arguments;  // syscall.argument pairs compared at least once
};

comparison compare_run(const std::vector<std::string>& command) {
  ebpfpub::test::scratch_dir dir;
  std::vector<std::string> argv = {tracer_path, "-t", traced, "--format", "json", "--",
                                   "/usr/bin/strace", "-ff", "-qq", "-s", "0", "-o", (dir.path / "trace").string(),
                                   "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  std::filesystem::create_directory(dir.path / "work");
  std::filesystem::current_path(dir.path / "work");
  program_run tracer(argv);
  const int status = tracer.finish();
  std::filesystem::current_path("/");
  INFO(tracer.err());
  REQUIRE(status == 0);

  // Ours: events per thread, per syscall, in order.
  std::map<std::uint32_t, std::map<std::string, std::vector<json>>> ours;
  std::istringstream lines(tracer.out());
  std::string line;
  bool summary_clean = false;
  while (std::getline(lines, line)) {
    const auto e = json::parse(line);
    if (e.contains("summary")) {
      summary_clean = e["summary"]["lost"] == 0;
      continue;
    }
    ours[e["thread_id"].get<std::uint32_t>()][e["syscall"].get<std::string>()].push_back(e["args"]);
  }
  CHECK(summary_clean);

  static const auto fields = field_table();
  std::set<std::string> traced_set;
  for (std::string_view rest = traced; !rest.empty();) {
    const auto comma = rest.find(',');
    traced_set.emplace(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  comparison result;
  for (const auto& file : std::filesystem::directory_iterator(dir.path)) {
    const auto name = file.path().filename().string();
    if (!name.starts_with("trace.")) continue;
    const auto tid = static_cast<std::uint32_t>(std::stoul(name.substr(6)));
    for (const auto& [syscall, theirs] : strace_calls(file.path())) {
      if (!traced_set.count(syscall)) continue;
      const auto& all_mine = ours[tid][syscall];
      // strace's child makes a few calls (kill(self, SIGSTOP)) before strace attaches:
      // we see them too, so our calls end with strace's.
      if (all_mine.size() < theirs.size())
        result.differences.push_back(fmt::format("thread {}: {} {} calls, strace saw {}", tid, syscall,
                                                 all_mine.size(), theirs.size()));
      const std::span<const json> mine(all_mine.data() + (all_mine.size() - std::min(all_mine.size(), theirs.size())),
                                       std::min(all_mine.size(), theirs.size()));
      for (std::size_t i = 0; i < mine.size(); ++i) {
        // The call's numbers by name, for the sets that depend on another argument
        // (fcntl's arg on cmd, setsockopt's optname on level).
        std::vector<std::string> names;
        std::vector<ebpfpub::named_value> others;
        names.reserve(mine[i].size());
        for (const auto& [field, value] : mine[i].items()) {
          if (!value.is_number_integer()) continue;
          names.push_back(field);
          others.push_back({names.back(), value.is_number_unsigned()
                                              ? value.get<std::uint64_t>()
                                              : static_cast<std::uint64_t>(value.get<std::int64_t>())});
        }
        std::size_t index = 0;
        for (const auto& [field, value] : mine[i].items()) {
          const auto at = index++;
          if (const auto mask = mask_text(value); !mask.empty()) {
            const auto text = strace_text(theirs[i].args, field, at);
            if (text.empty()) continue;
            ++result.compared;
            ++result.masks;
            result.arguments.insert(syscall + "." + field);
            if (mask != text)
              result.differences.push_back(fmt::format("{}.{}: ebpfpub {} strace {}", syscall, field, mask, text));
            continue;
          }
          const auto* set = ebpfpub::symbols::of_argument(syscall, field, others);
          const auto text = strace_text(theirs[i].args, field, at);
          if (!set || !value.is_number_integer() || text.empty()) continue;
          const auto info = fields.at({syscall, field});
          const auto raw = value.is_number_unsigned() ? value.get<std::uint64_t>()
                                                      : static_cast<std::uint64_t>(value.get<std::int64_t>());
          const auto named = ebpfpub::symbols::format(*set, raw, info.width, info.is_signed);
          ++result.compared;
          result.arguments.insert(syscall + "." + field);
          if (named != text)
            result.differences.push_back(fmt::format("{}.{}: ebpfpub {} strace {}", syscall, field, named, text));
        }
      }
    }
  }
  return result;
}

}  // namespace

TEST_CASE("every named argument of python3, tar and cp -a reads as strace prints it") {
  ebpfpub::test::scratch_dir data;
  for (int i = 0; i < 5; ++i) std::ofstream(data.path / ("f" + std::to_string(i))) << "ebpfpub " << i;
  std::filesystem::create_directory(data.path / "sub");
  const auto out = data.path.string() + ".out";

  const std::vector<std::vector<std::string>> workloads = {
      {"/usr/bin/python3", workload_py},
      {"/bin/tar", "-cf", out + ".tar", "-C", data.path.string(), "."},
      {"/bin/cp", "-a", data.path.string(), out},
  };
  comparison all;
  for (const auto& w : workloads) {
    const auto r = compare_run(w);
    all.compared += r.compared;
    all.masks += r.masks;
    all.differences.insert(all.differences.end(), r.differences.begin(), r.differences.end());
    all.arguments.insert(r.arguments.begin(), r.arguments.end());
  }
  std::filesystem::remove(out + ".tar");
  std::filesystem::remove_all(out);
  INFO(fmt::format("{} arguments compared over {} distinct syscall arguments:\n{}", all.compared,
                   all.arguments.size(), fmt::join(all.arguments, " ")));
  INFO(fmt::format("differences:\n{}", fmt::join(all.differences, "\n")));
  fmt::print("strace differential: {} arguments compared ({} signal masks), {} distinct syscall arguments, "
             "{} differences\n",
             all.compared, all.masks, all.arguments.size(), all.differences.size());
  CHECK(all.compared > 100);
  CHECK(all.arguments.size() >= 25);
  // python's pthread_sigmask and glibc's own blocking around clone: nset and oset.
  CHECK(all.masks >= 4);
  CHECK(all.arguments.count("rt_sigprocmask.nset") == 1);
  CHECK(all.arguments.count("rt_sigprocmask.oset") == 1);
  CHECK(all.differences.empty());
}
