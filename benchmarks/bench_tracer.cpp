// The tracing side of the benchmarks, with ebpfpub: trace SYSCALLS system-wide, decode
// every event into its typed form, count, and on SIGINT print what was delivered and lost.
//
//   bench_tracer SYSCALLS [--resolve-paths] [--json] [--transport ring|perf] [--ring-write staged|reserved] [-p N] [--sample S] [--summary] [--attach MODE] [--context BITS]
//   bench_tracer --startup   time generate/load/attach for the default set and all syscalls
//                            (all: in both attach modes)
//
// --sample S prints, every S seconds, "sample SECONDS events N lost N rss_kib N bpf_kib N"
// (bpf_kib: the memlock the kernel charges for this process's maps and programs), for the
// soak run of benchmarks/run. --summary: summary mode (counted in the kernel, no event);
// the final line's `events` is then the calls counted.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

namespace {
std::atomic<bool> stop{false};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    out.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

long rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f && std::fgets(line, sizeof(line), f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  if (f) std::fclose(f);
  return kib;
}

// What the kernel charges for this process's BPF maps and programs: the sum of "memlock:"
// in /proc/self/fdinfo.
long bpf_kib() {
  long bytes = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo", ec)) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line))
      if (line.starts_with("memlock:")) bytes += std::atol(line.c_str() + 8);
  }
  return bytes / 1024;
}

// The set scripts/run traces.
const std::vector<std::string> default_set{"execve", "execveat", "openat", "mkdir", "rmdir",
                                           "unlinkat", "renameat2", "chdir", "connect", "bind",
                                           "exit_group"};

