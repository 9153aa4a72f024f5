#pragma once
// Kernel objects, created with libbpf's low-level API: maps, programs, tracepoint links.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <linux/bpf.h>

#include <ebpfpub/error.hpp>

#include "kernel/unique_fd.hpp"

namespace ebpfpub::detail {

struct map {
  unique_fd fd;
  std::string name;
  std::uint64_t bytes = 0;  ///< memory the kernel allocated for it up front
};

/// Task-local storage with `value_size`-byte values (key and value described in BTF,
/// which the kernel requires for this map type).
expected<map> create_task_storage_map(std::string_view name, std::uint32_t value_size);
/// LRU hash map of `entries` values of `value_size` bytes keyed by a u32 (thread id).
expected<map> create_lru_hash_map(std::string_view name, std::uint32_t value_size,
                                  std::uint32_t entries);
/// Per-CPU array with one zeroed value of `value_size` bytes.
expected<map> create_seed_map(std::string_view name, std::uint32_t value_size);
/// A hash set of process ids (u32 -> u8), allocated as entries are added.
expected<map> create_process_map(std::string_view name, std::uint32_t entries);
/// LRU hash of `entries` values of `value_size` bytes keyed by a u64 (the rate limit's
/// buckets: the least recently used process's bucket goes when it is full).
expected<map> create_u64_lru_hash_map(std::string_view name, std::uint32_t value_size,
                                      std::uint32_t entries);
/// A filter's set (u8 values, allocated as entries are added): a hash map of `key_size`-byte
/// keys, or an LPM trie when `lpm_trie` (keys: a u32 prefix length, then the data).
expected<map> create_set_map(std::string_view name, std::uint32_t key_size, std::uint32_t entries, bool lpm_trie);
/// Per-CPU array of `entries` u64 counters.
expected<map> create_counters_map(std::string_view name, std::uint32_t entries);
/// BPF ring buffer of `bytes` (a power of two, at least a page).
expected<map> create_ring_buffer(std::string_view name, std::uint64_t bytes);
/// Perf event array with one slot per possible CPU.
expected<map> create_perf_event_array(std::string_view name);

/// An array of `entries` values of `value_size` bytes (zeroed), keyed by a u32.
expected<map> create_array_map(std::string_view name, std::uint32_t value_size, std::uint32_t entries);
/// array[key] = *value.
expected<void> set_array_value(int map_fd, std::uint32_t key, const void* value, std::string_view map);
/// Program arrays for bpf_tail_call: `entries` slots, each a program's fd (or empty).
expected<map> create_program_array(std::string_view name, std::uint32_t entries);
/// Puts program `program_fd` in slot `slot` of program array `map_fd`.
expected<void> set_program_slot(int map_fd, std::uint32_t slot, int program_fd, std::string_view program);

/// How a program is attached, which fixes its type and what its context is.
enum class program_kind : std::uint8_t {
  tracepoint,      ///< BPF_PROG_TYPE_TRACEPOINT: the tracepoint's record
  raw_tracepoint,  ///< BPF_PROG_TYPE_RAW_TRACEPOINT: the tracepoint's arguments, u64 each
  /// BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP ("tp_btf"): the same arguments, but typed by
  /// the tracepoint's BTF (its `btf_trace_<name>` typedef, the program's attach_btf_id),
  /// so that a pointer among them is read with plain loads.
  btf_tracepoint,
};

/// Loads a program. A verifier rejection comes back with the verifier's log.
/// `attach_btf_id`: for btf_tracepoint, the id in the kernel's BTF of the tracepoint's
/// `btf_trace_<name>` typedef (the program is typed for it, and attaches to it alone).
expected<unique_fd> load_program(program_kind kind, std::string_view name,
                                 const std::vector<bpf_insn>& instructions, std::uint32_t attach_btf_id = 0);
inline expected<unique_fd> load_tracepoint_program(std::string_view name,
                                                   const std::vector<bpf_insn>& instructions) {
  return load_program(program_kind::tracepoint, name, instructions);
}

/// A program attached to a tracepoint: the perf event and the link, owned together.
struct attachment {
  unique_fd perf_event;
  unique_fd link;
};
expected<attachment> attach_tracepoint(int program_fd, std::uint32_t tracepoint_id,
                                       std::string_view tracepoint);

/// A raw tracepoint link (bpf_raw_tracepoint_open, e.g. "sys_enter"); no perf event.
expected<attachment> attach_raw_tracepoint(int program_fd, std::string_view tracepoint);
/// A btf_tracepoint's link: the program named its tracepoint when it was loaded, so the
/// link names none (`tracepoint` is for the message only).
expected<attachment> attach_btf_tracepoint(int program_fd, std::string_view tracepoint);

/// Detaches and closes every attachment. The kernel waits for an RCU grace period
/// (~35 ms here) per link and per perf event, under two different mutexes; closing from
/// several threads overlaps the two kinds and halves the time (718 programs: 53 s -> 27 s).
void detach_all(std::vector<attachment>& attachments);

/// The memory the kernel charges for a map (`memlock` in /proc/self/fdinfo), or 0.
std::uint64_t map_memory(int map_fd);

/// Byte offset of `member` in struct `type` of the running kernel (from its BTF, through
/// anonymous structs and unions), or an error naming what is missing. A dotted `member`
/// ("f_path.dentry") names a member of a member: their offsets add up.
expected<std::uint32_t> kernel_member_offset(std::string_view type, std::string_view member);
/// sizeof(struct `type`) in the running kernel.
expected<std::uint32_t> kernel_struct_size(std::string_view type);

/// The id in the running kernel's BTF of the type or function `name` of BTF kind `kind`
/// (BTF_KIND_STRUCT, BTF_KIND_FUNC), or an error naming it.
expected<std::uint32_t> kernel_btf_id(std::string_view name, std::uint32_t kind);

/// Number of possible CPUs (per-CPU maps have this many copies).
std::uint32_t possible_cpus();

/// Whether this process can use bpf() at all; the error says what is missing.
expected<void> check_bpf_access();

}  // namespace ebpfpub::detail
