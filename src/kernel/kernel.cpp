#include "kernel/kernel.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

namespace ebpfpub::detail {
namespace {

// The capabilities BPF tracing needs that this process lacks, from /proc/self/status.
std::string missing_capabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  std::uint64_t effective = 0;
  while (std::getline(status, line))
    if (line.starts_with("CapEff:")) effective = std::stoull(line.substr(7), nullptr, 16);
  constexpr int cap_sys_admin = 21, cap_perfmon = 38, cap_bpf = 39;
  auto has = [&](int cap) { return (effective >> cap) & 1; };
  if (has(cap_sys_admin) || (has(cap_bpf) && has(cap_perfmon))) return {};
  std::vector<std::string> missing;
  if (!has(cap_bpf)) missing.emplace_back("CAP_BPF");
  if (!has(cap_perfmon)) missing.emplace_back("CAP_PERFMON");
  return fmt::format("{}", fmt::join(missing, " and "));
}

error bpf_error(int err, std::string_view what) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    const auto missing = missing_capabilities();
    if (missing.empty())
      return error(errc::permission_denied,
                   fmt::format("{}: {}; the process has the capabilities, so a security module or "
                               "kernel.unprivileged_bpf_disabled may forbid it", what, std::strerror(err)));
    return error(errc::permission_denied,
                 fmt::format("{}: {}; this process lacks {}: run as root, or grant them "
                             "(setcap cap_bpf,cap_perfmon,cap_dac_read_search+ep PROGRAM; Linux >= 5.8)", what,
                             std::strerror(err), missing));
  }
  return error::from_errno(err, what);
}

// libbpf's objects own fds too; this makes their lifetime a scope.
struct btf_deleter {
  void operator()(btf* b) const { btf__free(b); }
};

}  // namespace

std::uint32_t possible_cpus() {
  const int n = libbpf_num_possible_cpus();
  return n > 0 ? static_cast<std::uint32_t>(n) : 1;
}

expected<map> create_task_storage_map(std::string_view name, std::uint32_t value_size) {
  std::unique_ptr<btf, btf_deleter> types(btf__new_empty());
  if (!types) return bpf_error(errno, "task storage: creating BTF");
  const int int_id = btf__add_int(types.get(), "int", 4, BTF_INT_SIGNED);
  const int char_id = btf__add_int(types.get(), "char", 1, BTF_INT_CHAR);
  const int array_id = btf__add_array(types.get(), int_id, char_id, value_size);
  const int struct_id = btf__add_struct(types.get(), "ebpfpub_entry", value_size);
  if (int_id < 0 || char_id < 0 || array_id < 0 || struct_id < 0 ||
      btf__add_field(types.get(), "data", array_id, 0, 0) < 0)
    return error(errc::internal, "task storage: cannot describe the entry in BTF");
  if (const int err = btf__load_into_kernel(types.get()); err != 0)
    return bpf_error(err, "task storage: loading its BTF into the kernel");

  LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = static_cast<__u32>(btf__fd(types.get())),
              .btf_key_type_id = static_cast<__u32>(int_id),
              .btf_value_type_id = static_cast<__u32>(struct_id), .map_flags = BPF_F_NO_PREALLOC);
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_TASK_STORAGE, map_name.c_str(), 4, value_size, 0, &opts);
  if (fd < 0)
    return bpf_error(errno, fmt::format("creating task storage map {} ({}-byte entries; needs "
                                        "Linux >= 5.11 with BTF)", map_name, value_size));
  return map{unique_fd(fd), map_name, 0};
}