int startup() {
  const char* labels[] = {"default", "all", "all_dispatch"};
  for (int round = 0; round < 3; ++round) {
    ebpfpub::tracer_options options;
    options.attach = round == 0 ? ebpfpub::attach_mode::automatic
                     : round == 1 ? ebpfpub::attach_mode::tracepoints
                                  : ebpfpub::attach_mode::dispatch;
    auto tracer = ebpfpub::tracer::create(options);
    if (!tracer) {
      fmt::print(stderr, "{}\n", tracer.error().what());
      return 1;
    }
    auto names = round == 0 ? default_set : *tracer->available_syscalls();
    for (const auto& n : names) (void)tracer->trace(n, [](const ebpfpub::dynamic_event&) {});
    const auto t0 = std::chrono::steady_clock::now();
    auto report = tracer->start();
    const auto total = std::chrono::steady_clock::now() - t0;
    if (!report) {
      fmt::print(stderr, "{}\n", report.error().what());
      return 1;
    }
    fmt::print("startup {} {} {:.1f} {:.1f} {:.1f} {:.1f} {:.1f}\n", labels[round],
               report->programs, ms(report->prepare), ms(report->generate), ms(report->load),
               ms(report->attach), ms(total));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--startup") return startup();
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_tracer SYSCALLS [--json] [--transport ring|perf] [--ring-write staged|reserved] [-p N] [--rate-limit N] [--summary] [--fd-identity] [--resolve-paths] [--filter EXPR]... [--attach tracepoints|dispatch|automatic] [--context BITS] | --startup\n");
    return 2;
  }
  ebpfpub::tracer_options options;
  bool json = false;
  double sample = 0;
  std::vector<std::string> filters;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--transport" && i + 1 < argc)
      options.resources.output = std::string(argv[++i]) == "perf" ? ebpfpub::transport::perf : ebpfpub::transport::ring;
    else if (a == "--ring-write" && i + 1 < argc) {
      const std::string w = argv[++i];
      options.resources.write = w == "reserved"    ? ebpfpub::ring_write::reserved
                                : w == "automatic" ? ebpfpub::ring_write::automatic
                                                   : ebpfpub::ring_write::staged;
    }
    else if (a == "--sample" && i + 1 < argc) sample = std::atof(argv[++i]);
    else if (a == "--summary") options.summary = true;
    else if (a == "-p" && i + 1 < argc) options.resources.output_pages_log2 = static_cast<std::uint32_t>(std::atoi(argv[++i]));
    else if (a == "--attach" && i + 1 < argc) {
      const std::string mode = argv[++i];
      options.attach = mode == "dispatch"      ? ebpfpub::attach_mode::dispatch
                       : mode == "tracepoints" ? ebpfpub::attach_mode::tracepoints
                                               : ebpfpub::attach_mode::automatic;
    } else if (a == "--rate-limit" && i + 1 < argc)
      options.filter.rate_limit_per_second = static_cast<std::uint32_t>(std::atoll(argv[++i]));
    else if (a == "--fd-identity") options.capture.fd_identity = true;
    else if (a == "--resolve-paths") options.capture.resolve_paths = true;
    else if (a == "--filter" && i + 1 < argc) filters.emplace_back(argv[++i]);
    else if (a == "--context" && i + 1 < argc)  // context_field bits: 31 is every field
      options.context = ebpfpub::context_fields::from_bits(static_cast<std::uint32_t>(std::atoll(argv[++i])));
  }
  auto tracer = ebpfpub::tracer::create(options);
  if (!tracer) {
    fmt::print(stderr, "bench_tracer: {}\n", tracer.error().what());
    return 1;
  }
  std::uint64_t bytes = 0;
  auto names = split(argv[1]);
  if (names.size() == 1 && names.front() == "all") names = *tracer->available_syscalls();
  if (names.size() == 1 && names.front() == "default") names = default_set;
  for (const auto& name : names) {
    auto ok = tracer->trace(name, [&](const ebpfpub::dynamic_event& e) {
      // Touch the decoded event so the work is not optimised away.
      bytes += e.args.size() + static_cast<std::uint64_t>(e.header.exit_code & 1);
    });
    if (!ok) {
      fmt::print(stderr, "bench_tracer: {}\n", ok.error().what());
      return 1;
    }
  }
  for (const auto& f : filters)
    if (auto ok = tracer->add_filter(f); !ok) {
      fmt::print(stderr, "bench_tracer: {}\n", ok.error().what());
      return 1;
    }
  auto started = tracer->start();
  if (!started) {
    fmt::print(stderr, "bench_tracer: {}\n", started.error().what());
    return 1;
  }
  std::signal(SIGINT, [](int) { stop = true; });
  std::signal(SIGTERM, [](int) { stop = true; });
  fmt::print("ready\n");
  std::fflush(stdout);
  if (sample > 0) {
    const auto begin = std::chrono::steady_clock::now();
    auto next = begin;
    while (!stop) {
      if (auto polled = tracer->poll(std::chrono::milliseconds(100)); !polled) {
        fmt::print(stderr, "bench_tracer: {}\n", polled.error().what());
        return 1;
      }
      if (const auto now = std::chrono::steady_clock::now(); now >= next) {
        const auto stats = tracer->stats();
        fmt::print("sample {:.0f} events {} lost {} rss_kib {} bpf_kib {}\n",
                   std::chrono::duration<double>(now - begin).count(), stats.events(), stats.lost(),
                   rss_kib(), bpf_kib());
        std::fflush(stdout);
        next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(sample));
      }
    }
  }
  if (auto ran = tracer->run_until(stop, std::chrono::milliseconds(100)); !ran) {
    fmt::print(stderr, "bench_tracer: {}\n", ran.error().what());
    return 1;
  }
  const auto stats = tracer->stats();
  const auto memory = tracer->memory();
  if (json) (void)bytes;
  std::uint64_t events = stats.events();
  if (options.summary) {
    auto counted = tracer->summary();
    if (!counted) {
      fmt::print(stderr, "bench_tracer: {}\n", counted.error().what());
      return 1;
    }
    events = 0;
    for (const auto& s : counted->by_syscall) events += s.calls;
  }
  fmt::print("events {} lost {} memory {} rss_kib {} filtered {}\n", events, stats.lost(), memory.total(), rss_kib(),
             stats.filtered());
  return 0;
}
