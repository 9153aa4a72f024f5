/* Known calls for the filter examples of ebpftracer's tests (docs/filters.md). Built
 * static, so no dynamic loader adds opens of its own.
 *
 *   filter_calls read  reads (count 1, 2, 3) from a UDP socket connected to
 *                      127.0.0.1:443, one connected to 127.0.0.1:8443 and /etc/hostname
 *   filter_calls cgroup PROCS
 *                      execve of /nonexistent/before, then moves itself into the cgroup
 *                      whose cgroup.procs is PROCS and execve of /nonexistent/after
 *   filter_calls open PATH
 *                      openat of PATH, nothing else
 *
 *   filter_calls DIR   openat: /etc/hostname (ok), DIR/x (ENOENT), DIR/missing/y with
 *                      O_CREAT (ENOENT); nonblocking connects to 127.0.0.1:443,
 *                      127.0.0.1:8080, 10.1.2.3:80, 192.0.2.1:80; execve of
 *                      /nonexistent/curl and /nonexistent/wget (ENOENT); then, as uid
 *                      4343, openat DIR/as-user (EACCES or ENOENT); exit status 0
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void connect_to(const char* address, unsigned short port) {
  struct sockaddr_in in = {0};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  inet_pton(AF_INET, address, &in.sin_addr);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  syscall(SYS_connect, s, &in, sizeof in);
  close(s);
}

static int udp_to(unsigned short port) {
  struct sockaddr_in in = {0};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (s < 0 || connect(s, (struct sockaddr*)&in, sizeof in) != 0) return -1;
  return s;
}

static int context_calls(int argc, char** argv) {
  char buffer[8];
  char* no_args[] = {NULL};
  if (argc == 2 && strcmp(argv[1], "read") == 0) {
    int fds[3] = {udp_to(443), udp_to(8443), open("/etc/hostname", O_RDONLY)};
    for (int i = 0; i < 3; ++i) {
      if (fds[i] < 0) return 102;
      syscall(SYS_read, fds[i], buffer, i + 1);
    }
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "cgroup") == 0) {
    syscall(SYS_execve, "/nonexistent/before", no_args, no_args);
    int procs = open(argv[2], O_WRONLY);
    if (procs < 0 || write(procs, "0", 1) != 1) return 103;
    close(procs);
    syscall(SYS_execve, "/nonexistent/after", no_args, no_args);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "open") == 0) {
    syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY);
    return 0;
  }
  return 100;
}

int main(int argc, char** argv) {
  if (argc != 2 || strcmp(argv[1], "read") == 0) return context_calls(argc, argv);
  char path[4200];
  long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
  if (fd >= 0) close((int)fd);
  snprintf(path, sizeof path, "%s/x", argv[1]);
  syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  snprintf(path, sizeof path, "%s/missing/y", argv[1]);
  syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_WRONLY, 0600);
  connect_to("127.0.0.1", 443);
  connect_to("127.0.0.1", 8080);
  connect_to("10.1.2.3", 80);
  connect_to("192.0.2.1", 80);
  char* no_args[] = {NULL};
  syscall(SYS_execve, "/nonexistent/curl", no_args, no_args);
  syscall(SYS_execve, "/nonexistent/wget", no_args, no_args);
  if (syscall(SYS_setresuid, 4343, 4343, 4343) != 0) return 101;
  snprintf(path, sizeof path, "%s/as-user", argv[1]);
  syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  return 0;
}
