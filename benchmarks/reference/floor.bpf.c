// The kernel's own part of a traced call: programs that do nothing, on the attach points
// ebpfpub uses. enter_openat/exit_openat are on openat's syscall tracepoints (attach_mode
// ::tracepoints); enter_raw/exit_raw are tp_btf programs on raw_syscalls:sys_enter and
// sys_exit (attach_mode::dispatch, without the tail call into a syscall's program). What a
// call costs with these attached is what no program can save: benchmarks/filters gives it
// as the floor under a call a filter rejects.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

// ref_loader reads a ring named events; nothing is written to it.
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(void* ctx) { return 0; }

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(void* ctx) { return 0; }

SEC("tp_btf/sys_enter")
int enter_raw(void* ctx) { return 0; }

SEC("tp_btf/sys_exit")
int exit_raw(void* ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
