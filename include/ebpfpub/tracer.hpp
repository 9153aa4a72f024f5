#pragma once
/// \file
/// The tracer: collects what to trace, generates and loads the programs, and hands each
/// recorded call to its handler.
///
///     auto tracer = ebpfpub::tracer::create();
///     tracer->trace<ebpfpub::syscalls::openat>([](const ebpfpub::event<sys::openat>& e) {...});
///     tracer->trace("renameat2", [](const ebpfpub::dynamic_event& e) {...});
///     tracer->start();
///     while (running) tracer->poll(std::chrono::milliseconds(100));

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ebpfpub/error.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/registry.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/signature.hpp>
#include <ebpfpub/summary/summary.hpp>
#include <ebpfpub/tracefs.hpp>
#include <ebpfpub/context/paths.hpp>

namespace ebpfpub {

/// How the programs reach the calls they trace (docs/architecture.md, "Attach modes").
enum class attach_mode : std::uint8_t {
  /// One program pair per traced syscall, on its syscalls:sys_enter_<name> and
  /// sys_exit_<name> tracepoints. Untraced syscalls cost nothing; each link takes the
  /// kernel an RCU grace period to detach (tracing every syscall: ~20 s to stop).
  tracepoints,
  /// One program pair on raw_syscalls:sys_enter/sys_exit that tail-calls the traced
  /// syscall's programs by number. Starts and stops in a fraction of a second for any
  /// set and costs a traced call less, but adds to every syscall of the system, traced
  /// or not. x86_64 only; every traced syscall must be one ebpfpub knows the number of.
  dispatch,
  /// dispatch when `dispatch_from_syscalls` syscalls or more are traced, tracepoints below.
  automatic,
};

/// The size of a traced set from which attach_mode::automatic dispatches (measured:
/// docs/architecture.md, "Attach modes").
inline constexpr std::size_t dispatch_from_syscalls = 16;

struct tracer_options {
  resource_options resources;
  /// How the programs are attached; the events, filters and counts are the same.
  attach_mode attach = attach_mode::automatic;
  /// Limits of what serializers capture (argv, data buffers); the string limit comes
  /// from resources.buffer_size.
  plan_options capture;
  filter_options filter;
  /// Process context each event carries (event_header::context), read by the programs
  /// at enter: e.g. `context_field::executable | context_field::container`, or
  /// `context_fields::all()`. Empty: none (records keep their size and cost).
  context_fields context;
  /// Never record the calls of the tracing process itself: its reads of the ring buffer
  /// would otherwise trace themselves (a poll that records its own epoll_wait...). This
  /// drops every call of every thread of this process, your program's own calls too;
  /// statistics::excluded_self counts them. Set it to false to see them (and the tracer's).
  bool exclude_self = true;
  /// Summary mode (summary/summary.hpp): the programs count each traced syscall's calls,
  /// errors by errno and durations (a log2 histogram) in per-CPU maps and send no event;
  /// tracer::summary() reads the counts. Handlers are never called, captures are not
  /// made, and the output buffer is the smallest one (resources.output_pages_log2 is
  /// taken as 0). Filters, exclude_self and the rate limit apply as in event mode.
  bool summary = false;
  /// Keep the generated LLVM IR (tracer::ir()), for --verbose.
  bool keep_ir = false;
  tracefs::options tracefs_options;
  /// With capture.fd_identity: how many file paths the tracer keeps (a path_cache, seeded
  /// from /proc/PID/fd at start and fed by the opens it traces), to give fd identities
  /// their path. 0: none kept.
  std::size_t path_cache_size = 65536;
};

/// Counts for one traced syscall. Every call the programs saw is either delivered
/// (`events`) or counted in one of the `lost_*` fields.
struct syscall_statistics {
  std::string syscall;
  std::uint64_t events = 0;            ///< delivered to the handler
  std::uint64_t probe_errors = 0;      ///< delivered, with a failed capture
  std::uint64_t lost_output_full = 0;  ///< dropped: ring/perf buffer full
  std::uint64_t lost_no_storage = 0;   ///< dropped: no in-flight entry could be had
  std::uint64_t lost_malformed = 0;    ///< dropped by the decoder: a malformed record
  /// Exits whose enter was not seen (calls in progress when tracing started). Not a
  /// loss of a traced call, so not in lost().
  std::uint64_t unmatched_exits = 0;
  /// Dropped on purpose at enter by the rate limit (filter.rate_limit_per_second): not
  /// in lost(), so a flooding process's calls are exactly events + rate_limited + lost().
  std::uint64_t rate_limited = 0;
  /// Rejected on purpose by the syscall's filter expressions (tracer::add_filter), at
  /// enter or at exit, before any output space was taken: not in lost(), so
  /// events + filtered + rate_limited + lost() is every call the programs saw.
  std::uint64_t filtered = 0;
  std::uint64_t lost() const { return lost_output_full + lost_no_storage + lost_malformed; }
};

/// The calls of one process and syscall that the rate limit dropped.
struct rate_limited_process {
  std::uint32_t process_id = 0;
  std::string syscall;
  std::uint64_t count = 0;
};

struct statistics {
  std::vector<syscall_statistics> by_syscall;
  /// Every {process, syscall} the rate limit dropped calls of, most first (ties by
  /// process id). Kept in an LRU map of 8192 buckets: with more processes flooding at
  /// once, the least recent ones' counts can go (the per-syscall totals stay exact).
  std::vector<rate_limited_process> rate_limited_processes;
  /// Malformed records whose syscall could not be told (never seen; counted if ever).
  std::uint64_t lost_unattributed = 0;
  /// What the perf buffers themselves reported lost (perf transport): the same drops the
  /// programs already counted per syscall as lost_output_full, so not added to lost().
  std::uint64_t perf_reported_lost = 0;
  /// Children of filtered processes that the process map had no room for (their calls
  /// are not recorded).
  std::uint64_t untracked_children = 0;
  /// Calls of the tracing process itself that `tracer_options::exclude_self` dropped in
  /// the kernel (counted at enter, for every traced syscall). Deliberate, so not in lost().
  std::uint64_t excluded_self = 0;
  /// The process context's caches (tracer_options::context): executables by device and
  /// inode, cgroups by id; each bounded (4096 entries), evictions counted. `failures`:
  /// lookups that found nothing (the process or cgroup was gone), not cached.
  cache_statistics executable_cache;
  cache_statistics cgroup_cache;
  std::uint64_t events() const;
  std::uint64_t lost() const;
  std::uint64_t probe_errors() const;
  std::uint64_t rate_limited() const;
  std::uint64_t filtered() const;
};

/// What start() did and how long it took.
struct startup_report {
  std::size_t programs = 0;
  /// The mode the programs were attached in (attach_mode::automatic resolved).
  attach_mode attached = attach_mode::tracepoints;
  std::chrono::nanoseconds prepare{0};   ///< maps created (when prepare() was not called)
  std::chrono::nanoseconds generate{0};  ///< IR built and compiled by LLVM
  std::chrono::nanoseconds load{0};      ///< programs verified and loaded
  std::chrono::nanoseconds attach{0};    ///< programs attached to their tracepoints
};

namespace detail {
class session;
}

class tracer {
 public:
  /// Finds tracefs and checks this process may use BPF; nothing is loaded yet.
  static expected<tracer> create(tracer_options options = {});

