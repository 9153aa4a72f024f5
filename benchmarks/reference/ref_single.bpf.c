// The single-copy reference: the least work that records the same openat event. Enter
// keeps only what it must (the arguments, the pid/tid/uid/gid and timestamp, in a small
// task-storage entry); exit reserves a ring slot and reads the path straight into it, so
// the path is copied once, from the caller's memory to the ring. ref.bpf.c stages the
// path in the entry at enter and copies it again at exit, as ebpfpub does: that one says
// whether our IR is as good as clang's for our design, this one how far the design is
// from the limit.
//
// The trade-off it takes: the path is read at exit, when a racing thread may have changed
// it, and a path's slot is reserved whole (4 KiB of ring per event, whatever the path's
// length); a call without a path reserves only the header.
// The wakeup rule is ref.bpf.c's and ebpfpub's: once a quarter of the ring waits.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct task_struct;

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

// What enter keeps: no capture storage.
struct pending {
  __u64 timestamp;
  __u32 process_id;
  __u32 thread_id;
  __u32 user_id;
  __u32 group_id;
  __u64 args[3];
  __u32 in_flight;
  __u32 pad;
};

// What leaves: the same fields as ref.bpf.c's entry, and (openat) the path.
struct event_head {
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
};
struct event {
  struct event_head head;
  char data[DATA_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct pending);
} inflight SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, RING_BYTES);
} events SEC(".maps");

static __always_inline int begin(struct enter_ctx* ctx, int argc) {
  struct pending* p = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
                                           BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!p) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u64 ids = bpf_get_current_uid_gid();
  p->timestamp = bpf_ktime_get_ns();
  p->process_id = id >> 32;
  p->thread_id = (__u32)id;
  p->user_id = (__u32)ids;
  p->group_id = ids >> 32;
  // The kernel refuses a program that reads past its tracepoint's record.
  if (argc > 0) {
    p->args[0] = ctx->args[0];
    p->args[1] = ctx->args[1];
    p->args[2] = ctx->args[2];
  }
  p->in_flight = 1;
  return 0;
}

// Completes the pending call into a reserved slot; with `read_path`, the string argument 1
// points to (openat's filename) is read into the slot.
static __always_inline void fill(struct event_head* e, struct pending* p, struct exit_ctx* ctx) {
  e->timestamp = p->timestamp;
  e->process_id = p->process_id;
  e->thread_id = p->thread_id;
  e->user_id = p->user_id;
  e->group_id = p->group_id;
  e->ret = ctx->ret;
  e->duration = bpf_ktime_get_ns() - p->timestamp;
  e->args[0] = p->args[0];
  e->args[1] = p->args[1];
  e->args[2] = p->args[2];
  e->length = 0;
}

static __always_inline __u64 wakeup(void) {
  return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= RING_BYTES / 4 ? BPF_RB_FORCE_WAKEUP
                                                                         : BPF_RB_NO_WAKEUP;
}

// Completes the pending call into a reserved slot; with `read_path`, the string argument 1
// points to (openat's filename) is read into the slot, else only the header is reserved
// (getppid: the fixed cost, without paying for a 4 KiB slot it never fills).
static __always_inline int finish(struct exit_ctx* ctx, int read_path) {
  struct pending* p = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
  if (!p || !p->in_flight) return 0;
  p->in_flight = 0;
  if (!read_path) {
    struct event_head* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) return 0;
    fill(e, p, ctx);
    bpf_ringbuf_submit(e, wakeup());
    return 0;
  }
  struct event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  fill(&e->head, p, ctx);
  long n = bpf_probe_read_user_str(e->data, DATA_BYTES, (const void*)p->args[1]);
  e->head.length = n > 0 ? n : 0;
  bpf_ringbuf_submit(e, wakeup());
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct enter_ctx* ctx) { return begin(ctx, 3); }

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct exit_ctx* ctx) { return finish(ctx, 1); }

