// The tracer: plans and handlers in, kernel objects out, records back to handlers.

#include <ebpfpub/tracer.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <optional>
#include <bit>
#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/perf_event.h>

#include <ebpfpub/record.hpp>

#include "codegen/codegen.hpp"
#include "kernel/kernel.hpp"

namespace ebpfpub {
namespace detail {

using clock = std::chrono::steady_clock;

struct ring_buffer_deleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
struct perf_buffer_deleter {
  void operator()(perf_buffer* pb) const { perf_buffer__free(pb); }
};

// The offsets an exit program needs to read a new image's argv, when a plan asks.
exec_layout exec_layout_for(const std::vector<plan>& plans) {
  const bool wanted = std::any_of(plans.begin(), plans.end(), [](const plan& p) {
    return std::any_of(p.captures.begin(), p.captures.end(),
                       [](const capture& c) { return c.image != exec_image::none; });
  });
  exec_layout layout;
  if (!wanted) return layout;
  auto mm = kernel_member_offset("task_struct", "mm");
  auto arg_start = kernel_member_offset("mm_struct", "arg_start");
  auto arg_end = kernel_member_offset("mm_struct", "arg_end");
  auto env_start = kernel_member_offset("mm_struct", "env_start");
  auto env_end = kernel_member_offset("mm_struct", "env_end");
  // Without them a faulted argv is still read again from the old pointers (which works
  // when exec failed); only the success case goes without.
  if (!mm || !arg_start || !arg_end || !env_start || !env_end) return layout;
  return {true, *mm, *arg_start, *arg_end, *env_start, *env_end};
}

// `roots` and every process below them now, from /proc/*/stat's parent ids.
std::vector<std::uint32_t> with_descendants(const std::vector<std::uint32_t>& roots) {
  std::multimap<std::uint32_t, std::uint32_t> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    // pid (comm) state ppid ...: comm may hold spaces and parentheses; skip to the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    std::uint32_t parent = 0;
    if (rest >> state >> parent) children.emplace(parent, static_cast<std::uint32_t>(std::stoul(name)));
  }
  std::vector<std::uint32_t> all;
  std::vector<std::uint32_t> pending = roots;
  while (!pending.empty()) {
    const auto pid = pending.back();
    pending.pop_back();
    if (std::find(all.begin(), all.end(), pid) != all.end()) continue;
    all.push_back(pid);
    const auto [begin, end] = children.equal_range(pid);
    for (auto it = begin; it != end; ++it) pending.push_back(it->second);
  }
  return all;
}

class session {
 public:
  session(tracer_options options, ebpfpub::tracefs fs) : options_(std::move(options)), fs_(std::move(fs)) {}

  tracer_options options_;
  ebpfpub::tracefs fs_;
  std::vector<plan> plans_;
  std::vector<std::function<void(const record_view&)>> handlers_;
  std::vector<syscall_statistics> delivered_;  // user-space counts, per plan
  std::uint64_t lost_unattributed_ = 0;
  std::uint64_t perf_reported_lost_ = 0;

  // Kernel objects, destroyed in reverse order: links first, then programs, then maps.
  std::vector<map> storage_maps_;
  std::vector<std::uint32_t> storage_of_plan_;
  map counters_;
  map output_;
  std::vector<unique_fd> programs_;
  std::vector<attachment> attachments_;
  std::unique_ptr<ring_buffer, ring_buffer_deleter> ring_;
  std::unique_ptr<perf_buffer, perf_buffer_deleter> perf_;
  std::string ir_;
  bool prepared_ = false;
  bool started_ = false;
  program_maps maps_;
  std::map<std::string, std::uint32_t> ids_;  // tracepoint ids by event name
  map process_map_;
  filter_code filter_;
  static constexpr std::uint32_t global_counters = 1;
  static constexpr std::uint32_t process_map_entries = 1 << 16;
  std::size_t delivered_this_poll_ = 0;
  // One poll() reads at most a full buffer's worth of records, so it returns even while
  // the programs write faster than the handlers run (libbpf's ring buffer reader keeps
  // going as long as there is data).
  std::size_t read_this_poll_ = 0;
  std::size_t poll_budget_ = 0;
  static constexpr int budget_reached = -10000;  // the callbacks' "stop reading" value

