// Every specialized serializer but the socket-address ones (network_serializers_test.cpp)
// against a child making the call with known values.
#include <catch2/catch.hpp>

#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "support/serializer_helpers.hpp"
#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::socket_address;
using ebpfpub::test::child_process;
using ebpfpub::test::child_session;
using ebpfpub::test::close_inherited_fds;
using ebpfpub::test::decoded;
using ebpfpub::test::random_bytes;
using ebpfpub::test::random_name;
using ebpfpub::test::random_port;

TEST_CASE("execve records the path and the whole argv, spaces and empty strings included") {
  const auto capture_envp = GENERATE(false, true);
  ebpfpub::tracer_options options;
  options.capture.capture_envp = capture_envp;
  child_session session(options);
  auto& execs = session.trace<sys::execve>();
  const std::string marker = random_name();
  child_process child([&] {
    const char* argv[] = {"true", "a b", "", marker.c_str(), nullptr};
    const char* envp[] = {"EBPFPUB_TEST=1", nullptr};
    ::syscall(SYS_execve, "/bin/true", argv, envp);
    return 99;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(execs.size() == 1);
  const auto& e = execs[0];
  CHECK(e.header.exit_code == 0);
  CHECK(e.args.filename.value == "/bin/true");
  CHECK(e.args.argv.status == capture_status::ok);
  CHECK(e.args.argv.values == std::vector<std::string>{"true", "a b", "", marker});
  if (capture_envp) {
    CHECK(e.args.envp.status == capture_status::ok);
    CHECK(e.args.envp.values == std::vector<std::string>{"EBPFPUB_TEST=1"});
  } else {
    CHECK(e.args.envp.status == capture_status::not_captured);
    CHECK(e.args.envp.values.empty());
  }
  CHECK_FALSE(e.header.probe_error);
  CHECK(session.get().plans()[1].serializer_name == "execve");
}

TEST_CASE("execve's argv is cut at the configured count and size, and flagged") {
  ebpfpub::tracer_options options;
  options.capture.argv_items = 4;
  options.capture.argv_size = 64;
  child_session session(options);
  auto& execs = session.trace<sys::execve>();
  const std::string long_arg(100, 'z');
  child_process child([&] {
    // Built in the child: a failed execve never reads argv (it fails opening the file
    // first), so only memory the caller touched can be captured (docs/resources.md).
    std::vector<std::string> strings{"a", "b", "c", "d", "e", "x", long_arg};
    auto pointers = [&](std::initializer_list<int> indices) {
      std::vector<const char*> p;
      for (int i : indices) p.push_back(strings[static_cast<std::size_t>(i)].c_str());
      p.push_back(nullptr);
      return p;
    };
    const char* envp[] = {nullptr};
    ::syscall(SYS_execve, "/nonexistent-binary", pointers({0, 1, 2, 3, 4}).data(), envp);
    ::syscall(SYS_execve, "/nonexistent-binary", pointers({5, 6}).data(), envp);
    ::syscall(SYS_execve, "/nonexistent-binary", pointers({0, 1, 2, 3}).data(), envp);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(execs.size() == 3);
  CHECK(execs[0].header.exit_code == -ENOENT);
  CHECK(execs[0].args.argv.status == capture_status::truncated);
  CHECK(execs[0].args.argv.values == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(execs[1].args.argv.status == capture_status::truncated);
  REQUIRE(execs[1].args.argv.values.size() == 2);
  CHECK(execs[1].args.argv.values[0] == "x");
  CHECK(execs[1].args.argv.values[1] == std::string(62, 'z'));  // 64 bytes: "x\0" + 62
  CHECK(execs[2].args.argv.status == capture_status::ok);
  CHECK(execs[2].args.argv.values == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("execve's argv of 30 items is read whole, also when the array ends where its mapping does") {
  child_session session;
  auto& execs = session.trace<sys::execve>();
  // 30 items: four chunks of pointers. At the end of a mapping the last chunk cannot be
  // read whole (its 64 bytes run past the array into a page that cannot be read): those
  // pointers are read one at a time.
  constexpr std::size_t count = 30;
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < count; ++i) strings.push_back(std::to_string(i) + "-" + random_name());
  child_process child([&] {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto* area = static_cast<char*>(::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (area == MAP_FAILED || ::mprotect(area + page, page, PROT_NONE) != 0) return 98;
    auto** at_end = reinterpret_cast<const char**>(area + page) - (count + 1);
    for (std::size_t i = 0; i < count; ++i) at_end[i] = strings[i].c_str();
    at_end[count] = nullptr;
    const char* envp[] = {nullptr};
    ::syscall(SYS_execve, "/nonexistent-binary", at_end, envp);
    std::vector<const char*> on_heap(at_end, at_end + count + 1);
    ::syscall(SYS_execve, "/nonexistent-binary", on_heap.data(), envp);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(execs.size() == 2);
  for (const auto& e : execs) {
    CHECK(e.header.exit_code == -ENOENT);
    CHECK(e.args.argv.status == capture_status::ok);
    CHECK(e.args.argv.values == strings);
  }
}

TEST_CASE("execveat records its path and argv") {
  child_session session;
  auto& execs = session.trace<sys::execveat>();
  child_process child([&] {
    const char* argv[] = {"true", "--flag", nullptr};
    const char* envp[] = {nullptr};
    ::syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
    return 99;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(execs.size() == 1);
  CHECK(execs[0].args.fd.value == AT_FDCWD);
  CHECK(execs[0].args.filename.value == "/bin/true");
  CHECK(execs[0].args.argv.values == std::vector<std::string>{"true", "--flag"});
}

TEST_CASE("fork, clone3 and exit_group record the new ids, flags and status") {
  child_session session;
  auto& forks = session.trace<sys::fork>();
  auto& clones = session.trace<sys::clone3>();
  const auto& exits = session.exit_groups();
  pid_t forked = 0, cloned = 0;
  int pids[2] = {0, 0};
  int report[2];
  REQUIRE(::pipe(report) == 0);
  child_process child([&] {
    pids[0] = static_cast<pid_t>(::syscall(SYS_fork));
    if (pids[0] == 0) ::_exit(3);
    clone_args args{};
    args.flags = CLONE_CLEAR_SIGHAND;
    args.exit_signal = SIGCHLD;
    pids[1] = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
    if (pids[1] == 0) ::_exit(4);
    ::waitpid(pids[0], nullptr, 0);
    ::waitpid(pids[1], nullptr, 0);
    if (::write(report[1], pids, sizeof(pids)) != sizeof(pids)) return 1;
    return 5;
  });
  CHECK(session.run(child) == 5);
  REQUIRE(::read(report[0], pids, sizeof(pids)) == sizeof(pids));
  forked = pids[0];
  cloned = pids[1];
  REQUIRE(forks.size() == 1);
  CHECK(forks[0].header.exit_code == forked);
  CHECK(session.get().plans()[1].serializer_name == "process");
  REQUIRE(clones.size() == 1);
  CHECK(clones[0].header.exit_code == cloned);
  CHECK(clones[0].args.uargs.status == capture_status::ok);
  CHECK(clones[0].args.uargs.flags == CLONE_CLEAR_SIGHAND);
  CHECK(clones[0].args.uargs.exit_signal == SIGCHLD);
  CHECK(clones[0].args.size == sizeof(clone_args));
  // Only the parent's exit_group is of the traced process id; its status is 5.
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].args.error_code == 5);
  CHECK(exits[0].header.sent_at_enter);
}

TEST_CASE("write and read capture the data moved, up to the limit") {
  ebpfpub::tracer_options options;
  options.capture.data_size = 256;
  child_session session(options);
  auto& writes = session.trace<sys::write>();
  auto& reads = session.trace<sys::read>();
  auto& pwrites = session.trace<sys::pwrite64>();
  auto& preads = session.trace<sys::pread64>();
  const auto small = random_bytes(100);
  const auto large = random_bytes(1000);
  ebpfpub::test::scratch_dir dir;
  const auto file = (dir.path / random_name()).string();
  child_process child([&] {
    close_inherited_fds();
    int fds[2];
    if (::pipe(fds) != 0) return 10;
    ::write(fds[1], small.data(), small.size());
    ::write(fds[1], large.data(), large.size());
    std::vector<std::uint8_t> buffer(2000);
    ::read(fds[0], buffer.data(), 60);     // the first 60 of `small`
    ::read(fds[0], buffer.data(), 2000);   // the other 40, then all of `large`
    ::syscall(SYS_write, fds[1], nullptr, 10);  // a NULL buffer
    const int f = ::open(file.c_str(), O_RDWR | O_CREAT, 0600);
    ::pwrite(f, small.data(), small.size(), 1000);
    ::pread(f, buffer.data(), 50, 1010);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(writes.size() == 3);
  CHECK(writes[0].args.fd.value == 4);
  CHECK(writes[0].args.count == 100);
  CHECK(writes[0].args.buf.status == capture_status::ok);
  CHECK(writes[0].args.buf.data == small);
  CHECK(writes[1].args.buf.status == capture_status::truncated);
  CHECK(writes[1].args.buf.data == std::vector<std::uint8_t>(large.begin(), large.begin() + 256));
  CHECK(writes[2].args.buf.status == capture_status::null_pointer);
  CHECK(writes[2].header.exit_code == -EFAULT);
  REQUIRE(reads.size() == 2);
  CHECK(reads[0].header.exit_code == 60);
  CHECK(reads[0].args.buf.data == std::vector<std::uint8_t>(small.begin(), small.begin() + 60));
  CHECK(reads[0].args.buf.status == capture_status::ok);
  CHECK(reads[1].header.exit_code == 1040);
  CHECK(reads[1].args.buf.status == capture_status::truncated);
  std::vector<std::uint8_t> expected(small.begin() + 60, small.end());
  expected.insert(expected.end(), large.begin(), large.begin() + 216);
  CHECK(reads[1].args.buf.data == expected);
  REQUIRE(pwrites.size() == 1);
  CHECK(pwrites[0].args.pos == 1000);
  CHECK(pwrites[0].args.buf.data == small);
  REQUIRE(preads.size() == 1);
  CHECK(preads[0].args.pos == 1010);
  CHECK(preads[0].args.buf.data == std::vector<std::uint8_t>(small.begin() + 10, small.begin() + 60));
}

TEST_CASE("pipe, pipe2 and socketpair record the two new descriptors") {
  child_session session;
  auto& pipes = session.trace<sys::pipe>();
  auto& pipe2s = session.trace<sys::pipe2>();
  auto& pairs = session.trace<sys::socketpair>();
  child_process child([&] {
    close_inherited_fds();
    int fds[2];
    ::syscall(SYS_pipe, fds);                       // 3, 4
    ::pipe2(fds, O_CLOEXEC | O_NONBLOCK);           // 5, 6
    ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds);     // 7, 8
    ::pipe2(reinterpret_cast<int*>(8), 0);          // fails: nothing captured
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(pipes.size() == 1);
  CHECK(pipes[0].args.fildes.first == 3);
  CHECK(pipes[0].args.fildes.second == 4);
  REQUIRE(pipe2s.size() == 2);
  CHECK(pipe2s[0].args.fildes.first == 5);
  CHECK(pipe2s[0].args.fildes.second == 6);
  CHECK(pipe2s[0].args.flags == (O_CLOEXEC | O_NONBLOCK));
  CHECK(pipe2s[1].header.exit_code == -EFAULT);
  CHECK(pipe2s[1].args.fildes.status == capture_status::not_captured);
  REQUIRE(pairs.size() == 1);
  CHECK(pairs[0].args.usockvec.first == 7);
  CHECK(pairs[0].args.usockvec.second == 8);
  CHECK(pairs[0].args.family == AF_UNIX);
}

TEST_CASE("openat2 records its open_how and openat keeps flags and mode as numbers") {
  child_session session;
  auto& opens = session.trace<sys::openat2>();
  auto& openats = session.trace<sys::openat>();
  ebpfpub::test::scratch_dir dir;
  const auto file = (dir.path / random_name()).string();
  child_process child([&] {
    open_how how{};
    how.flags = O_RDWR | O_CREAT | O_CLOEXEC;
    how.mode = 0640;
    how.resolve = RESOLVE_NO_SYMLINKS;
    ::syscall(SYS_openat2, AT_FDCWD, file.c_str(), &how, sizeof(how));
    ::syscall(SYS_openat, AT_FDCWD, file.c_str(), O_WRONLY | O_APPEND, 0600);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(opens.size() == 1);
  CHECK(opens[0].header.exit_code >= 3);
  CHECK(opens[0].args.dfd.value == AT_FDCWD);
  CHECK(opens[0].args.filename.value == file);
  CHECK(opens[0].args.how.status == capture_status::ok);
  CHECK(opens[0].args.how.flags == (O_RDWR | O_CREAT | O_CLOEXEC));
  CHECK(opens[0].args.how.mode == 0640);
  CHECK(opens[0].args.how.resolve == RESOLVE_NO_SYMLINKS);
  CHECK(opens[0].args.usize == sizeof(open_how));
  REQUIRE(openats.size() == 1);
  CHECK(openats[0].args.flags == (O_WRONLY | O_APPEND));
  CHECK(openats[0].args.mode == 0600);
}

TEST_CASE("the programs of every specialized serializer load together") {
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  std::size_t count = 0;
  ebpfpub::serializers::specialized::for_each([&]<typename S>() {
    auto ok = tracer->trace<S>([](const auto&) {});
    if (!ok) FAIL(ok.error().what());
    ++count;
  });
  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(count == ebpfpub::serializers::specialized::size);
  for (const auto& p : tracer->plans()) {
    INFO(p.syscall.name);
    CHECK(p.serializer_name != "generic");
  }
}

TEST_CASE("the by-name path picks the specialized serializer") {
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  REQUIRE(tracer->trace("connect", [](const ebpfpub::dynamic_event&) {}));
  REQUIRE(tracer->trace("mkdir", [](const ebpfpub::dynamic_event&) {}));
  CHECK(tracer->plans()[0].serializer_name == "socket_address");
  CHECK(tracer->plans()[1].serializer_name == "generic");
}

TEST_CASE("socket, accept and vfork record their values; a 2^63 length is clamped, not trusted") {
  child_session session;
  auto& sockets = session.trace<sys::socket>();
  auto& accepts = session.trace<sys::accept>();
  auto& vforks = session.trace<sys::vfork>();
  auto& writes = session.trace<sys::write>();
  const auto port = random_port();
  const auto payload = random_bytes(1000);
  pid_t vforked = 0;
  int report[2];
  REQUIRE(::pipe(report) == 0);
  child_process child([&] {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) return 10;
    ::listen(listener, 1);
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) return 11;
    sockaddr_in peer{};
    socklen_t length = sizeof(peer);
    if (::syscall(SYS_accept, listener, &peer, &length) < 0) return 12;
    // glibc's vfork: a child sharing the stack must not return through syscall().
    const pid_t pid = ::vfork();
    if (pid == 0) ::_exit(0);
    if (::write(report[1], &pid, sizeof(pid)) != sizeof(pid)) return 13;
    const int null_fd = ::open("/dev/null", O_WRONLY);
    // 2^63 bytes fail access_ok: nothing moved, nothing kept. 2^40 pass it, and /dev/null
    // takes MAX_RW_COUNT of them without reading: the first 256 are kept, flagged.
    ::syscall(SYS_write, null_fd, payload.data(), std::uint64_t{1} << 63);
    ::syscall(SYS_write, null_fd, payload.data(), std::uint64_t{1} << 40);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(::read(report[0], &vforked, sizeof(vforked)) == sizeof(vforked));
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].args.family == AF_INET);
  CHECK(sockets[0].args.type == (SOCK_STREAM | SOCK_CLOEXEC));
  CHECK(sockets[0].args.protocol == IPPROTO_TCP);
  CHECK(sockets[0].header.exit_code >= 3);
  REQUIRE(accepts.size() == 1);
  const auto peer = decoded(accepts[0].args.upeer_sockaddr);
  CHECK(peer.address == "127.0.0.1");
  CHECK(peer.port != port);
  REQUIRE(vforks.size() == 1);
  CHECK(vforks[0].header.exit_code == vforked);
  REQUIRE(writes.size() == 3);  // the report and the two huge ones
  const auto& impossible = writes[1];
  CHECK(impossible.args.count == std::uint64_t{1} << 63);
  CHECK(impossible.header.exit_code == -EFAULT);
  CHECK(impossible.args.buf.data.empty());
  const auto& huge = writes[2];
  CHECK(huge.args.count == std::uint64_t{1} << 40);
  CHECK(huge.header.exit_code == 0x7ffff000);  // MAX_RW_COUNT
  CHECK(huge.args.buf.status == capture_status::truncated);
  CHECK(huge.args.buf.data == std::vector<std::uint8_t>(payload.begin(), payload.begin() + 256));
}
