// Loads the reference programs for one syscall, counts the events they deliver, and on
// SIGINT prints "events N lost M" (lost: ring full, from bpf_ringbuf_output failures is
// not counted by the reference; it reports what it received).
//
//   ref_loader ref.bpf.o openat|getppid|write|execve
//   ref_loader floor.bpf.o openat|raw       (programs that do nothing: floor.bpf.c)
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;
static unsigned long long received;

static void on_signal(int signal) {
  (void)signal;
  stop = 1;
}

static int on_event(void* ctx, void* data, size_t size) {
  (void)ctx;
  (void)data;
  (void)size;
  ++received;
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ref_loader OBJECT openat|getppid|write|execve|raw\n");
    return 2;
  }
  struct bpf_object* object = bpf_object__open_file(argv[1], NULL);
  if (!object) {
    fprintf(stderr, "ref_loader: cannot open %s\n", argv[1]);
    return 1;
  }
  char enter[64], exit_name[64];
  snprintf(enter, sizeof enter, "enter_%s", argv[2]);
  snprintf(exit_name, sizeof exit_name, "exit_%s", argv[2]);
  struct bpf_program* program;
  bpf_object__for_each_program(program, object) {
    const char* name = bpf_program__name(program);
    bpf_program__set_autoload(program, strcmp(name, enter) == 0 || strcmp(name, exit_name) == 0);
  }
  if (bpf_object__load(object) != 0) {
    fprintf(stderr, "ref_loader: cannot load the programs\n");
    return 1;
  }
  struct bpf_link* links[2] = {0, 0};
  int n = 0;
  bpf_object__for_each_program(program, object) {
    if (!bpf_program__autoload(program)) continue;
    links[n] = bpf_program__attach(program);
    if (!links[n]) {
      fprintf(stderr, "ref_loader: cannot attach %s\n", bpf_program__name(program));
      return 1;
    }
    ++n;
  }
  struct ring_buffer* ring = ring_buffer__new(bpf_object__find_map_fd_by_name(object, "events"),
                                              on_event, NULL, NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("ready\n");
  fflush(stdout);
  while (!stop) {
    ring_buffer__poll(ring, 100);
    ring_buffer__consume(ring);
  }
  ring_buffer__consume(ring);
  printf("events %llu lost 0\n", received);
  ring_buffer__free(ring);
  for (int i = 0; i < n; ++i) bpf_link__destroy(links[i]);
  bpf_object__close(object);
  return 0;
}