  void deliver(std::span<const std::uint8_t> bytes) {
    ++read_this_poll_;
    auto r = record_view::parse(bytes, plans_);
    if (!r) {
      // The plan index is the only thing to attribute it by, when it is in range.
      std::uint16_t index = 0;
      if (bytes.size() >= 6) std::memcpy(&index, bytes.data() + 4, 2);
      if (index < delivered_.size()) ++delivered_[index].lost_malformed;
      else ++lost_unattributed_;
      return;
    }
    const auto index = static_cast<std::size_t>(&r->plan() - plans_.data());
    auto& s = delivered_[index];
    ++s.events;
    if (r->header().probe_error) ++s.probe_errors;
    ++delivered_this_poll_;
    handlers_[index](*r);
  }

  static int on_ring_record(void* context, void* data, std::size_t size) {
    auto* self = static_cast<session*>(context);
    self->deliver({static_cast<const std::uint8_t*>(data), size});
    return self->read_this_poll_ >= self->poll_budget_ ? budget_reached : 0;
  }

  static bpf_perf_event_ret on_perf_event(void* context, int /*cpu*/, perf_event_header* header) {
    auto* self = static_cast<session*>(context);
    if (header->type == PERF_RECORD_SAMPLE) {
      // PERF_SAMPLE_RAW: u32 size, then the bytes.
      const auto* raw = reinterpret_cast<const std::uint8_t*>(header + 1);
      std::uint32_t size = 0;
      std::memcpy(&size, raw, sizeof(size));
      if (sizeof(perf_event_header) + sizeof(size) + size <= header->size)
        self->deliver({raw + sizeof(size), size});
      else {
        ++self->lost_unattributed_;
        ++self->read_this_poll_;
      }
    } else if (header->type == PERF_RECORD_LOST) {
      struct lost_record {
        perf_event_header header;
        std::uint64_t id;
        std::uint64_t lost;
      };
      lost_record lost{};
      std::memcpy(&lost, header, std::min<std::size_t>(sizeof(lost), header->size));
      // The same drops the programs counted per syscall when bpf_perf_event_output
      // failed: kept apart, never added to lost().
      self->perf_reported_lost_ += lost.lost;
    }
    // DONE ends this CPU's buffer for this poll without an error.
    return self->read_this_poll_ >= self->poll_budget_ ? LIBBPF_PERF_EVENT_DONE : LIBBPF_PERF_EVENT_CONT;
  }

  // What the maps hold, computed from the plans and options: the same before and after
  // start(), so the CLI can print it first, as the seed did.
  memory_usage memory() const {
    const auto& res = options_.resources;
    memory_usage m;
    m.measured = prepared_;
    std::uint32_t shared = 0;
    std::uint32_t largest_private = 0;
    for (const auto& p : plans_) {
      const auto size = entry_size(p, res.buffer_count);
      if (p.private_storage) largest_private = std::max(largest_private, size);
      else shared = std::max(shared, size);
    }
    m.entry_bytes = std::max(shared, largest_private);
    if (res.event_map == event_map_kind::hash) {
      // Preallocated: every entry of every storage map, and the per-CPU seed value.
      std::size_t maps = shared > 0 ? 1 : 0;
      for (const auto& p : plans_) maps += p.private_storage ? 1 : 0;
      m.entries = res.event_map_size;
      m.event_map_bytes = std::uint64_t{res.event_map_size} * m.entry_bytes * maps +
                          std::uint64_t{m.entry_bytes} * possible_cpus();
    }
    std::uint32_t fixed = 0;
    for (const auto& p : plans_)
      fixed = std::max(fixed, record::header_size + 8 * static_cast<std::uint32_t>(p.syscall.arguments.size()));
    m.buffer_storage_bytes = m.entry_bytes > fixed ? m.entry_bytes - fixed : 0;
    m.output_bytes = all_output_bytes();
    m.counters_bytes = std::uint64_t{8} * plans_.size() * loss_reason_count * possible_cpus();
    if (prepared_) {
      // The kernel's own accounting (memlock in fdinfo) includes its bookkeeping.
      m.event_map_bytes = 0;
      for (const auto& map : storage_maps_) m.event_map_bytes += map_memory(map.fd.get());
      // A perf event array's memlock is its fd table; the buffers are mapped per CPU.
      if (options_.resources.output == transport::ring) m.output_bytes = map_memory(output_.fd.get());
      m.counters_bytes = map_memory(counters_.fd.get());
    }
    return m;
  }

