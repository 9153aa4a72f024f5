// Every operator on every operand kind compiles to programs the verifier accepts: one
// session per filter, started (generated, loaded, attached) and stopped.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/filter/expression.hpp>

namespace sys = ebpfpub::syscalls;

namespace {

// Starts a session tracing the syscalls the filters need, with `filter`; the error, or "".
std::string start_with(const std::string& filter, ebpfpub::tracer_options options = {}) {
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  for (const auto* name : {"openat", "connect", "accept4", "getpriority", "execve", "exit_group"})
    REQUIRE(t->trace(name, [](const ebpfpub::dynamic_event&) {}));
  if (auto added = t->add_filter(filter); !added) return added.error().what();
  auto started = t->start();
  if (!started) return started.error().what();
  t->stop();
  return {};
}

std::string long_set(std::size_t n) {
  std::string set = "{";
  for (std::size_t i = 0; i < n; ++i)
    set += fmt::format("{}\"/usr/lib/some/library/path-{:04}.so\"", i ? ", " : "", i);
  return set + "}";
}

}  // namespace

TEST_CASE("every operator on every operand kind passes the verifier") {
  const auto filter = GENERATE(
      as<std::string>{},
      // header fields, at enter (and exit_code at exit), on every traced syscall
      "pid == 1", "tid != 1", "uid < 1000", "gid <= 5", "pid > 1", "pid >= 2", "uid & 1",
      "uid in {0, 1, 2}", "exit_code == -ENOENT", "exit_code < 0 or uid == 0", "comm == \"bash\"",
      "comm != \"bash\"", "comm startswith \"ba\"", "comm endswith \"sh\"", "comm contains \"as\"",
      "comm in {\"a\", \"b\"}",
      // arguments: signed, unsigned, flags, fds, pointers
      "getpriority.who < -3", "getpriority.which >= 0", "openat.flags & O_CREAT|O_EXCL",
      "openat.dfd == AT_FDCWD", "openat.mode in {420, 384}", "openat.filename != \"\"",
      // captured strings, at enter
      "openat.filename == \"/etc/passwd\"", "openat.filename startswith \"/etc/\"",
      "openat.filename endswith \".conf\"", "openat.filename contains \"/lib/\"",
      "openat.filename in {\"/a\", \"/b/c\"}", "execve.filename endswith \"/curl\"",
      fmt::format("openat.filename contains \"{}\"",
                  std::string(ebpfpub::filter::max_string_bytes, 'x')),
      fmt::format("openat.filename endswith \"{}\"",
                  std::string(ebpfpub::filter::max_string_bytes, 'x')),
      // socket addresses captured at enter (connect) and at exit (accept4)
      "connect.uservaddr.family == AF_INET6", "connect.uservaddr.port == 443",
      "connect.uservaddr.port in {80, 443}", "connect.uservaddr.address in 10.0.0.0/8",
      "connect.uservaddr.address == ::1", "connect.uservaddr.address in {10.0.0.0/8, fd00::/8}",
      "connect.uservaddr.address != 192.168.0.1", "accept4.upeer_sockaddr.port >= 1024",
      "accept4.upeer_sockaddr.address in fe80::/10 and exit_code >= 0",
      // the shapes: and, or, not, an enter part and an exit part
      "openat.filename startswith \"/etc/\" or exit_code == -EACCES",
      "not (openat.flags & O_CREAT) and openat.filename contains \"tmp\" and exit_code != 0",
      // sets of exactly 16 values: the largest unrolled
      fmt::format("openat.filename in {}", long_set(16)),
      "getpriority.who in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, -16}",
      "comm in {\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", \"a7\", \"a8\", \"a9\", \"b1\", "
      "\"b2\", "
      "\"b3\", \"b4\", \"b5\", \"b6\", \"bash\"}",
      "connect.uservaddr.address in {10.0.0.0/8, 10.1.0.0/16, 172.16.0.0/12, 192.168.0.0/16, "
      "127.0.0.2/32, "
      "127.1.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 198.18.0.0/15, 203.0.113.0/24, "
      "198.51.100.0/24, "
      "192.0.2.0/24, fd00::/8, fe80::/10, 2001:db8::/32, ::1/128}",
      // sets of more than 16 values: maps of strings, numbers and address blocks
      fmt::format("openat.filename in {}", long_set(1000)),
      "uid in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}",
      "connect.uservaddr.port in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}",
      "connect.uservaddr.family in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}",
      "accept4.upeer_sockaddr.address in {10.0.0.0/8, 10.1.0.0/16, 172.16.0.0/12, 192.168.0.0/16, "
      "127.0.0.2/32, "
      "127.1.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 198.18.0.0/15, 203.0.113.0/24, "
      "198.51.100.0/24, "
      "192.0.2.0/24, 224.0.0.0/4, 240.0.0.0/4, fd00::/8, fe80::/10, 2001:db8::/32, ::1/128}",
      fmt::format("openat.filename in {} and not openat.filename in {}", long_set(20),
                  long_set(30)));
  INFO(filter);
  CHECK(start_with(filter) == "");
}

