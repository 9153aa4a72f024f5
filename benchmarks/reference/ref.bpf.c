// The hand-written reference: what a careful libbpf user would write for the same work as
// ebpfpub's generated programs. In-flight entry in task-local storage, the path (or the
// write's first 256 bytes) captured at enter, the return value at exit, one
// bpf_ringbuf_output of the used bytes, and a wakeup only once a quarter of the ring waits.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct task_struct;

// Syscall tracepoint records: 8 bytes of common fields, the syscall number, the slots.
struct enter_ctx {
  __u64 common;
  __s64 nr;
  __u64 args[6];
};
struct exit_ctx {
  __u64 common;
  __s64 nr;
  __s64 ret;
};

#define RING_BYTES (1 << 21)
#define DATA_BYTES 4096

struct entry {
  __u64 timestamp;
  __u32 process_id;
  __u32 thread_id;
  __u32 user_id;
  __u32 group_id;
  __s64 ret;
  __u64 duration;  // as ebpfpub's records: exit's clock minus enter's
  __u64 args[3];
  __u32 length;
  __u32 pad;
  char data[DATA_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct entry);
} inflight SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, RING_BYTES);
} events SEC(".maps");

// The kernel refuses to attach a program that reads past its tracepoint's record: copy
// only the arguments the syscall has.
static __always_inline struct entry* begin(struct enter_ctx* ctx, int argc) {
  struct entry* e = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
                                         BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!e) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u64 ids = bpf_get_current_uid_gid();
  e->timestamp = bpf_ktime_get_ns();
  e->process_id = id >> 32;
  e->thread_id = (__u32)id;
  e->user_id = (__u32)ids;
  e->group_id = ids >> 32;
  if (argc > 0) {
    e->args[0] = ctx->args[0];
    e->args[1] = ctx->args[1];
    e->args[2] = ctx->args[2];
  }
  e->length = 0;
  return e;
}

static __always_inline int finish(struct exit_ctx* ctx) {
  struct entry* e = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
  if (!e) return 0;
  e->ret = ctx->ret;
  e->duration = bpf_ktime_get_ns() - e->timestamp;
  __u32 size = __builtin_offsetof(struct entry, data) + (e->length & (DATA_BYTES - 1));
  __u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= RING_BYTES / 4 ? BPF_RB_FORCE_WAKEUP
                                                                               : BPF_RB_NO_WAKEUP;
  bpf_ringbuf_output(&events, e, size, flags);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct enter_ctx* ctx) {
  struct entry* e = begin(ctx, 3);
  if (!e) return 0;
  long n = bpf_probe_read_user_str(e->data, DATA_BYTES, (const void*)ctx->args[1]);
  e->length = n > 0 ? n : 0;
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct exit_ctx* ctx) { return finish(ctx); }

SEC("tracepoint/syscalls/sys_enter_getppid")
int enter_getppid(struct enter_ctx* ctx) {
  begin(ctx, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_getppid")
int exit_getppid(struct exit_ctx* ctx) { return finish(ctx); }

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct enter_ctx* ctx) {
  struct entry* e = begin(ctx, 3);
  if (!e) return 0;
  __u64 count = ctx->args[2];
  if (count > 256) count = 256;
  if (bpf_probe_read_user(e->data, count & 511, (const void*)ctx->args[1]) == 0) e->length = count;
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int exit_write(struct exit_ctx* ctx) { return finish(ctx); }

char LICENSE[] SEC("license") = "GPL";