  tracer(tracer&&) noexcept;
  tracer& operator=(tracer&&) noexcept;
  ~tracer();

  /// Traces syscall S with `Ser` (by default serializer<S>: ebpfpub's, yours, or the
  /// generic one); `handler(const event_of<Ser>&)` gets each call. Any serializer type
  /// will do, shipped or not: `trace<sys::write, my_write>` replaces ebpfpub's. `Ser` is
  /// checked against S at compile time (declare.hpp), its plan at run time, and the
  /// compiled-in signature against the running kernel, before anything is loaded.
  template <syscall_signature S, typename Ser = serializer<S>, typename F>
    requires serializer_for<Ser, S> && std::invocable<F&, const event_of<Ser>&>
  expected<void> trace(F handler) {
    auto checked = check_signature(S::name, S::layout);
    if (!checked) return checked;
    auto p = plan_for<S, Ser>(current_plan_options());
    if (!p) return p.error();
    return add(std::move(*p), [handler = std::move(handler)](const record_view& r) mutable {
      const event_of<Ser> e{r.header(), decode_for<Ser>(r)};
      handler(e);
    });
  }

  /// Traces a syscall known by name only, with the serializer registered for it
  /// (registry.hpp), else the one ebpfpub ships (serializers/all.hpp), else the generic
  /// serializer.
  expected<void> trace(std::string_view syscall,
                       std::function<void(const dynamic_event&)> handler);

