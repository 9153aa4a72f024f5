// Symbol tables: names of flags, enums, modes, signals and errnos, as strace prints them.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <ebpfpub/symbols/symbols.hpp>
#include <ebpfpub/syscalls.hpp>

namespace sys = ebpfpub::syscalls;
namespace symbols = ebpfpub::symbols;

namespace {
std::string arg(std::string_view syscall, std::string_view argument, std::uint64_t value,
                std::uint8_t width = 4, bool is_signed = true) {
  return symbols::argument(syscall, argument, value, width, is_signed).value_or("<no set>");
}
}  // namespace

TEST_CASE("open flags: the access mode is a number, then each flag, then leftover bits in hex") {
  CHECK(arg("openat", "flags", 0) == "O_RDONLY");
  CHECK(arg("openat", "flags", 01 | 0100 | 02000000) == "O_WRONLY|O_CREAT|O_CLOEXEC");
  CHECK(arg("openat", "flags", 02 | 01000) == "O_RDWR|O_TRUNC");
  CHECK(arg("openat", "flags", 03) == "0x3");  // no access mode has the value 3
  CHECK(arg("openat", "flags", 0x4000000) == "O_RDONLY|0x4000000");
  // O_SYNC holds O_DSYNC's bit, O_TMPFILE holds O_DIRECTORY's.
  CHECK(arg("openat", "flags", 04010000) == "O_RDONLY|O_SYNC");
  CHECK(arg("openat", "flags", 010000) == "O_RDONLY|O_DSYNC");
  CHECK(arg("openat", "flags", 020200000 | 02) == "O_RDWR|O_TMPFILE");
  CHECK(arg("openat", "flags", 0100000) == "O_RDONLY|O_LARGEFILE");
}

TEST_CASE("a 4-byte flag argument looks only at its 32 bits, sign extension or not") {
  CHECK(arg("openat", "flags", 0xffffffff00000001ULL) == "O_WRONLY");
}

TEST_CASE("bit sets: a zero value takes the name whose value is zero, else 0") {
  CHECK(arg("mmap", "prot", 0, 8, false) == "PROT_NONE");
  CHECK(arg("mmap", "prot", 3, 8, false) == "PROT_READ|PROT_WRITE");
  CHECK(arg("access", "mode", 0) == "F_OK");
  CHECK(arg("access", "mode", 4 | 1) == "R_OK|X_OK");
  CHECK(arg("dup3", "flags", 0) == "0");
}

