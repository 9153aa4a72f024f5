// The dispatch mode's syscall numbers, by tracefs name, against the C library's SYS_*
// numbers where both have the call, and the names in which tracefs differs.
#include <catch2/catch.hpp>

#include <sys/syscall.h>

#include "kernel/syscall_numbers.hpp"

using ebpfpub::detail::syscall_number;

TEST_CASE("syscall numbers match the C library's for the calls both know") {
  CHECK(syscall_number("read") == SYS_read);
  CHECK(syscall_number("openat") == SYS_openat);
  CHECK(syscall_number("execve") == SYS_execve);
  CHECK(syscall_number("execveat") == SYS_execveat);
  CHECK(syscall_number("exit_group") == SYS_exit_group);
  CHECK(syscall_number("clone3") == SYS_clone3);
  CHECK(syscall_number("pwrite64") == SYS_pwrite64);
  CHECK(syscall_number("rt_sigaction") == SYS_rt_sigaction);
  CHECK(syscall_number("io_uring_setup") == SYS_io_uring_setup);
}

TEST_CASE("tracefs's own names of a call have its number, and newer calls are known") {
  CHECK(syscall_number("newstat") == SYS_stat);
  CHECK(syscall_number("newfstat") == SYS_fstat);
  CHECK(syscall_number("newlstat") == SYS_lstat);
  CHECK(syscall_number("newuname") == SYS_uname);
  CHECK(syscall_number("sendfile64") == SYS_sendfile);
  CHECK(syscall_number("umount") == SYS_umount2);
  CHECK(syscall_number("cachestat") == 451u);
  CHECK(syscall_number("file_setattr") == 469u);
  CHECK(syscall_number("uprobe") == 336u);
}

TEST_CASE("a name the table lacks has no number") {
  CHECK_FALSE(syscall_number("no_such_call"));
  CHECK_FALSE(syscall_number(""));
  CHECK_FALSE(syscall_number("openat2x"));
}