  /// Traces with a plan built elsewhere (the by-name path of specialized serializers);
  /// the handler receives the checked record.
  expected<void> add(plan p, std::function<void(const record_view&)> handler);

  /// Adds a filter expression (filter/expression.hpp), compiled into the programs at
  /// start(): only the calls that pass it are recorded; the others are counted in
  /// syscall_statistics::filtered. `openat.filename startswith "/etc/"` applies to
  /// openat, which must be traced already; a filter on header fields only (`uid != 0`)
  /// applies to every traced syscall. Several filters on one syscall must all pass (they
  /// combine with `and`). Errors (syntax, unknown field, type) point at the expression
  /// with a caret. A test that needs only enter-time values (header, arguments, strings
  /// and addresses captured at enter) rejects the call at enter; one on the exit code or
  /// an exit capture rejects it at exit; in both cases before any output space is taken.
  expected<void> add_filter(std::string_view expression);

  /// Creates the maps (in-flight storage, counters, output), so memory() reports what
  /// the kernel allocated. start() does it when it was not done.
  expected<void> prepare();

  /// Adds a process to the process filter (which must have been set in the options).
  expected<void> add_process(std::uint32_t pid);

  /// Generates, loads and attaches every program. Events flow from here on.
  expected<startup_report> start();

  /// Waits up to `timeout` for events and delivers them to their handlers; returns how
  /// many were delivered. One call reads at most as many records as the buffer can hold,
  /// so it returns even while the programs write faster than the handlers keep up; what
  /// it leaves is read by the next call. After stop(), one poll delivers all that is left.
  expected<std::size_t> poll(std::chrono::milliseconds timeout);

  /// Polls until `stop` becomes true, then delivers what is left.
  expected<void> run_until(const std::atomic<bool>& stop,
                           std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  /// Detaches every program (also done by the destructor). Counters stay readable.
  void stop();

  statistics stats() const;
  /// Summary mode: what the programs counted since start(), summed over the CPUs (zeros
  /// before start()). Readable at any time, also after stop(); each map is read once, so
  /// a read while calls are being counted is a snapshot of each syscall, not of all at
  /// one instant.
  expected<summary_report> summary() const;
  memory_usage memory() const;
  const std::vector<plan>& plans() const;
  /// The generated module, when options.keep_ir was set.
  const std::string& ir() const;
  /// The paths fd identities are given (null unless capture.fd_identity and a
  /// path_cache_size): its hits, misses and evictions.
  const path_cache* paths() const;
  /// Names of every syscall this kernel can trace.
  expected<std::vector<std::string>> available_syscalls() const;

 private:
  explicit tracer(std::unique_ptr<detail::session> impl);
  expected<void> check_signature(std::string_view name, std::span<const argument_layout> layout);
  plan_options current_plan_options() const;

  std::unique_ptr<detail::session> impl_;
};

}  // namespace ebpfpub