  std::uint64_t output_bytes() const {
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t per_cpu = page << options_.resources.output_pages_log2;
    if (options_.resources.output == transport::perf) return per_cpu;
    return std::bit_ceil(per_cpu * possible_cpus());
  }

  // Bytes of output in all: the ring, or every CPU's perf buffer.
  std::uint64_t all_output_bytes() const {
    return options_.resources.output == transport::ring ? output_bytes() : output_bytes() * possible_cpus();
  }

  expected<void> prepare() {
    if (prepared_) return {};
    if (plans_.empty())
      return error(errc::invalid_argument, "tracer: nothing to trace; call trace() first");
    if (plans_.size() > 0xffff)
      return error(errc::invalid_argument, "tracer: more than 65535 syscalls");
    const auto& res = options_.resources;
    if (res.output_pages_log2 > 16)
      return error(errc::invalid_argument,
                   fmt::format("output size 2^{} pages per CPU is too large (at most 2^16)",
                               res.output_pages_log2));
    // Tracepoint ids, looked up before anything is created.
    auto& ids = ids_;
    ids.clear();
    auto add_id = [&](const std::string& syscall, syscall_phase phase) -> expected<void> {
      const auto name = (phase == syscall_phase::enter ? "sys_enter_" : "sys_exit_") + syscall;
      if (ids.count(name)) return {};
      auto format = fs_.syscall_format(syscall, phase);
      if (!format) return format.error();
      ids[name] = format->id;
      return {};
    };
    for (const auto& p : plans_) {
      for (auto phase : {syscall_phase::enter, syscall_phase::exit})
        if (auto ok = add_id(p.syscall.name, phase); !ok) return ok.error();
      for (const auto& alias : p.exit_aliases)
        if (auto ok = add_id(alias, syscall_phase::exit); !ok) return ok.error();
    }

    // In-flight storage: one map shared by every plan, plus one per private plan.
    auto& maps = maps_;
    maps = {};
    std::uint32_t shared_size = 0;
    for (const auto& p : plans_)
      if (!p.private_storage) shared_size = std::max(shared_size, entry_size(p, res.buffer_count));
    constexpr std::uint32_t max_entry = 60 * 1024;  // task storage values stay below 64 KiB
    auto check_size = [&](std::uint32_t size, std::string_view who) -> expected<void> {
      if (size <= max_entry) return {};
      return error(errc::exhausted,
                   fmt::format("in-flight entry of {} bytes for {} is over the kernel's {}-byte "
                               "limit for task storage; lower -b (buffer size {}) or -c (buffer "
                               "count {})", size, who, max_entry, res.buffer_size, res.buffer_count));
    };
    const bool hash = res.event_map == event_map_kind::hash;
    auto create_storage = [&](std::string_view name, std::uint32_t size) {
      return hash ? create_lru_hash_map(name, size, res.event_map_size)
                  : create_task_storage_map(name, size);
    };
    if (shared_size > 0) {
      if (auto ok = check_size(shared_size, "the shared storage"); !ok) return ok.error();
      auto m = create_storage("ebpfpub_events", shared_size);
      if (!m) return m.error();
      storage_maps_.push_back(std::move(*m));
    }
    for (const auto& p : plans_) {
      if (!p.private_storage) {
        maps.storage_fd.push_back(storage_maps_.front().fd.get());
        maps.storage_size.push_back(shared_size);
        continue;
      }
      const auto size = entry_size(p, res.buffer_count);
      if (auto ok = check_size(size, p.syscall.name); !ok) return ok.error();
      auto m = create_storage("ebpfpub_" + p.syscall.name, size);
      if (!m) return m.error();
      maps.storage_fd.push_back(m->fd.get());
      maps.storage_size.push_back(size);
      storage_maps_.push_back(std::move(*m));
    }
    maps.storage_kind = res.event_map;
    if (hash) {
      const auto largest = *std::max_element(maps.storage_size.begin(), maps.storage_size.end());
      auto seed = create_seed_map("ebpfpub_seed", largest);
      if (!seed) return seed.error();
      maps.seed_fd = seed->fd.get();
      storage_maps_.push_back(std::move(*seed));
    }
    auto counters = create_counters_map(
        "ebpfpub_lost", static_cast<std::uint32_t>(plans_.size()) * loss_reason_count + global_counters);
    if (!counters) return counters.error();
    counters_ = std::move(*counters);
    maps.counters_fd = counters_.fd.get();

    auto output = res.output == transport::ring ? create_ring_buffer("ebpfpub_ring", output_bytes())
                                                : create_perf_event_array("ebpfpub_perf");
    if (!output) return output.error();
    output_ = std::move(*output);
    maps.output_fd = output_.fd.get();

    if (auto ok = prepare_filters(); !ok) return ok;
    prepared_ = true;
    return {};
  }