TEST_CASE("a field names the value under its mask: mmap's type, a socket's type, clone's signal") {
  CHECK(arg("mmap", "flags", 0x22, 8, false) == "MAP_PRIVATE|MAP_ANONYMOUS");
  CHECK(arg("mmap", "flags", 0x01 | 0x10, 8, false) == "MAP_SHARED|MAP_FIXED");
  CHECK(arg("socket", "type", 1 | 02000000 | 04000) == "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK");
  CHECK(arg("socket", "type", 2) == "SOCK_DGRAM");
  // clone(flags=18874385): what glibc's fork passes. strace: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
  CHECK(arg("clone", "clone_flags", 18874385, 8, false) == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
  CHECK(arg("clone", "clone_flags", 0x100 | 0x200, 8, false) == "CLONE_VM|CLONE_FS");
}

TEST_CASE("futex ops carry their private flag in the name and the clock as a flag") {
  CHECK(arg("futex", "op", 0) == "FUTEX_WAIT");
  CHECK(arg("futex", "op", 128) == "FUTEX_WAIT_PRIVATE");
  CHECK(arg("futex", "op", 9 | 128 | 256) == "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
  CHECK(arg("futex", "op", 77) == "0x4d");
}

TEST_CASE("enums print one name, or the number when unknown") {
  CHECK(arg("socket", "family", 2) == "AF_INET");
  CHECK(arg("socket", "family", 10) == "AF_INET6");
  CHECK(arg("socket", "family", 250) == "250");
  CHECK(arg("lseek", "whence", 2, 4, false) == "SEEK_END");
  CHECK(arg("fcntl", "cmd", 1030, 4, false) == "F_DUPFD_CLOEXEC");
  CHECK(arg("kill", "sig", 15) == "SIGTERM");
  CHECK(arg("kill", "sig", 0) == "0");
  CHECK(arg("prlimit64", "resource", 7, 4, false) == "RLIMIT_NOFILE");
  CHECK(arg("madvise", "behavior", 4) == "MADV_DONTNEED");
  CHECK(arg("epoll_ctl", "op", 1) == "EPOLL_CTL_ADD");
  CHECK(arg("ioctl", "cmd", 0x5401, 4, false) == "TCGETS");
  CHECK(arg("ioctl", "cmd", 0x8915, 4, false) == "SIOCGIFADDR");
}

TEST_CASE("a dirfd is AT_FDCWD whether the slot holds -100 sign-extended or not") {
  CHECK(arg("openat", "dfd", static_cast<std::uint64_t>(-100)) == "AT_FDCWD");
  CHECK(arg("openat", "dfd", 0xffffff9c) == "AT_FDCWD");
  CHECK(arg("openat", "dfd", 3) == "3");
  CHECK(arg("openat", "dfd", 0xfffffffe) == "-2");  // a bad fd stays a signed number
}

TEST_CASE("file modes: the type by name, the permissions in octal as strace prints them") {
  CHECK(arg("mkdir", "mode", 0777, 2, false) == "0777");
  CHECK(arg("openat", "mode", 0644, 2, false) == "0644");
  CHECK(arg("umask", "mask", 022) == "022");
  CHECK(arg("umask", "mask", 0) == "000");
  CHECK(arg("mknod", "mode", 0100644, 2, false) == "S_IFREG|0644");
  CHECK(arg("mknod", "mode", 0020600, 2, false) == "S_IFCHR|0600");
  CHECK(arg("chmod", "mode", 04755, 2, false) == "04755");
}

TEST_CASE("errnos and exit codes, including the kernel's restart codes") {
  CHECK(symbols::errno_name(2) == "ENOENT");
  CHECK(symbols::errno_name(11) == "EAGAIN");  // not its alias EWOULDBLOCK
  CHECK(symbols::errno_name(512) == "ERESTARTSYS");
  CHECK(symbols::errno_name(516) == "ERESTART_RESTARTBLOCK");
  CHECK(symbols::errno_name(4000).empty());
  CHECK(symbols::exit_code(-2) == "-2 ENOENT");
  CHECK(symbols::exit_code(-512) == "-512 ERESTARTSYS");
  CHECK(symbols::exit_code(3) == "3");
  CHECK(symbols::exit_code(-4000) == "-4000");
  CHECK(symbols::exit_code(-5000) == "-5000");  // not an errno: a negative result
  CHECK(symbols::signal_name(9) == "SIGKILL");
  CHECK(symbols::signal_name(32) == "SIGRTMIN");
  CHECK(symbols::signal_name(34) == "SIGRT_2");
  CHECK(symbols::signal_name(65).empty());
}

TEST_CASE("arguments that take no set stay plain") {
  CHECK_FALSE(symbols::argument("read", "count", 10));
  CHECK_FALSE(symbols::argument("no_such_syscall", "flags", 1));
}

TEST_CASE("every mapped argument is a real field of a syscall this table knows") {
  std::set<std::pair<std::string, std::string>> fields;
  sys::all::for_each([&]<typename S>() {
    for (const auto& a : S::layout) fields.emplace(std::string(S::name), std::string(a.name));
  });
  std::set<std::string> syscalls;
  for (const auto& [s, _] : fields) syscalls.insert(s);
  for (const auto& a : symbols::arguments()) {
    INFO(a.syscall << "." << a.argument << " -> " << a.set);
    // A syscall this kernel does not trace (renameat, symlinkat on some builds) may be
    // mapped for other architectures' tables; a known syscall's field must exist.
    if (syscalls.count(std::string(a.syscall)) != 0)
      CHECK(fields.count({std::string(a.syscall), std::string(a.argument)}) == 1);
    CHECK(symbols::find_set(a.set) != nullptr);
  }
}

TEST_CASE("sets are sorted and every name is unique within a set's flags") {
  const auto all = symbols::sets();
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  for (const auto& s : all) {
    std::set<std::string_view> names;
    for (const auto& c : s.symbols) {
      INFO(s.name << ": " << c.name);
      CHECK(names.insert(c.name).second);
    }
  }
}

namespace {
std::string when(std::string_view syscall, std::string_view argument, std::uint64_t value,
                 std::initializer_list<ebpfpub::named_value> others) {
  return symbols::argument(syscall, argument, value, 8, false, {others.begin(), others.size()})
      .value_or("<no set>");
}
}  // namespace

TEST_CASE("an argument whose names depend on another argument reads them by that argument's value") {
  // fcntl's arg by cmd (F_SETFD 2, F_SETFL 4, F_SETSIG 10, F_SETLEASE 1024, F_NOTIFY 1026).
  CHECK(when("fcntl", "arg", 1, {{"fd", 3}, {"cmd", 2}}) == "FD_CLOEXEC");
  CHECK(when("fcntl", "arg", 04000 | 02000, {{"cmd", 4}}) == "O_RDONLY|O_APPEND|O_NONBLOCK");
  CHECK(when("fcntl", "arg", 15, {{"cmd", 10}}) == "SIGTERM");
  CHECK(when("fcntl", "arg", 1, {{"cmd", 1024}}) == "F_WRLCK");
  CHECK(when("fcntl", "arg", 0x80000000 | 8 | 4, {{"cmd", 1026}}) == "DN_CREATE|DN_DELETE|DN_MULTISHOT");
  // F_DUPFD's arg is a number: no set, as strace prints it.
  CHECK(when("fcntl", "arg", 10, {{"cmd", 0}}) == "<no set>");
  // Without the condition's argument, or without the call's arguments at all, no set.
  CHECK(when("fcntl", "arg", 1, {}) == "<no set>");
  CHECK_FALSE(symbols::argument("fcntl", "arg", 1));
  CHECK(symbols::of_argument("fcntl", "arg") == nullptr);

  // setsockopt's optname by level; socket's protocol by family.
  CHECK(when("setsockopt", "optname", 2, {{"level", 1}}) == "SO_REUSEADDR");
  CHECK(when("setsockopt", "optname", 1, {{"level", 6}}) == "TCP_NODELAY");
  CHECK(when("setsockopt", "optname", 1, {{"level", 0}}) == "IP_TOS");
  CHECK(when("getsockopt", "optname", 26, {{"level", 41}}) == "IPV6_V6ONLY");
  CHECK(when("setsockopt", "optname", 20, {{"level", 1}}) == "SO_RCVTIMEO_OLD");
  CHECK(when("setsockopt", "optname", 7, {{"level", 999}}) == "<no set>");
  CHECK(when("socket", "protocol", 6, {{"family", 2}}) == "IPPROTO_TCP");
  CHECK(when("socket", "protocol", 0, {{"family", 10}}) == "IPPROTO_IP");
  CHECK(when("socket", "protocol", 0, {{"family", 16}}) == "NETLINK_ROUTE");
  CHECK(when("socket", "protocol", 0, {{"family", 1}}) == "<no set>");  // AF_UNIX: a number

  // The condition compares the low 32 bits: an int cmd whose slot holds garbage above.
  CHECK(when("fcntl", "arg", 1, {{"cmd", 0xdead000000000002}}) == "FD_CLOEXEC");
  // prctl, ptrace, keyctl, syslog.
  CHECK(when("prctl", "arg2", 15, {{"option", 1}}) == "SIGTERM");           // PR_SET_PDEATHSIG
  CHECK(when("prctl", "arg2", 21, {{"option", 23}}) == "CAP_SYS_ADMIN");    // PR_CAPBSET_READ
  CHECK(when("ptrace", "data", 0x1 | 0x100000, {{"request", 0x4200}}) ==   // PTRACE_SETOPTIONS
        "PTRACE_O_TRACESYSGOOD|PTRACE_O_EXITKILL");
  CHECK(when("ptrace", "data", 9, {{"request", 7}}) == "SIGKILL");           // PTRACE_CONT
  CHECK(when("keyctl", "arg2", static_cast<std::uint64_t>(-3), {{"option", 0}}) ==
        "KEY_SPEC_SESSION_KEYRING");                                         // KEYCTL_GET_KEYRING_ID
  CHECK(when("syslog", "len", 4, {{"type", 8}}) == "LOGLEVEL_WARNING");      // CONSOLE_LEVEL
  CHECK(when("syslog", "len", 4, {{"type", 3}}) == "<no set>");              // READ_ALL: a length
}

TEST_CASE("newer calls' sets whose constants this machine's headers predate") {
  CHECK(arg("futex_wait", "flags", 2 | 128, 4, false) == "FUTEX2_SIZE_U32|FUTEX2_PRIVATE");
  CHECK(arg("futex_wait", "mask", 0xffffffff, 4, false) == "FUTEX_BITSET_MATCH_ANY");
  CHECK(arg("pidfd_send_signal", "flags", 2, 4, false) == "PIDFD_SIGNAL_THREAD_GROUP");
  CHECK(arg("lsm_get_self_attr", "attr", 100, 4, false) == "LSM_ATTR_CURRENT");
}