expected<map> create_lru_hash_map(std::string_view name, std::uint32_t value_size,
                                  std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, map_name.c_str(), 4, value_size, entries, nullptr);
  if (fd < 0)
    return bpf_error(errno, fmt::format("creating hash map {} ({} entries of {} bytes)", map_name,
                                        entries, value_size));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<map> create_u64_lru_hash_map(std::string_view name, std::uint32_t value_size,
                                      std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, map_name.c_str(), 8, value_size, entries, nullptr);
  if (fd < 0)
    return bpf_error(errno, fmt::format("creating hash map {} ({} entries of {} bytes)", map_name,
                                        entries, value_size));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<map> create_process_map(std::string_view name, std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  const int fd = bpf_map_create(BPF_MAP_TYPE_HASH, map_name.c_str(), 4, 1, entries, &opts);
  if (fd < 0) return bpf_error(errno, fmt::format("creating process map {}", map_name));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<map> create_set_map(std::string_view name, std::uint32_t key_size, std::uint32_t entries, bool lpm_trie) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  // LPM tries must not be preallocated; a hash set need not be.
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  const int fd = bpf_map_create(lpm_trie ? BPF_MAP_TYPE_LPM_TRIE : BPF_MAP_TYPE_HASH, map_name.c_str(), key_size, 1,
                                entries, &opts);
  if (fd < 0) return bpf_error(errno, fmt::format("creating filter set map {}", map_name));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<map> create_seed_map(std::string_view name, std::uint32_t value_size) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, map_name.c_str(), 4, value_size, 1, nullptr);
  if (fd < 0) return bpf_error(errno, fmt::format("creating per-CPU map {}", map_name));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

std::uint64_t map_memory(int map_fd) {
  std::ifstream in(fmt::format("/proc/self/fdinfo/{}", map_fd));
  std::string key;
  while (in >> key) {
    if (key == "memlock:") {
      std::uint64_t bytes = 0;
      in >> bytes;
      return bytes;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

expected<map> create_counters_map(std::string_view name, std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, map_name.c_str(), 4, 8,
                                std::max<std::uint32_t>(entries, 1), nullptr);
  if (fd < 0) return bpf_error(errno, fmt::format("creating counters map {}", map_name));
  return map{unique_fd(fd), map_name, std::uint64_t{8} * entries * possible_cpus()};
}

expected<map> create_ring_buffer(std::string_view name, std::uint64_t bytes) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, map_name.c_str(), 0, 0,
                                static_cast<std::uint32_t>(bytes), nullptr);
  if (fd < 0) {
    const int saved = errno;
    if (saved == EINVAL)
      return error(errc::unsupported,
                   fmt::format("creating ring buffer {} of {} bytes failed: the kernel has no "
                               "BPF ring buffer (Linux >= 5.8) or rejects the size; use the "
                               "perf transport (resources.output = transport::perf)", map_name, bytes));
    return bpf_error(saved, fmt::format("creating ring buffer {} ({} bytes)", map_name, bytes));
  }
  return map{unique_fd(fd), map_name, bytes};
}

expected<map> create_perf_event_array(std::string_view name) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, map_name.c_str(), 4, 4,
                                possible_cpus(), nullptr);
  if (fd < 0) return bpf_error(errno, fmt::format("creating perf event array {}", map_name));
  return map{unique_fd(fd), map_name, 0};
}

expected<map> create_array_map(std::string_view name, std::uint32_t value_size, std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, map_name.c_str(), 4, value_size, entries, nullptr);
  if (fd < 0)
    return bpf_error(errno, fmt::format("creating array {} ({} entries of {} bytes)", map_name, entries, value_size));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<void> set_array_value(int map_fd, std::uint32_t key, const void* value, std::string_view map) {
  if (bpf_map_update_elem(map_fd, &key, value, BPF_ANY) != 0)
    return bpf_error(errno, fmt::format("setting entry {} of {}", key, map));
  return {};
}

expected<map> create_program_array(std::string_view name, std::uint32_t entries) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, map_name.c_str(), 4, 4, entries, nullptr);
  if (fd < 0)
    return bpf_error(errno, fmt::format("creating program array {} ({} entries)", map_name, entries));
  return map{unique_fd(fd), map_name, map_memory(fd)};
}

expected<void> set_program_slot(int map_fd, std::uint32_t slot, int program_fd, std::string_view program) {
  const std::uint32_t value = static_cast<std::uint32_t>(program_fd);
  if (bpf_map_update_elem(map_fd, &slot, &value, BPF_ANY) != 0)
    return bpf_error(errno, fmt::format("putting program {} in slot {} of its program array", program, slot));
  return {};
}

