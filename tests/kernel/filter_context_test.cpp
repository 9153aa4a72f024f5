// Filters on the context fields: the process context block (tracer_options::context) and
// an fd argument's identity (plan_options::fd_identity). A child makes known calls; exactly
// the matching ones arrive and the rest are counted as filtered. Ground truth from the
// test process itself: stat(2), /proc/self/ns, getsockname(2), the cgroup it makes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/cgroup.hpp"
#include "support/filtered_run.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::context_field;
using ebpfpub::test::random_name;
using ebpfpub::test::run_filtered;

namespace {

const std::vector<int> whos = {-5, 0, 1, 7, 100};

std::vector<int> whos_seen(const std::vector<ebpfpub::event<sys::getpriority>>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.args.who);
  return out;
}

int calls_of_whos() {
  for (int who : whos) ::syscall(SYS_getpriority, 99, who);
  return 0;
}

std::uint64_t namespace_inode(const char* name) {
  struct stat st {};
  REQUIRE(::stat(fmt::format("/proc/self/ns/{}", name).c_str(), &st) == 0);
  return st.st_ino;
}

// The fds the child reads from, in this order: a regular file, a directory, a pipe, a
// UDP socket on 127.0.0.1 connected to 127.0.0.2, a UDP socket on ::1, and -1.
struct fd_set_up {
  ebpfpub::test::scratch_dir dir;
  std::string file_name = "f2-" + random_name() + ".log";
  std::vector<int> fds;
  struct stat file {};
  std::uint16_t port4 = 0, port6 = 0;
  static constexpr std::uint16_t remote_port = 47123;

  fd_set_up() {
    const auto file_path = dir.path / file_name;
    std::ofstream(file_path) << "x";
    std::filesystem::create_directory(dir.path / "sub");
    fds.push_back(::open(file_path.c_str(), O_RDONLY));
    fds.push_back(::open((dir.path / "sub").c_str(), O_RDONLY | O_DIRECTORY));
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
    fds.push_back(p[0]);
    ::close(p[1]);
    const int s4 = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a4{};
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s4, reinterpret_cast<sockaddr*>(&a4), sizeof a4) == 0);
    socklen_t len = sizeof a4;
    REQUIRE(::getsockname(s4, reinterpret_cast<sockaddr*>(&a4), &len) == 0);
    port4 = ntohs(a4.sin_port);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(remote_port);
    to.sin_addr.s_addr = htonl(0x7f000002);
    REQUIRE(::connect(s4, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    fds.push_back(s4);
    const int s6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    REQUIRE(::bind(s6, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0);
    len = sizeof a6;
    REQUIRE(::getsockname(s6, reinterpret_cast<sockaddr*>(&a6), &len) == 0);
    port6 = ntohs(a6.sin6_port);
    fds.push_back(s6);
    fds.push_back(-1);
    REQUIRE(fds[0] >= 0);
    REQUIRE(fds[1] >= 0);
    REQUIRE(::fstat(fds[0], &file) == 0);
  }
  ~fd_set_up() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("filters on an fd's identity pass exactly the calls on the matching files") {
  static fd_set_up s;
  const auto fds = s.fds;
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {"read.fd.kind == regular", {0}},
      {"read.fd.kind == dir", {1}},
      {"read.fd.kind == pipe", {2}},
      {"read.fd.kind in {socket, regular}", {0, 3, 4}},
      {"read.fd.kind != socket", {0, 1, 2}},  // -1 has no identity: it passes no test
      {"read.fd.family == AF_INET6", {4}},
      {"read.fd.type == SOCK_DGRAM", {3, 4}},
      {fmt::format("read.fd.port == {}", s.port4), {3}},
      {fmt::format("read.fd.port in {{{}, {}}}", s.port4, s.port6), {3, 4}},
      {fmt::format("read.fd.remote_port == {}", fd_set_up::remote_port), {3}},
      {"read.fd.address == 127.0.0.1", {3}},
      {"read.fd.address in ::1/128", {4}},
      {"read.fd.remote_address in 127.0.0.2/32", {3}},
      {"read.fd.remote_address in 10.0.0.0/8", {}},
      {fmt::format("read.fd.inode == {}", s.file.st_ino), {0}},
      {fmt::format("read.fd.device == {} and read.fd.kind != socket", s.file.st_dev), {0, 1}},
      {fmt::format("read.fd.name == \"{}\"", s.file_name), {0}},
      {"read.fd.name startswith \"f2-\"", {0}},
      {"read.fd.name endswith \".log\"", {0}},
      {"read.fd.name contains \"-\" or read.fd.name == \"sub\"", {0, 1}},
      {"read.fd.name in {\"sub\", \"nothing\"}", {1}},
  }));
  INFO(filter);
  ebpfpub::tracer_options options;
  options.capture.fd_identity = true;
  const auto run = run_filtered<sys::read>({filter}, fds.size(), [fds] {
    char c;
    for (int fd : fds) ::syscall(SYS_read, fd, &c, 1);
    return 0;
  }, options);
  std::vector<std::size_t> seen;
  for (const auto& e : run.events)
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i] == e.args.fd.value) seen.push_back(i);
  CHECK(seen == expected);
  CHECK(run.stats.events == expected.size());
  CHECK(run.stats.filtered == fds.size() - expected.size());
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("a set of more than 16 fd names is a map lookup with the same answers") {
  static fd_set_up s;
  const auto fds = s.fds;
  std::string set = fmt::format("{{\"{}\", \"sub\"", s.file_name);
  for (int i = 0; i < 18; ++i) set += fmt::format(", \"other-{}\"", i);
  ebpfpub::tracer_options options;
  options.capture.fd_identity = true;
  const auto run = run_filtered<sys::read>({"read.fd.name in " + set + "}"}, fds.size(), [fds] {
    char c;
    for (int fd : fds) ::syscall(SYS_read, fd, &c, 1);
    return 0;
  }, options);
  REQUIRE(run.events.size() == 2);
  CHECK(run.events[0].args.fd.value == fds[0]);
  CHECK(run.events[1].args.fd.value == fds[1]);
  CHECK(run.stats.filtered == fds.size() - 2);
}