  // The process filter's map, seeded with the processes asked for and, when children are
  // followed, every descendant they already have; the sched tracepoints keep it current.
  expected<void> prepare_filters() {
    const auto& f = options_.filter;
    filter_ = {};
    filter_.user_ids = f.user_ids;
    filter_.result = f.result;
    for (const auto& name : f.commands) {
      std::array<char, 16> padded{};
      std::memcpy(padded.data(), name.data(), std::min<std::size_t>(name.size(), 15));
      filter_.commands.push_back(padded);
    }
    if (f.process_ids.empty()) return {};
    auto m = create_process_map("ebpfpub_pids", process_map_entries);
    if (!m) return m.error();
    process_map_ = std::move(*m);
    filter_.process_map_fd = process_map_.fd.get();
    for (auto pid : f.follow_children ? with_descendants(f.process_ids) : f.process_ids)
      if (auto ok = add_process(pid); !ok) return ok;
    if (!f.follow_children) return {};
    auto fork = fs_.format("sched", "sched_process_fork");
    if (!fork) return fork.error();
    auto exit = fs_.format("sched", "sched_process_exit");
    if (!exit) return exit.error();
    const auto* child = fork->find("child_pid");
    const auto* pid = exit->find("pid");
    const auto* dead = exit->find("group_dead");
    if (!child || !pid || !dead)
      return error(errc::unsupported, "sched_process_fork/exit lack child_pid, pid or group_dead; "
                                      "cannot follow children on this kernel (use follow_children = false)");
    filter_.fork_child_pid = child->offset;
    filter_.exit_pid = pid->offset;
    filter_.exit_group_dead = dead->offset;
    ids_["sched/sched_process_fork"] = fork->id;
    ids_["sched/sched_process_exit"] = exit->id;
    return {};
  }

  expected<void> add_process(std::uint32_t pid) {
    if (!process_map_.fd)
      return error(errc::invalid_argument, "tracer: add_process needs a process filter "
                                           "(filter.process_ids) from the start");
    const std::uint8_t one = 1;
    if (bpf_map_update_elem(process_map_.fd.get(), &pid, &one, BPF_ANY) != 0)
      return error::from_errno(errno, fmt::format("adding process {} to the filter", pid));
    return {};
  }