TEST_CASE("contains and endswith pass the verifier on the longest strings captured") {
  // The substring loop runs over the whole capture: at the largest string size the
  // library allows it must still be accepted.
  ebpfpub::tracer_options options;
  options.resources.buffer_size = GENERATE(4096u, 32768u);
  INFO(options.resources.buffer_size);
  CHECK(
      start_with(fmt::format("openat.filename contains \"{}\" and openat.filename endswith \"{}\"",
                             std::string(ebpfpub::filter::max_string_bytes, 'x'),
                             std::string(ebpfpub::filter::max_string_bytes, 'y')),
                 options) == "");
}

TEST_CASE("filters on the context fields and fd identities pass the verifier") {
  const auto filter = GENERATE(
      as<std::string>{},
      // the process context block, read at enter after the number tests
      "ppid == 1", "cgroup == 1", "cgroup_id in {1, 2}", "mnt_ns != 1", "pid_ns == 1", "net_ns == 1",
      "user_ns == 1", "exe.inode == 1", "exe.device == 2051", "exe.name == \"bash\"",
      "exe.name startswith \"ba\"", "exe.name endswith \"sh\"", "exe.name contains \"as\"",
      "exe.name in {\"a\", \"b\"}", "getpriority.who == 1 and ppid == 1 and comm == \"x\"",
      // fd identities, captured at enter
      "openat.dfd.kind == dir", "openat.dfd.kind in {regular, socket, anon_inode}",
      "connect.fd.family == AF_INET", "connect.fd.type == SOCK_STREAM", "connect.fd.protocol == 6",
      "connect.fd.port == 80", "connect.fd.remote_port in {80, 443}", "connect.fd.inode == 1",
      "connect.fd.device == 1", "connect.fd.flags & O_NONBLOCK", "connect.fd.mode & 256",
      "connect.fd.address == 127.0.0.1", "connect.fd.remote_address in {10.0.0.0/8, fd00::/8}",
      "connect.fd.remote_address != ::1", "openat.dfd.name == \"etc\"",
      fmt::format("openat.dfd.name endswith \"{}\"", std::string(63, 'x')),
      "openat.dfd.name contains \"lib\" and openat.dfd.name startswith \"u\"",
      // an fd's path, walked at enter when the filter is reached (twice in one program too)
      "openat.dfd.path == \"/etc\"", "openat.dfd.path != \"/\"", "openat.dfd.path startswith \"/usr/\"",
      fmt::format("openat.dfd.path endswith \"{}\"", std::string(ebpfpub::filter::max_string_bytes, 'x')),
      fmt::format("openat.dfd.path contains \"{}\"", std::string(ebpfpub::filter::max_string_bytes, 'x')),
      "openat.dfd.path in {\"/a\", \"/b\"} and openat.dfd.kind == dir",
      "openat.dfd.path startswith \"/a\" or openat.dfd.path endswith \"/b\"", "connect.fd.path contains \"s\"",
      fmt::format("openat.dfd.path in {}", long_set(20)),
      fmt::format("openat.dfd.path startswith {}", long_set(20)),
      fmt::format("openat.dfd.path endswith {}", long_set(1000)),
      // sets of more than 16: maps
      "exe.name in {\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", \"a7\", \"a8\", \"a9\", "
      "\"b1\", \"b2\", \"b3\", \"b4\", \"b5\", \"b6\", \"b7\", \"bash\"}",
      "ppid in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}",
      "connect.fd.inode in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}",
      "connect.fd.remote_address in {10.0.0.0/8, 10.1.0.0/16, 172.16.0.0/12, 192.168.0.0/16, "
      "127.0.0.2/32, 127.1.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 198.18.0.0/15, 203.0.113.0/24, "
      "198.51.100.0/24, 192.0.2.0/24, 224.0.0.0/4, 240.0.0.0/4, fd00::/8, fe80::/10, 2001:db8::/32}",
      fmt::format("openat.dfd.name in {}", long_set(20)),
      // sets of prefixes and suffixes: unrolled, then LPM tries (suffixes reversed in the
      // program), up to the longest value
      "openat.filename startswith {\"/etc/\", \"/usr/\"}", "openat.filename endswith {\".so\", \".conf\"}",
      fmt::format("openat.filename startswith {}", long_set(20)),
      fmt::format("openat.filename endswith {}", long_set(1000)),
      fmt::format("openat.filename endswith {{\"{}\", {}", std::string(ebpfpub::filter::max_string_bytes, 'x'),
                  long_set(20).substr(1)),
      fmt::format("openat.filename startswith {{\"{}\", {}", std::string(ebpfpub::filter::max_string_bytes, 'x'),
                  long_set(20).substr(1)),
      fmt::format("openat.dfd.name endswith {} or exe.name startswith {{\"a0\", \"a1\", \"a2\", \"a3\", "
                  "\"a4\", \"a5\", \"a6\", \"a7\", \"a8\", \"a9\", \"b0\", \"b1\", \"b2\", \"b3\", \"b4\", "
                  "\"b5\", \"bash\"}}", long_set(17)));
  INFO(filter);
  ebpfpub::tracer_options options;
  options.context = ebpfpub::context_fields::all();
  options.capture.fd_identity = true;
  CHECK(start_with(filter, options) == "");
}