expected<unique_fd> load_program(program_kind kind, std::string_view name,
                                 const std::vector<bpf_insn>& instructions, std::uint32_t attach_btf_id) {
  const std::string prog_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const auto type = kind == program_kind::raw_tracepoint   ? BPF_PROG_TYPE_RAW_TRACEPOINT
                    : kind == program_kind::btf_tracepoint ? BPF_PROG_TYPE_TRACING
                                                           : BPF_PROG_TYPE_TRACEPOINT;
  // A tp_btf program is typed for its tracepoint at load; the others name it at attach.
  const bool typed = kind == program_kind::btf_tracepoint;
  LIBBPF_OPTS(bpf_prog_load_opts, quiet, .expected_attach_type = typed ? BPF_TRACE_RAW_TP : bpf_attach_type{},
              .attach_btf_id = typed ? attach_btf_id : 0);
  // First without a log: verification is faster, and most loads succeed.
  int fd = bpf_prog_load(type, prog_name.c_str(), "GPL", instructions.data(), instructions.size(), &quiet);
  if (fd >= 0) return unique_fd(fd);
  // EPERM is a missing capability; the verifier says EACCES or EINVAL, with a log.
  const int first_error = errno;
  if (first_error == EPERM) return bpf_error(first_error, fmt::format("loading program {}", prog_name));

  std::string log(16 * 1024 * 1024, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = quiet.expected_attach_type,
              .attach_btf_id = quiet.attach_btf_id, .log_level = 1, .log_size = static_cast<__u32>(log.size()),
              .log_buf = log.data());
  fd = bpf_prog_load(type, prog_name.c_str(), "GPL", instructions.data(), instructions.size(), &opts);
  if (fd >= 0) return unique_fd(fd);  // passed with a log: a transient failure
  const int saved = errno;
  log.resize(std::strlen(log.c_str()));
  if (log.empty())
    return bpf_error(saved, fmt::format("loading program {} ({} instructions)", prog_name,
                                        instructions.size()));
  // The end of the log says why; keep it whole up to a size a terminal can take.
  constexpr std::size_t keep = 64 * 1024;
  if (log.size() > keep) log = "...\n" + log.substr(log.size() - keep);
  return error(errc::verifier_rejected,
               fmt::format("the kernel's verifier rejected program {} ({}): {}\nverifier log:\n{}",
                           prog_name, std::strerror(saved),
                           "this is a bug in ebpfpub's code generation; please report it with "
                           "this log", log));
}

expected<attachment> attach_tracepoint(int program_fd, std::uint32_t tracepoint_id,
                                       std::string_view tracepoint) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = tracepoint_id;
  attr.sample_period = 1;
  // One event on CPU 0 with pid -1 attaches the program to the tracepoint on every CPU.
  const int pfd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1,
                                             PERF_FLAG_FD_CLOEXEC));
  if (pfd < 0)
    return bpf_error(errno, fmt::format("opening a perf event on tracepoint {} (id {})",
                                        tracepoint, tracepoint_id));
  attachment a{unique_fd(pfd), {}};
  const int link = bpf_link_create(program_fd, pfd, BPF_PERF_EVENT, nullptr);
  if (link < 0)
    return bpf_error(errno, fmt::format("attaching to tracepoint {}", tracepoint));
  a.link.reset(link);
  return a;
}

expected<attachment> attach_raw_tracepoint(int program_fd, std::string_view tracepoint) {
  const std::string name(tracepoint);
  const int link = bpf_raw_tracepoint_open(name.c_str(), program_fd);
  if (link < 0) return bpf_error(errno, fmt::format("attaching to raw tracepoint {}", tracepoint));
  return attachment{{}, unique_fd(link)};
}

expected<attachment> attach_btf_tracepoint(int program_fd, std::string_view tracepoint) {
  const int link = bpf_raw_tracepoint_open(nullptr, program_fd);
  if (link < 0) return bpf_error(errno, fmt::format("attaching to tracepoint {} (tp_btf)", tracepoint));
  return attachment{{}, unique_fd(link)};
}

void detach_all(std::vector<attachment>& attachments) {
  const std::size_t n = attachments.size();
  const std::size_t workers = std::min<std::size_t>(n / 8, 16);
  if (workers < 2) {
    attachments.clear();
    return;
  }
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&attachments, n, workers, w] {
      for (std::size_t i = w; i < n; i += workers) attachments[i] = attachment{};
    });
  for (auto& t : threads) t.join();
  attachments.clear();
}

