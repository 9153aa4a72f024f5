/* A program with a known, fixed sequence of system calls, for ebpftracer's tests.
 * Built static, so no dynamic loader adds calls of its own.
 *
 *   known_calls DIR NAME     mkdir DIR/NAME, create a file in it, fork a child that
 *                            creates another, clean up, exit with status 4
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) return 100;
  /* Whatever the test runner left open goes: the file this creates is fd 3. */
  syscall(SYS_close_range, 3, ~0U, 0);
  char dir[4096], file[4200], child_file[4200];
  snprintf(dir, sizeof dir, "%s/%s", argv[1], argv[2]);
  snprintf(file, sizeof file, "%s/file", dir);
  snprintf(child_file, sizeof child_file, "%s/child", dir);
  if (syscall(SYS_mkdir, dir, 0700) != 0) return 101;
  long fd = syscall(SYS_openat, AT_FDCWD, file, O_CREAT | O_WRONLY, 0600);
  if (fd < 0) return 102;
  syscall(SYS_close, fd);
  pid_t pid = (pid_t)syscall(SYS_fork);
  if (pid == 0) {
    long cfd = syscall(SYS_openat, AT_FDCWD, child_file, O_CREAT | O_WRONLY, 0600);
    syscall(SYS_exit_group, cfd >= 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  syscall(SYS_unlinkat, AT_FDCWD, file, 0);
  syscall(SYS_unlinkat, AT_FDCWD, child_file, 0);
  syscall(SYS_rmdir, dir);
  syscall(SYS_openat, AT_FDCWD, file, O_RDONLY, 0); /* fails: ENOENT */
  syscall(SYS_exit_group, 4);
  return 0;
}
