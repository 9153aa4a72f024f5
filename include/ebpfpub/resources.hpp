#pragma once
/// \file
/// The kernel objects a tracing session allocates, with the exact bytes each one holds,
/// and the options that size them (the CLI's -b, -c, -p, -e).

#include <cstdint>
#include <string>
#include <vector>

namespace ebpfpub {

/// How events reach user space.
enum class transport : std::uint8_t {
  ring,  ///< BPF ring buffer (kernel >= 5.8): one buffer shared by all CPUs, in order
  perf,  ///< per-CPU perf event array: the fallback for older kernels
};

/// How an exit program writes the record it sends over the ring (docs/resources.md,
/// "Ring writes"). Perf buffers always take the staged path.
enum class ring_write : std::uint8_t {
  /// Enter stages header and captures in the in-flight entry; exit copies the used bytes
  /// into the ring. A path is copied twice, but a record takes only its length of ring,
  /// and short records are written sequentially: measured here, half the cost of a
  /// reserved slot for 16 and 256-byte paths, 1.2x it for 4000-byte ones.
  staged,
  /// Exit reserves a ring slot of the plan's largest record and writes the record
  /// straight into it; strings readable at exit (capture::readable_at_exit) are read
  /// then, into the slot. One copy of a path, but every record of the syscall takes its
  /// largest size of ring (openat: 4 KiB), whatever its strings' lengths: ~250 events per
  /// MiB of ring instead of ~8,700 for 16-byte paths. For long strings.
  reserved,
  /// Per call, by length: exit reads each string readable at exit into the entry with a
  /// short bound (automatic_string_bytes); when every one fits, the record is copied out
  /// as staged does (short strings: a second copy of a few bytes, and the record takes
  /// only its length of ring); when one is longer, exit reserves a slot and reads the
  /// strings again straight into it, as reserved does (one copy of a long string). The
  /// strings are read at exit, as with reserved.
  automatic,
};

/// The bound of ring_write::automatic's first read of a string at exit: a string of at
/// most this many bytes is staged, a longer one read into a reserved slot.
inline constexpr std::uint32_t automatic_string_bytes = 512;

/// Where an event waits between its syscall's enter and exit.
enum class event_map_kind : std::uint8_t {
  task_storage,  ///< task-local storage: one entry per thread, freed with the thread
  hash,          ///< an LRU hash map of `event_map_size` entries keyed by thread id
};

/// Calls by their result: all, only failed ones (negative return value), only successful.
enum class result_filter : std::uint8_t { any, failed, succeeded };

/// Which calls are recorded. Filters run in the kernel, at enter: a call that does not
/// match costs no ring-buffer space. Empty lists match everything.
struct filter_options {
  /// Only these processes and, with follow_children, every process they create from
  /// when tracing starts (tracked in the kernel at fork and exit).
  std::vector<std::uint32_t> process_ids;
  bool follow_children = true;
  /// Only calls made with one of these real user ids.
  std::vector<std::uint32_t> user_ids;
  /// Only calls of threads with one of these command names (as /proc/PID/comm: up to 15
  /// bytes; longer names are compared on their first 15).
  std::vector<std::string> commands;
  /// Only calls of threads in this cgroup v2 or below it, tested in the kernel
  /// (bpf_get_current_ancestor_cgroup_id). A path relative to the cgroup2 root
  /// ("/system.slice/docker-<id>.scope") or absolute under its mount; empty: any cgroup.
  std::string cgroup;
  /// Only failed calls (negative return value) or only successful ones. exit and
  /// exit_group have no result, so they pass only `any`.
  result_filter result = result_filter::any;
  /// A token bucket per process and per syscall, in the kernel at enter, before any
  /// in-flight entry or output space is taken: each process may record at most
  /// `rate_limit_per_second` calls of one syscall per second on average, and up to
  /// `rate_limit_burst` at once (0: one second's worth). Calls over the limit are
  /// dropped and counted (syscall_statistics::rate_limited, and by process in
  /// statistics::rate_limited_processes). 0: no limit. At most 1e9 each.
  std::uint32_t rate_limit_per_second = 0;
  std::uint32_t rate_limit_burst = 0;
};

/// Sizes of everything a session allocates. Defaults fit under 16 MiB on 2 CPUs.
struct resource_options {
  /// -b: longest string or buffer captured whole, in bytes (PATH_MAX).
  std::uint32_t buffer_size = 4096;
  /// -c: how many string/buffer captures one event can hold at most; the capture
  /// storage of an in-flight entry is sized for this many of `buffer_size`.
  std::uint32_t buffer_count = 4;
  /// -p: 2^N pages per CPU of output buffer (the ring gets the same total).
  std::uint32_t output_pages_log2 = 8;
  /// -e: entries of the in-flight map when it is a hash map.
  std::uint32_t event_map_size = 1024;
  transport output = transport::ring;
  ring_write write = ring_write::staged;
  event_map_kind event_map = event_map_kind::task_storage;
};

/// Memory of a session's maps, in bytes. Before tracer::prepare() these are computed
/// from the plans and options (the data the maps hold); after it, `measured` is true and
/// the map figures are the kernel's own accounting (memlock in /proc/self/fdinfo), which
/// adds its bookkeeping.
struct memory_usage {
  bool measured = false;
  /// In-flight entries: the hash map's preallocated bytes; for task storage only the
  /// map itself, which allocates `entry_bytes` per thread as threads make traced calls.
  std::uint64_t event_map_bytes = 0;
  std::uint32_t entry_bytes = 0;           ///< one in-flight entry
  std::uint32_t entries = 0;               ///< preallocated entries (hash map), or 0
  std::uint64_t buffer_storage_bytes = 0;  ///< capture storage inside each entry
  std::uint64_t output_bytes = 0;          ///< ring buffer, or all CPUs' perf buffers
  std::uint64_t counters_bytes = 0;        ///< loss counters (per CPU)
  /// Summary mode only: the per-CPU counters of every syscall and the errno map.
  std::uint64_t summary_bytes = 0;
  /// The maps of filter sets of more than filter::unrolled_set_items values
  /// (tracer::add_filter): before start() the bytes of their keys and values, after it the
  /// kernel's accounting of the maps start() made.
  std::uint64_t filter_set_bytes = 0;
  /// A filter on an fd's path (`SYSCALL.ARG.path`) walks it in a task-local scratch value
  /// of this many bytes, made for each thread whose call reaches such a test (allocated on
  /// demand, freed with the thread: not in total(), as task storage entries are not); 0
  /// when no filter tests a path.
  std::uint32_t path_scratch_bytes = 0;
  std::uint64_t total() const {
    return event_map_bytes + output_bytes + counters_bytes + summary_bytes + filter_set_bytes;
  }
};

}  // namespace ebpfpub