namespace {

const btf* vmlinux_btf() {
  // Loaded once: parsing the kernel's BTF takes a few milliseconds.
  static const std::unique_ptr<btf, btf_deleter> vmlinux(btf__load_vmlinux_btf());
  return vmlinux.get();
}

error no_btf() {
  return error(errc::unsupported, "the kernel has no BTF (/sys/kernel/btf/vmlinux; "
                                  "CONFIG_DEBUG_INFO_BTF)");
}

// The struct or union behind `type_id` (through typedefs and qualifiers), or -1.
int resolved(const btf* types, std::uint32_t type_id) {
  const int id = btf__resolve_type(types, type_id);
  return id < 0 ? -1 : id;
}

// Searches `type_id`'s members, descending into anonymous ones; the bit offset in `out`,
// the member's type in `member_type`.
bool find_member(const btf* types, std::uint32_t type_id, std::string_view member, std::uint32_t base,
                 std::uint32_t& out, std::uint32_t& member_type) {
  const btf_type* t = btf__type_by_id(types, type_id);
  if (!t || !(btf_is_struct(t) || btf_is_union(t))) return false;
  const btf_member* m = btf_members(t);
  for (std::uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    const std::uint32_t offset = base + btf_member_bit_offset(t, i);
    const char* name = btf__name_by_offset(types, m->name_off);
    if (name && name == member) {
      out = offset;
      member_type = m->type;
      return true;
    }
    const int inner = resolved(types, m->type);
    if ((!name || !*name) && inner >= 0 &&
        find_member(types, static_cast<std::uint32_t>(inner), member, offset, out, member_type))
      return true;
  }
  return false;
}

}  // namespace

expected<std::uint32_t> kernel_member_offset(std::string_view type, std::string_view member) {
  const btf* types = vmlinux_btf();
  if (!types) return no_btf();
  const std::string type_name(type);
  const int id = btf__find_by_name_kind(types, type_name.c_str(), BTF_KIND_STRUCT);
  if (id < 0) return error(errc::not_found, fmt::format("the kernel's BTF has no struct {}", type));
  // "f_path.dentry": each part a member of the previous one's struct, offsets added.
  std::uint32_t bits = 0;
  std::uint32_t current = static_cast<std::uint32_t>(id);
  std::string_view rest = member;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    const auto part = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    std::uint32_t offset = 0;
    std::uint32_t member_type = 0;
    if (!find_member(types, current, part, 0, offset, member_type) || offset % 8 != 0)
      return error(errc::not_found, fmt::format("the kernel's struct {} has no member {}", type, member));
    bits += offset;
    const int next = resolved(types, member_type);
    if (!rest.empty() && next < 0)
      return error(errc::not_found, fmt::format("the kernel's struct {}: {} is not a struct", type, member));
    current = static_cast<std::uint32_t>(next);
  }
  return bits / 8;
}

expected<std::uint32_t> kernel_struct_size(std::string_view type) {
  const btf* types = vmlinux_btf();
  if (!types) return no_btf();
  const std::string type_name(type);
  const int id = btf__find_by_name_kind(types, type_name.c_str(), BTF_KIND_STRUCT);
  if (id < 0) return error(errc::not_found, fmt::format("the kernel's BTF has no struct {}", type));
  return btf__type_by_id(types, static_cast<std::uint32_t>(id))->size;
}

expected<std::uint32_t> kernel_btf_id(std::string_view name, std::uint32_t kind) {
  const btf* types = vmlinux_btf();
  if (!types) return no_btf();
  const std::string wanted(name);
  const int id = btf__find_by_name_kind(types, wanted.c_str(), kind);
  if (id < 0) return error(errc::not_found, fmt::format("the kernel's BTF has no {}", name));
  return static_cast<std::uint32_t>(id);
}

expected<void> check_bpf_access() {
  // The cheapest real use: create and drop a one-entry array.
  const unique_fd probe(bpf_map_create(BPF_MAP_TYPE_ARRAY, "ebpfpub_probe", 4, 4, 1, nullptr));
  if (!probe) return bpf_error(errno, "using bpf()");
  return {};
}

}  // namespace ebpfpub::detail