TEST_CASE("filters on the process context pass exactly the calls of the matching process") {
  struct stat exe {};
  REQUIRE(::stat("/proc/self/exe", &exe) == 0);
  const auto exe_name = std::filesystem::read_symlink("/proc/self/exe").filename().string();
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<int>>({
      {fmt::format("ppid == {} and getpriority.who > 0", ::getpid()), {1, 7, 100}},
      {fmt::format("parent_process_id != {}", ::getpid()), {}},
      {fmt::format("mnt_ns == {} and pid_ns == {} and getpriority.who == 7", namespace_inode("mnt"),
                   namespace_inode("pid")),
       {7}},
      {fmt::format("net_ns == {} and user_ns == {}", namespace_inode("net"), namespace_inode("user")),
       whos},
      {fmt::format("net_ns != {}", namespace_inode("net")), {}},
      {fmt::format("exe.inode == {} and exe.device == {} and getpriority.who < 1", exe.st_ino,
                   exe.st_dev),
       {-5, 0}},
      {fmt::format("exe.name == \"{}\"", exe_name), whos},
      {fmt::format("exe.name endswith \"{}\" and getpriority.who == 1", exe_name.substr(1)), {1}},
      {"exe.name startswith \"no-such-\"", {}},
  }));
  INFO(filter);
  ebpfpub::tracer_options options;
  options.context = context_field::parent | context_field::executable | context_field::namespaces;
  const auto run = run_filtered<sys::getpriority>({filter}, whos.size(), calls_of_whos, options);
  CHECK(whos_seen(run.events) == expected);
  CHECK(run.stats.events == expected.size());
  CHECK(run.stats.filtered == whos.size() - expected.size());
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("a cgroup filter takes the cgroup's path or its id, and passes the calls made in it") {
  // One cgroup for every generated row: made once, on the first run.
  static const std::string mount = [] {
    auto resolver = ebpfpub::cgroup_resolver::create();
    REQUIRE(resolver);
    return resolver->mount_point();
  }();
  static const std::string name = "/ebpfpub-filter-" + random_name();
  static ebpfpub::test::test_cgroup scope(std::filesystem::path(mount) / name.substr(1));
  static const auto id = [] {
    auto resolver = ebpfpub::cgroup_resolver::create();
    REQUIRE(resolver);
    return resolver->id_of(name).value();
  }();
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<int>>({
      {fmt::format("cgroup == \"{}\" and getpriority.who >= 1", name), {1, 7, 100}},
      {fmt::format("cgroup == \"{}{}\"", mount, name), whos},
      {fmt::format("cgroup_id == {}", id), whos},
      {fmt::format("cgroup != \"{}\"", name), {}},
      {fmt::format("cgroup in {{1, {}}} and getpriority.who == 0", id), {0}},
  }));
  INFO(filter);
  ebpfpub::tracer_options options;
  options.context = context_field::cgroup;
  const auto procs = scope.path / "cgroup.procs";
  const auto run = run_filtered<sys::getpriority>({filter}, whos.size(), [procs] {
    // Into the cgroup first (0: the writer itself), then the calls.
    std::ofstream(procs) << 0 << std::flush;
    return calls_of_whos();
  }, options);
  CHECK(whos_seen(run.events) == expected);
  CHECK(run.stats.filtered == whos.size() - expected.size());
  CHECK(run.stats.lost() == 0);
}

TEST_CASE("a context field that is not read is an error naming the option to turn on") {
  const auto [filter, options_needed] = GENERATE(table<std::string, std::string>({
      {"ppid == 1", "add context_field::parent to tracer_options::context"},
      {"cgroup == 1", "add context_field::cgroup to tracer_options::context"},
      {"net_ns == 1", "add context_field::namespaces to tracer_options::context"},
      {"exe.name == \"sh\"", "add context_field::executable to tracer_options::context"},
      {"read.fd.kind == regular", "read.fd.kind is a field of the fd's identity, which this plan does not "
                                  "read: set plan_options::fd_identity"},
  }));
  INFO(filter);
  auto t = ebpfpub::tracer::create({});
  REQUIRE(t);
  REQUIRE(t->trace<sys::read>([](const auto&) {}));
  auto added = t->add_filter(filter);
  REQUIRE_FALSE(added);
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains(options_needed));
}

TEST_CASE("a cgroup path that does not exist is an error when the filter is added") {
  ebpfpub::tracer_options options;
  options.context = context_field::cgroup;
  options.capture.fd_identity = true;
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  REQUIRE(t->trace<sys::read>([](const auto&) {}));
  auto added = t->add_filter("cgroup == \"/ebpfpub-no-such-cgroup\"");
  REQUIRE_FALSE(added);
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains("/ebpfpub-no-such-cgroup is no cgroup"));
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains("^"));
  auto kind = t->add_filter("read.fd.kind == folder");
  REQUIRE_FALSE(kind);
  CHECK_THAT(kind.error().what(), Catch::Matchers::Contains("read.fd.kind is a file kind: one of regular, directory"));
  auto member = t->add_filter("read.fd.colour == 1");
  REQUIRE_FALSE(member);
  CHECK_THAT(member.error().what(), Catch::Matchers::Contains("an fd's identity has no member colour (its members: kind,"));
}
