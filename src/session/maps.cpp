#include "session/maps.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <bpf/bpf.h>
#include <fmt/format.h>

#include "codegen/rate_bucket.hpp"

namespace ebpfpub::detail {
namespace {

constexpr std::uint32_t process_map_entries = 1 << 16;
constexpr std::uint32_t rate_limit_max = 1'000'000'000;

expected<void> check_rate_limit(const filter_options& f) {
  if (f.rate_limit_per_second > rate_limit_max || f.rate_limit_burst > rate_limit_max)
    return error(errc::invalid_argument,
                 fmt::format("filter.rate_limit_per_second ({}) and filter.rate_limit_burst ({}) "
                             "must be at most 1000000000", f.rate_limit_per_second, f.rate_limit_burst));
  if (f.rate_limit_per_second == 0 && f.rate_limit_burst != 0)
    return error(errc::invalid_argument,
                 fmt::format("filter.rate_limit_burst is {} but filter.rate_limit_per_second is 0 "
                             "(no limit); set a rate, or leave the burst at 0", f.rate_limit_burst));
  return {};
}

// Every creation goes through here, so a test can make the N-th one fail.
template <typename Create>
expected<map> create_map(injected_faults& faults, std::string_view name, Create&& create) {
  if (faults.fail_next(injected_faults::kind::map)) return injected_faults::rejected_map(name);
  return create();
}

}  // namespace

expected<session_maps> session_maps::create(std::span<const plan> plans, const map_sizes& sizes,
                                            const resource_options& res,
                                            const filter_options& filter, const tracefs& fs,
                                            injected_faults& faults) {
  session_maps s;
  // Tracepoint ids and sched layouts first: a kernel without one fails before any map.
  auto ids = syscall_tracepoints(fs, plans);
  if (!ids) return ids.error();
  s.ids_ = std::move(*ids);
  if (!filter.process_ids.empty() && filter.follow_children)
    if (auto ok = sched_tracepoints(fs, s.filter_, s.ids_); !ok) return ok.error();
  if (auto ok = check_sizes(plans, sizes, res); !ok) return ok.error();
  if (auto ok = check_rate_limit(filter); !ok) return ok.error();
  if (auto ok = cgroup_filter(filter, s.filter_); !ok) return ok.error();

  // In-flight storage: one map shared by every plan, plus one per private plan.
  const bool hash = res.event_map == event_map_kind::hash;
  auto create_storage = [&](std::string_view name, std::uint32_t size) {
    return create_map(faults, name, [&] {
      return hash ? create_lru_hash_map(name, size, res.event_map_size) : create_task_storage_map(name, size);
    });
  };
  auto& maps = s.programs_;
  if (sizes.shared_entry > 0) {
    auto m = create_storage("ebpfpub_events", sizes.shared_entry);
    if (!m) return m.error();
    s.storage_.push_back(std::move(*m));
  }
  for (std::size_t i = 0; i < plans.size(); ++i) {
    maps.storage_size.push_back(sizes.entry[i]);
    maps.record_size.push_back(sizes.record[i]);
    if (!plans[i].private_storage) {
      maps.storage_fd.push_back(s.storage_.front().fd.get());
      continue;
    }
    auto m = create_storage("ebpfpub_" + plans[i].syscall.name, sizes.entry[i]);
    if (!m) return m.error();
    maps.storage_fd.push_back(m->fd.get());
    s.storage_.push_back(std::move(*m));
  }
  maps.storage_kind = res.event_map;
  if (hash) {
    auto seed = create_map(faults, "ebpfpub_seed", [&] { return create_seed_map("ebpfpub_seed", sizes.largest_entry); });
    if (!seed) return seed.error();
    maps.seed_fd = seed->fd.get();
    s.storage_.push_back(std::move(*seed));
  }
  auto counters = create_map(faults, "ebpfpub_lost", [&] { return create_counters_map("ebpfpub_lost", sizes.counter_slots); });
  if (!counters) return counters.error();
  s.counters_ = std::move(*counters);
  maps.counters_fd = s.counters_.fd.get();

  auto output = create_map(faults, "ebpfpub_output", [&] {
    return res.output == transport::ring ? create_ring_buffer("ebpfpub_ring", sizes.output_map)
                                         : create_perf_event_array("ebpfpub_perf");
  });
  if (!output) return output.error();
  s.output_ = std::move(*output);
  maps.output_fd = s.output_.fd.get();

  // The process filter's map, seeded with the processes asked for and, when children are
  // followed, every descendant they already have; the sched programs keep it current.
  s.filter_.user_ids = filter.user_ids;
  s.filter_.result = filter.result;
  for (const auto& name : filter.commands) {
    std::array<char, 16> padded{};
    std::memcpy(padded.data(), name.data(), std::min<std::size_t>(name.size(), 15));
    s.filter_.commands.push_back(padded);
  }
  if (filter.rate_limit_per_second > 0) {
    auto buckets = create_map(faults, "ebpfpub_rate", [&] {
      return create_u64_lru_hash_map("ebpfpub_rate", sizeof(rate_bucket), rate_limit_entries);
    });
    if (!buckets) return buckets.error();
    s.rate_limit_ = std::move(*buckets);
    s.filter_.rate_limit_fd = s.rate_limit_.fd.get();
    s.filter_.rate_per_second = filter.rate_limit_per_second;
    s.filter_.rate_burst = filter.rate_limit_burst != 0 ? filter.rate_limit_burst : filter.rate_limit_per_second;
  }
  if (filter.process_ids.empty()) return s;
  auto processes = create_map(faults, "ebpfpub_pids", [&] { return create_process_map("ebpfpub_pids", process_map_entries); });
  if (!processes) return processes.error();
  s.processes_ = std::move(*processes);
  s.filter_.process_map_fd = s.processes_.fd.get();
  s.filter_.follow_children = filter.follow_children;
  for (auto pid : filter.follow_children ? with_descendants(filter.process_ids) : filter.process_ids)
    if (auto ok = s.add_process(pid); !ok) return ok.error();
  return s;
}

expected<void> session_maps::add_process(std::uint32_t pid) const {
  if (!processes_.fd)
    return error(errc::invalid_argument, "tracer: add_process needs a process filter "
                                         "(filter.process_ids) from the start");
  const std::uint8_t one = 1;
  if (bpf_map_update_elem(processes_.fd.get(), &pid, &one, BPF_ANY) != 0)
    return error::from_errno(errno, fmt::format("adding process {} to the filter", pid));
  return {};
}

void session_maps::measure(memory_usage& m, transport output) const {
  // The kernel's own accounting (memlock in fdinfo) includes its bookkeeping.
  m.measured = true;
  m.event_map_bytes = 0;
  for (const auto& map : storage_) m.event_map_bytes += map_memory(map.fd.get());
  // A perf event array's memlock is its fd table; the buffers are mapped per CPU.
  if (output == transport::ring) m.output_bytes = map_memory(output_.fd.get());
  m.counters_bytes = map_memory(counters_.fd.get());
}

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

}  // namespace ebpfpub::detail
