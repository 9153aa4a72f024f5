// ebpftracer: records the syscalls you name and prints one block (or JSON line) per call.
//
//   ebpftracer -t openat,execve                 system-wide, until Ctrl-C
//   ebpftracer -t openat --format json -- ls /  a command and its children, then its status
//   ebpftracer -t all -P 1234 --failed          every failed call of process 1234

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <unistd.h>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

#include "command.hpp"
#include "fleet.hpp"
#include "options.hpp"
#include "output.hpp"
#include "summary_output.hpp"

namespace {

std::atomic<int> terminate_signal{0};
std::atomic<bool> hangup{false};

void on_signal(int signal) { terminate_signal.store(signal); }
void on_hangup(int) { hangup.store(true); }

// -o FILE: never through a symlink (one planted in /tmp would redirect a root process's
// writes), not inherited by the traced command.
struct output_file {
  int fd = -1;
  ~output_file() {
    if (fd >= 0) ::close(fd);
  }
};

// The library names its option fields; the user typed flags: name the flag beside them.
std::string with_flags(std::string message) {
  static const std::pair<std::string_view, std::string_view> flags[] = {
      {"resources.buffer_size", "-b"},      {"resources.buffer_count", "--buffer_count"},
      {"resources.output_pages_log2", "-p"}, {"resources.event_map_size", "-e"},
      {"resources.output = transport::perf", "--transport perf"},
      {"filter.rate_limit_per_second", "--rate-limit"}, {"filter.rate_limit_burst", "--rate-burst"},
      {"attach_mode::dispatch", "--attach dispatch"}, {"attach_mode::tracepoints", "--attach tracepoints"}};
  for (const auto& [field, flag] : flags)
    for (auto at = message.find(field); at != std::string::npos; at = message.find(field, at + 1)) {
      const auto with = fmt::format("{} ({})", flag, field);
      message.replace(at, field.size(), with);
      at += with.size() - 1;
    }
  return message;
}

int fail(const ebpfpub::error& e) {
  fmt::print(stderr, "ebpftracer: {}\n", with_flags(e.what()));
  return 1;
}

void print_memory(std::FILE* out, const ebpfpub::memory_usage& memory, const ebpfpub::resource_options& res) {
  fmt::print(out, "Memory usage\n\n");
  if (res.event_map == ebpfpub::event_map_kind::hash)
    fmt::print(out, " > Event map: LRU hash map, {} entries of {} bytes: {} bytes\n", memory.entries,
               memory.entry_bytes, memory.event_map_bytes);
  else
    fmt::print(out, " > Event map: task-local storage, {} bytes per thread in a traced call (allocated "
               "on demand, freed with the thread), {} bytes for the map\n", memory.entry_bytes,
               memory.event_map_bytes);
  if (memory.summary_bytes != 0)
    fmt::print(out, " > Buffer storage: none (-c captures nothing: the entry holds the enter time)\n");
  else
    fmt::print(out, " > Buffer storage: {} bytes per in-flight event ({} captures of up to {} bytes)\n",
               memory.buffer_storage_bytes, res.buffer_count, res.buffer_size);
  fmt::print(out, " > Output: {} bytes ({})\n", memory.output_bytes,
             res.output == ebpfpub::transport::ring ? "ring buffer" : "perf event array");
  fmt::print(out, " > Loss counters: {} bytes\n", memory.counters_bytes);
  if (memory.summary_bytes != 0)
    fmt::print(out, " > Summary counters (-c): {} bytes (per CPU: each syscall's counts and histogram, errors by errno)\n",
               memory.summary_bytes);
  if (memory.filter_set_bytes != 0)
    fmt::print(out, " > Filter sets (--filter ... in {{more than 16}}): {} bytes\n", memory.filter_set_bytes);
  if (memory.path_scratch_bytes != 0)
    fmt::print(out, " > Path scratch (--filter ... .path): task-local storage, {} bytes per thread that reaches "
               "the test (allocated on demand, freed with the thread)\n", memory.path_scratch_bytes);
  fmt::print(out, " > Total allocated up front: {} bytes\n\n", memory.total());
}

void print_summary(const ebpfpub::statistics& stats, bool counted_in_kernel) {
  // -c sends no event: what was lost is still worth saying (no in-flight entry, ...).
  if (counted_in_kernel)
    fmt::print(stderr, "Counted in the kernel (-c), lost: {}", stats.lost());
  else
    fmt::print(stderr, "Events received: {}, lost: {}, probe errors: {}", stats.events(), stats.lost(),
               stats.probe_errors());
  if (stats.rate_limited() != 0) fmt::print(stderr, ", rate-limited: {}", stats.rate_limited());
  if (stats.filtered() != 0) fmt::print(stderr, ", filtered: {}", stats.filtered());
  fmt::print(stderr, "\n");
  for (const auto& s : stats.by_syscall) {
    if (s.events == 0 && s.lost() == 0 && s.rate_limited == 0 && s.filtered == 0) continue;
    fmt::print(stderr, "  {}: {} events, {} lost", s.syscall, s.events, s.lost());
    if (s.lost_output_full) fmt::print(stderr, " ({} output full)", s.lost_output_full);
    if (s.lost_no_storage) fmt::print(stderr, " ({} no in-flight entry)", s.lost_no_storage);
    if (s.rate_limited) fmt::print(stderr, ", {} rate-limited", s.rate_limited);
    if (s.filtered) fmt::print(stderr, ", {} filtered", s.filtered);
    if (s.probe_errors) fmt::print(stderr, ", {} probe errors", s.probe_errors);
    fmt::print(stderr, "\n");
  }
  if (stats.lost_unattributed) fmt::print(stderr, "  {} malformed records\n", stats.lost_unattributed);
  if (stats.rate_limited() != 0) {
    // The processes that flooded most, by syscall: who to look at first.
    fmt::print(stderr, "Rate-limited: {} calls; top processes:", stats.rate_limited());
    const auto& top = stats.rate_limited_processes;
    for (std::size_t i = 0; i < top.size() && i < 5; ++i)
      fmt::print(stderr, "{} {} {} ({})", i == 0 ? "" : ",", top[i].process_id, top[i].syscall, top[i].count);
    fmt::print(stderr, "\n");
  }
  if (stats.untracked_children)
    fmt::print(stderr, "  {} child processes could not be followed (process map full)\n",
               stats.untracked_children);
  // Its own calls (reading events, writing them out) are left out on purpose; say so once.
  if (stats.excluded_self)
    fmt::print(stderr, "  {} call{} of ebpftracer itself {} not traced (exclude_self)\n", stats.excluded_self,
               stats.excluded_self == 1 ? "" : "s", stats.excluded_self == 1 ? "was" : "were");
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ebpftracer::parse_options(argc, argv);
  if (!parsed.run) return parsed.exit_code;
  auto& s = parsed.settings;
  auto& options = parsed.options;
  const auto& res = options.resources;
  const bool json = s.format == "json";

  // Events go to the output; what the seed printed around them goes to stdout, or to
  // stderr when stdout carries JSON.
  output_file file;
  if (!s.output.empty()) {
    file.fd = ::open(s.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (file.fd < 0)
      return fail(ebpfpub::error::from_errno(errno, fmt::format("opening --output {} (symlinks are not followed)",
                                                                s.output)));
  }
  std::FILE* info = (json && file.fd < 0) ? stderr : stdout;
  ebpftracer::line_output out(file.fd >= 0 ? file.fd : STDOUT_FILENO);
  auto fleet = ebpftracer::fleet::open(s.sinks);
  if (!fleet) return fail(fleet.error());

  std::optional<ebpftracer::command> cmd;
  if (!s.command.empty()) {
    std::string why;
    cmd = ebpftracer::command::start(s.command, why);
    if (cmd->pid() < 0) return fail({ebpfpub::errc::system, "starting the command: " + why});
    options.filter.process_ids.push_back(static_cast<std::uint32_t>(cmd->pid()));
  }

  auto tracer = ebpfpub::tracer::create(options);
  if (!tracer) return fail(tracer.error());
  auto names = ebpftracer::split_list(s.list);
  if (names.size() == 1 && names.front() == "all") {
    auto all = tracer->available_syscalls();
    if (!all) return fail(all.error());
    names = std::move(*all);
  }
  if (names.empty()) return fail({ebpfpub::errc::invalid_argument, "no syscall named in -t"});

  std::uint64_t written = 0;
  // Events collect in one buffer and go out after each poll, in whole lines: the seed's
  // block (two lines and a blank one) or one JSON object per line.
  auto print = [&](const ebpfpub::dynamic_event& e) {
    if (s.count != 0 && written >= s.count) return;
    ++written;
    auto& buffer = out.buffer();
    if (json) {
      ebpfpub::append_json(buffer, e, s.raw ? ebpfpub::json_style::numbers : ebpfpub::json_style::names);
      buffer.push_back('\n');
    } else {
      ebpfpub::append_text(buffer, e, {.names = !s.raw, .duration = true});
      buffer.append(std::string_view("\n\n"));
    }
    fleet->publish(e, s.raw);
  };
  for (const auto& name : names)
    if (auto ok = tracer->trace(name, print); !ok) return fail(ok.error());

  for (const auto& expression : s.filters)
    if (auto ok = tracer->add_filter(expression); !ok) {
      // A bad expression is a bad option: the message points into it with a caret.
      fmt::print(stderr, "ebpftracer: --filter: {}\n", ok.error().message());
      return 2;
    }

  if (auto ok = tracer->prepare(); !ok) return fail(ok.error());
  print_memory(info, tracer->memory(), res);
  fmt::print(info, "Generating the BPF programs...\n\n");
  for (const auto& p : tracer->plans())
    fmt::print(info, " > {} (serializer: {})\n", p.syscall.name, p.serializer_name);
  std::fflush(info);
  auto started = tracer->start();
  if (!started) return fail(started.error());
  if (s.verbose) fmt::print(info, "\n{}\n", tracer->ir());
  // -v only: the seed's headings stay as they were.
  const auto ms = [](std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); };
  if (s.verbose)
    fmt::print(info, "\nAttached {} programs ({}): generated in {:.0f} ms, loaded in {:.0f} ms, attached in {:.0f} ms\n",
             started->programs,
             started->attached == ebpfpub::attach_mode::dispatch ? "dispatch: raw_syscalls, by syscall number"
                                                                 : "tracepoints: one pair per syscall",
             ms(started->generate), ms(started->load), ms(started->attach));
  // Attached, the tracer needs no privilege: what follows decodes bytes any process on
  // the machine controls, so it runs without any (and as --user when asked).
  // The executable's path is /proc/PID/exe of processes that usually hold capabilities
  // the tracer gives up; reading it needs CAP_SYS_PTRACE, kept (when held) only for that.
  const std::uint64_t keep = parsed.options.context.has(ebpfpub::context_field::executable)
                                 ? (std::uint64_t{1} << CAP_SYS_PTRACE) & ebpfpub::effective_capabilities()
                                 : 0;
  if (auto dropped = ebpfpub::drop_privileges({.user = s.user, .keep = keep}); !dropped) return fail(dropped.error());

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);
  fmt::print(info, "\nEntering main loop...\n\n");
  std::fflush(info);
  if (cmd) {
    if (auto why = cmd->release(); !why.empty())
      fmt::print(stderr, "ebpftracer: cannot run {}: {}\n", s.command.front(), why);
  }

