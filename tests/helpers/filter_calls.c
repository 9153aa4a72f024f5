/* Known calls for the filter examples of ebpftracer's tests (docs/filters.md). Built
 * static, so no dynamic loader adds opens of its own.
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

int main(int argc, char** argv) {
  if (argc != 2) return 100;
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