  expected<startup_report> start() {
    if (started_) return error(errc::invalid_argument, "tracer: start() was already called");
    const auto& res = options_.resources;
    startup_report report;
    auto t0 = clock::now();
    if (auto ok = prepare(); !ok) return ok.error();
    auto& maps = maps_;
    const auto& ids = ids_;
    auto t_prepared = clock::now();
    report.prepare = t_prepared - t0;
    t0 = t_prepared;

    codegen_options codegen;
    codegen.exec = exec_layout_for(plans_);
    codegen.output = res.output;
    codegen.filter = filter_;
    codegen.self_tgid = options_.exclude_self ? static_cast<std::uint32_t>(::getpid()) : 0;
    codegen.wakeup_bytes = output_bytes() / 4;
    codegen.keep_ir = options_.keep_ir;
    auto code = generate_programs(plans_, maps, codegen);
    if (!code) return code.error();
    ir_ = std::move(code->ir);
    auto t1 = clock::now();
    report.generate = t1 - t0;

    for (const auto& program : code->programs) {
      auto fd = load_tracepoint_program(program.name, program.instructions);
      if (!fd) return fd.error();
      programs_.push_back(std::move(*fd));
    }
    auto t2 = clock::now();
    report.load = t2 - t1;

    // Exits first: an enter whose exit is not attached yet would leave its entry in
    // flight, lost without a count; an exit without its enter is counted.
    std::vector<std::size_t> order(code->programs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Process tracking first of all, so no child created meanwhile goes unseen.
    auto rank = [&](std::size_t i) {
      const auto& name = code->programs[i].tracepoint;
      return name.starts_with("sched/") ? 0 : name.starts_with("sys_exit_") ? 1 : 2;
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
    for (auto i : order) {
      const auto& name = code->programs[i].tracepoint;
      auto a = attach_tracepoint(programs_[i].get(), ids.at(name), name);
      if (!a) return a.error();
      attachments_.push_back(std::move(*a));
    }
    report.attach = clock::now() - t2;
    report.programs = code->programs.size();

    if (res.output == transport::ring) {
      ring_.reset(ring_buffer__new(output_.fd.get(), &session::on_ring_record, this, nullptr));
      if (!ring_) return error::from_errno(errno, "ring buffer: mapping it for reading");
    } else {
      perf_event_attr attr{};
      attr.config = PERF_COUNT_SW_BPF_OUTPUT;
      attr.type = PERF_TYPE_SOFTWARE;
      attr.sample_type = PERF_SAMPLE_RAW;
      attr.sample_period = 1;
      // Wake the reader when a quarter of the buffer is used, not per event.
      attr.watermark = 1;
      attr.wakeup_watermark = static_cast<std::uint32_t>(output_bytes() / 4);
      perf_.reset(perf_buffer__new_raw(output_.fd.get(), std::size_t{1} << res.output_pages_log2,
                                       &attr, &session::on_perf_event, this, nullptr));
      if (!perf_) return error::from_errno(errno, "perf buffer: opening the per-CPU buffers");
    }

    // The smallest record is a header: a buffer holds at most this many.
    const std::uint64_t smallest = record::header_size + 8;
    poll_budget_ = std::max<std::size_t>(1024, all_output_bytes() / smallest);
    started_ = true;
    return report;
  }

  expected<std::size_t> poll(std::chrono::milliseconds timeout) {
    if (!started_) return error(errc::invalid_argument, "tracer: poll() before start()");
    delivered_this_poll_ = 0;
    read_this_poll_ = 0;
    const int ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), INT32_MAX));
    int err = 0;
    if (ring_) {
      err = ring_buffer__poll(ring_.get(), ms);
      // Events are sent without wakeups until enough wait: take them all after a timeout.
      if (err >= 0) err = ring_buffer__consume(ring_.get());
      if (err == budget_reached) err = 0;
    } else if (perf_) {
      err = perf_buffer__poll(perf_.get(), ms);
      if (err >= 0 && read_this_poll_ < poll_budget_) err = perf_buffer__consume(perf_.get());
    } else {
      return std::size_t{0};  // stopped
    }
    if (err < 0 && err != -EINTR) return error::from_errno(-err, "reading events");
    return delivered_this_poll_;
  }

  void stop() {
    detach_all(attachments_);
    attachments_.clear();
    programs_.clear();
  }

  statistics stats() const {
    statistics s;
    s.by_syscall = delivered_;
    s.lost_unattributed = lost_unattributed_;
    s.perf_reported_lost = perf_reported_lost_;
    if (!counters_.fd) return s;
    const auto cpus = possible_cpus();
    std::vector<std::uint64_t> values(cpus);
    auto read = [&](std::uint32_t key) {
      std::fill(values.begin(), values.end(), 0);
      std::uint64_t sum = 0;
      if (bpf_map_lookup_elem(counters_.fd.get(), &key, values.data()) == 0)
        for (auto v : values) sum += v;
      return sum;
    };
    const auto base = static_cast<std::uint32_t>(plans_.size()) * loss_reason_count;
    s.untracked_children = read(base + static_cast<std::uint32_t>(global_counter::untracked_children));
    for (std::size_t i = 0; i < plans_.size(); ++i) {
      for (std::uint32_t reason = 0; reason < loss_reason_count; ++reason) {
        const auto sum = read(static_cast<std::uint32_t>(i) * loss_reason_count + reason);
        auto& out = s.by_syscall[i];
        switch (static_cast<loss_reason>(reason)) {
          case loss_reason::output_full: out.lost_output_full = sum; break;
          case loss_reason::no_storage: out.lost_no_storage = sum; break;
          case loss_reason::unmatched_exit: out.unmatched_exits = sum; break;
        }
      }
    }
    return s;
  }
};

}  // namespace detail

std::uint64_t statistics::events() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.events;
  return n;
}
std::uint64_t statistics::lost() const {
  std::uint64_t n = lost_unattributed;
  for (const auto& s : by_syscall) n += s.lost();
  return n;
}
std::uint64_t statistics::probe_errors() const {
  std::uint64_t n = 0;
  for (const auto& s : by_syscall) n += s.probe_errors;
  return n;
}