  // Losses are facts in the output too, in order among the events: a gap line after the
  // poll that found them (the sinks' stream carries the same as gap records).
  ebpfpub::loss_tracker losses;
  auto report_losses = [&] {
    for (const auto& gap : losses.update(tracer->stats())) {
      auto& buffer = out.buffer();
      if (json)
        fmt::format_to(std::back_inserter(buffer), "{{\"gap\":{{\"count\":{},\"syscall\":\"{}\",\"reason\":\"{}\"}}}}\n",
                       gap.count, gap.syscall, gap.reason);
      else
        fmt::format_to(std::back_inserter(buffer), "gap: {} calls of {} not recorded ({})\n\n", gap.count,
                       gap.syscall.empty() ? "an unknown syscall" : gap.syscall, gap.reason);
    }
  };
  // Output goes out after each batch, so a pipe (ebpftracer | grep) sees events promptly
  // without a write per event.
  auto flush = [&]() -> ebpfpub::expected<void> {
    if (out.flush()) return {};
    return ebpfpub::error::from_errno(errno, "writing the events");
  };
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(s.duration));
  // --interval: the table every S seconds, of the counts since the start.
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s.interval));
  const auto began = std::chrono::steady_clock::now();
  auto next_table = began + interval;
  ebpfpub::expected<void> ran;
  for (;;) {
    auto polled = tracer->poll(std::chrono::milliseconds(100));
    report_losses();
    if (auto flushed = flush(); polled && !flushed) polled = flushed.error();
    if (fleet->active()) fleet->account(tracer->stats());
    if (s.interval > 0 && std::chrono::steady_clock::now() >= next_table && polled) {
      const std::chrono::duration<double> since = std::chrono::steady_clock::now() - began;
      if (auto ok = ebpftracer::append_summary(out.buffer(), *tracer, fmt::format("After {:.1f} s:", since.count()),
                                               false); !ok)
        polled = ok.error();
      else if (auto flushed = flush(); !flushed) polled = flushed.error();
      next_table += interval;
    }
    if (hangup.exchange(false)) fleet->reopen();
    if (!polled) {
      ran = polled.error();
      break;
    }
    if (terminate_signal.load() != 0) break;
    if (s.count != 0 && written >= s.count) break;
    if (s.duration > 0 && std::chrono::steady_clock::now() >= deadline) break;
    if (cmd && cmd->reap()) break;
  }
  // Detached, the programs send nothing more: one poll delivers everything they sent.
  tracer->stop();
  if (ran) {
    auto last = tracer->poll(std::chrono::milliseconds(0));
    if (!last) ran = last.error();
  }
  report_losses();
  if (auto flushed = flush(); ran && !flushed) ran = flushed.error();
  fmt::print(info, "\nTerminating...\n");
  std::fflush(info);
  const auto stats = tracer->stats();
  print_summary(stats, s.summary);
  if (s.summary && ran) {
    // The counts stay readable once the programs are detached: the final table.
    if (auto ok = ebpftracer::append_summary(out.buffer(), *tracer, "", true); !ok) ran = ok.error();
    else if (auto flushed = flush(); !flushed) ran = flushed.error();
  }
  if (const auto* paths = tracer->paths()) {
    const auto p = paths->stats();
    fmt::print(stderr, "Paths of fds: {} known (of {}), {} found, {} not known, {} evicted\n", p.size,
               p.capacity, p.hits, p.misses, p.evictions);
  }
  fleet->finish(stats, std::chrono::seconds(5));
  if (json) {
    ebpfpub::append_json_summary(out.buffer(), stats);
    out.buffer().push_back('\n');
    if (auto flushed = flush(); ran && !flushed) ran = flushed.error();
  }
  if (!ran) return fail(ran.error());
  if (cmd) {
    if (terminate_signal.load() != 0 && !cmd->reap()) return 128 + terminate_signal.load();
    return cmd->status();
  }
  return 0;
}