// execve: the path and argv must be read at enter (a successful call replaces the memory
// they are in), so the least work keeps them in the entry and copies them once more into
// the ring at exit. Limits are ebpfpub's defaults: a 4096-byte path, 64 arguments and
// 4096 bytes of them. The pointer array is read in one go (ebpfpub reads it a pointer at a
// time, which is as many reads as there are arguments plus one). Only the benchmark's
// workload uses it (its array is followed by enough mapped memory).
#define ARGV_ITEMS 64
#define ARGV_BYTES 4096
struct exec_pending {
  struct pending call;
  __u32 path_length;
  __u32 argv_length;
  __u32 argc;
  __u32 pad;
  const char* pointers[ARGV_ITEMS];
  char path[DATA_BYTES];
  char argv[ARGV_BYTES + DATA_BYTES];  // one item may start at the last byte of the budget
};
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct exec_pending);
} exec_inflight SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct enter_ctx* ctx) {
  struct exec_pending* p = bpf_task_storage_get(&exec_inflight, bpf_get_current_task_btf(), 0,
                                                BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!p) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u64 ids = bpf_get_current_uid_gid();
  p->call.timestamp = bpf_ktime_get_ns();
  p->call.process_id = id >> 32;
  p->call.thread_id = (__u32)id;
  p->call.user_id = (__u32)ids;
  p->call.group_id = ids >> 32;
  p->call.args[0] = ctx->args[0];
  p->call.args[1] = ctx->args[1];
  p->call.args[2] = ctx->args[2];
  long n = bpf_probe_read_user_str(p->path, DATA_BYTES, (const void*)ctx->args[0]);
  p->path_length = n > 0 ? n : 0;
  const char** pointers = p->pointers;
  if (bpf_probe_read_user(p->pointers, sizeof(p->pointers), (const void*)ctx->args[1]) != 0) {
    // An array that ends near the end of its mapping: a real tracer would read a pointer at
    // a time then; the benchmark's array lives in a large heap, so this one records none.
    p->argv_length = 0;
    p->argc = 0;
  } else {
    __u32 used = 0, i = 0;
    for (; i < ARGV_ITEMS; ++i) {
      if (!pointers[i] || used >= ARGV_BYTES) break;
      long m = bpf_probe_read_user_str(&p->argv[used & (ARGV_BYTES - 1)], DATA_BYTES, pointers[i]);
      if (m <= 0) break;
      used += m;
    }
    p->argv_length = used > ARGV_BYTES ? ARGV_BYTES : used;
    p->argc = i;
  }
  p->call.in_flight = 1;
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct exit_ctx* ctx) {
  struct exec_pending* p = bpf_task_storage_get(&exec_inflight, bpf_get_current_task_btf(), 0, 0);
  if (!p || !p->call.in_flight) return 0;
  p->call.in_flight = 0;
  // The used bytes of the entry, in one output: header, lengths, path, then argv packed
  // right after the path (two outputs would be two records).
  __u32 path = p->path_length & (DATA_BYTES - 1);
  __u32 argv = p->argv_length & (ARGV_BYTES - 1);
  __u32 size = sizeof(struct event_head) + 16 + path + argv;
  struct event_head* e = bpf_ringbuf_reserve(&events, sizeof(struct event_head) + 16 + DATA_BYTES + ARGV_BYTES, 0);
  if (!e) return 0;
  fill(e, &p->call, ctx);
  char* data = (char*)(e + 1);
  __builtin_memcpy(data, &p->path_length, 16);
  bpf_probe_read_kernel(data + 16, path, p->path);
  bpf_probe_read_kernel(data + 16 + path, argv, p->argv);
  e->length = size;
  bpf_ringbuf_submit(e, wakeup());
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int enter_getppid(struct enter_ctx* ctx) { return begin(ctx, 0); }

SEC("tracepoint/syscalls/sys_exit_getppid")
int exit_getppid(struct exit_ctx* ctx) { return finish(ctx, 0); }

char LICENSE[] SEC("license") = "GPL";
