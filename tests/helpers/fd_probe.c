/* Names its fds to the tracer after an exec, for the fd identity tests.
 * Built static, so no dynamic loader opens files of its own.
 *
 *   fd_probe MARKER FD...   fcntl(FD, F_GETFL, MARKER + i) for the i-th FD (F_GETFL
 *                           ignores its argument: the tracer finds the call by it), then
 *                           exits with the number of FDs that were not open
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) return 100;
  const long marker = strtol(argv[1], NULL, 10);
  int closed = 0;
  for (int i = 2; i < argc; ++i)
    if (syscall(SYS_fcntl, atoi(argv[i]), F_GETFL, marker + i - 2) < 0) ++closed;
  syscall(SYS_exit_group, closed);
  return closed;
}