tracer::tracer(std::unique_ptr<detail::session> impl) : impl_(std::move(impl)) {}
tracer::tracer(tracer&&) noexcept = default;
tracer& tracer::operator=(tracer&&) noexcept = default;
tracer::~tracer() = default;

expected<tracer> tracer::create(tracer_options options) {
  const auto& res = options.resources;
  if (res.buffer_size == 0 || res.buffer_size > 32768)
    return error(errc::invalid_argument,
                 fmt::format("buffer size {} is outside 1..32768 bytes", res.buffer_size));
  if (res.buffer_count == 0 || res.buffer_count > 64)
    return error(errc::invalid_argument,
                 fmt::format("buffer count {} is outside 1..64", res.buffer_count));
  if (auto bpf = detail::check_bpf_access(); !bpf) return bpf.error();
  auto fs = tracefs::open(options.tracefs_options);
  if (!fs) return fs.error();
  return tracer(std::make_unique<detail::session>(std::move(options), std::move(*fs)));
}

plan_options tracer::current_plan_options() const {
  plan_options o = impl_->options_.capture;
  o.string_size = impl_->options_.resources.buffer_size;
  return o;
}

expected<void> tracer::check_signature(std::string_view name, std::span<const argument_layout> layout) {
  auto enter = impl_->fs_.syscall_format(name, syscall_phase::enter);
  if (!enter) return enter.error();
  auto exit = impl_->fs_.syscall_format(name, syscall_phase::exit);
  if (!exit) return exit.error();
  return validate(name, layout, *enter, *exit);
}

expected<void> tracer::add(plan p, std::function<void(const record_view&)> handler) {
  if (impl_->started_)
    return error(errc::invalid_argument,
                 fmt::format("tracer: cannot add {} after start(); add every syscall first", p.syscall.name));
  for (const auto& existing : impl_->plans_)
    if (existing.syscall.name == p.syscall.name)
      return error(errc::invalid_argument, fmt::format("tracer: {} is already traced", p.syscall.name));
  if (auto ok = check_plan(p); !ok) return ok;
  impl_->delivered_.push_back({p.syscall.name});
  impl_->plans_.push_back(std::move(p));
  impl_->handlers_.push_back(std::move(handler));
  return {};
}

expected<void> tracer::trace(std::string_view syscall, std::function<void(const dynamic_event&)> handler) {
  // A registered serializer first (the user's), then ebpfpub's own, then the generic one.
  auto chosen = find_serializer(syscall);
  if (!chosen) {
    serializers::specialized::for_each([&]<typename S>() {
      if (!chosen && S::name == syscall) chosen = make_registration<S>();
    });
  }
  if (chosen) {
    if (auto checked = check_signature(chosen->syscall, chosen->layout); !checked) return checked;
    auto p = chosen->make_plan(current_plan_options());
    if (!p) return p.error();
    return add(std::move(*p), [decode = std::move(chosen->decode), handler = std::move(handler)](
                                  const record_view& r) { handler(decode(r)); });
  }
  auto description = describe_syscall(impl_->fs_, syscall);
  if (!description) return description.error();
  return add(make_generic_plan(std::move(*description), current_plan_options()),
             [handler = std::move(handler)](const record_view& r) { handler(decode_dynamic(r)); });
}

expected<void> tracer::prepare() { return impl_->prepare(); }
expected<startup_report> tracer::start() { return impl_->start(); }
expected<void> tracer::add_process(std::uint32_t pid) { return impl_->add_process(pid); }
expected<std::size_t> tracer::poll(std::chrono::milliseconds timeout) { return impl_->poll(timeout); }

expected<void> tracer::run_until(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  while (!stop.load(std::memory_order_relaxed)) {
    auto n = poll(interval);
    if (!n) return n.error();
  }
  // What the programs sent before stop was set.
  auto n = poll(std::chrono::milliseconds(0));
  if (!n) return n.error();
  return {};
}

void tracer::stop() { impl_->stop(); }
statistics tracer::stats() const { return impl_->stats(); }
memory_usage tracer::memory() const { return impl_->memory(); }
const std::vector<plan>& tracer::plans() const { return impl_->plans_; }
const std::string& tracer::ir() const { return impl_->ir_; }
expected<std::vector<std::string>> tracer::available_syscalls() const { return impl_->fs_.syscall_names(); }

}  // namespace ebpfpub
