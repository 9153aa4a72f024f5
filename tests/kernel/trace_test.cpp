// End to end: a child makes known system calls; the tracer must return each one with its
// exact arguments, return value and ids, nothing missing and nothing extra.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"
#include "support/kernel.hpp"
#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::dynamic_event;
using ebpfpub::test::child_process;
using ebpfpub::test::random_name;

namespace {

constexpr uid_t child_uid = 4343;
constexpr gid_t child_gid = 4242;

// What a test expects of one event: syscall, return value, and arguments as text.
struct expected_call {
  std::string syscall;
  std::int64_t exit_code;
  std::map<std::string, std::string> args;
  friend bool operator==(const expected_call&, const expected_call&) = default;
};

std::string text_of(const ebpfpub::dynamic_value& value) {
  struct visitor {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(std::uint64_t v) const { return std::to_string(v); }
    std::string operator()(const ebpfpub::fd& v) const { return "fd " + std::to_string(v.value); }
    std::string operator()(const ebpfpub::user_pointer& v) const { return fmt::format("{:#x}", v.address); }
    std::string operator()(const ebpfpub::user_string& v) const {
      if (v.status == capture_status::ok) return "'" + v.value + "'";
      return fmt::format("<{}> '{}'", ebpfpub::to_string(v.status), v.value.substr(0, 16));
    }
    std::string operator()(const ebpfpub::user_buffer&) const { return "buffer"; }
    std::string operator()(const ebpfpub::user_sockaddr&) const { return "sockaddr"; }
    std::string operator()(const ebpfpub::user_string_array&) const { return "array"; }
    std::string operator()(const ebpfpub::fd_pair&) const { return "fd_pair"; }
    std::string operator()(const ebpfpub::open_how&) const { return "open_how"; }
    std::string operator()(const ebpfpub::clone_args&) const { return "clone_args"; }
    std::string operator()(const ebpfpub::signal_mask& v) const { return fmt::format("{}", v); }
    std::string operator()(const ebpfpub::custom_value&) const { return "custom"; }
  };
  return std::visit(visitor{}, value);
}

expected_call summarize(const dynamic_event& e) {
  expected_call c{std::string(e.header.syscall), e.header.exit_code, {}};
  for (const auto& a : e.args) c.args[std::string(a.name)] = text_of(a.value);
  return c;
}

// Collects the events of one process, in kernel time order.
struct recorder {
  pid_t pid = 0;
  std::vector<dynamic_event> events;
  void operator()(const dynamic_event& e) {
    if (e.header.process_id == static_cast<std::uint32_t>(pid)) events.push_back(e);
  }
};

// Polls until the child's exit_group arrives (it is sent at enter, last) or 10 s pass.
void drain(ebpfpub::tracer& tracer, const recorder& r) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto n = tracer.poll(std::chrono::milliseconds(50));
    REQUIRE(n);
    if (std::any_of(r.events.begin(), r.events.end(),
                    [](const dynamic_event& e) { return e.header.syscall == "exit_group"; }))
      break;
  }
  (void)tracer.poll(std::chrono::milliseconds(0));
}

std::vector<expected_call> sorted_calls(std::vector<dynamic_event> events) {
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.header.timestamp < b.header.timestamp;
  });
  std::vector<expected_call> calls;
  for (const auto& e : events) calls.push_back(summarize(e));
  return calls;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<expected_call> {
  static std::string convert(const expected_call& c) {
    std::string args;
    for (const auto& [k, v] : c.args) args += fmt::format(" {}={}", k, v);
    return fmt::format("\n  {} -> {}:{}", c.syscall, c.exit_code, args);
  }
};
}  // namespace Catch

TEST_CASE("known calls of a child come back exactly, with ids, arguments and exit codes") {
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  const auto event_map = GENERATE(ebpfpub::event_map_kind::task_storage, ebpfpub::event_map_kind::hash);
  INFO("transport " << (transport == ebpfpub::transport::ring ? "ring" : "perf") << ", event map "
                    << (event_map == ebpfpub::event_map_kind::hash ? "hash" : "task storage"));
  ebpfpub::test::scratch_dir dir;
  const auto first = (dir.path / random_name()).string();
  const auto second = (dir.path / random_name()).string();
  const auto file = random_name();
  const auto missing = "/nonexistent-" + random_name() + "/" + random_name();

  child_process child([&] {
    // Only stdin, stdout and stderr stay open, so the file we open is fd 3.
    if (::syscall(SYS_close_range, 3, ~0U, 0) != 0) return 100;
    if (::syscall(SYS_setresgid, child_gid, child_gid, child_gid) != 0) return 101;
    if (::syscall(SYS_setresuid, child_uid, child_uid, child_uid) != 0) return 102;
    if (::syscall(SYS_mkdir, first.c_str(), 0751) != 0) return 103;
    if (::syscall(SYS_renameat2, AT_FDCWD, first.c_str(), AT_FDCWD, second.c_str(), 0) != 0) return 104;
    if (::syscall(SYS_chdir, dir.path.c_str()) != 0) return 105;
    const long fd = ::syscall(SYS_openat, AT_FDCWD, file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
    if (fd != 3) return 106;
    if (::syscall(SYS_unlinkat, AT_FDCWD, file.c_str(), 0) != 0) return 107;
    if (::syscall(SYS_rmdir, second.c_str()) != 0) return 108;
    if (::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY, 0) != -1) return 109;
    if (::syscall(SYS_mkdir, dir.path.c_str(), 0700) != -1) return 110;
    return 7;
  });

  ebpfpub::tracer_options options;
  options.resources.output = transport;
  options.resources.event_map = event_map;
  // Only the child: a busy machine's own openat calls could fill the perf buffers, and
  // "nothing lost" is a claim about the child's calls.
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  recorder r{child.pid(), {}};
  std::vector<ebpfpub::event<sys::mkdir>> typed_mkdirs;
  REQUIRE(tracer->trace<sys::mkdir>([&](const ebpfpub::event<sys::mkdir>& e) {
    if (e.header.process_id == static_cast<std::uint32_t>(child.pid())) typed_mkdirs.push_back(e);
  }));
  for (const char* name : {"rmdir", "renameat2", "openat", "unlinkat", "chdir", "exit_group"})
    REQUIRE(tracer->trace(name, std::ref(r)));
  auto started = tracer->start();
  REQUIRE(started);
  // Six enter+exit pairs, exit_group at enter only, and the process filter's fork and
  // exit trackers.
  CHECK(started->programs == 15);

  child.go();
  CHECK(child.wait() == 7);
  drain(*tracer, r);

  const std::string at_fdcwd = "fd -100";
  const std::vector<expected_call> want{
      {"renameat2", 0, {{"olddfd", at_fdcwd}, {"oldname", "'" + first + "'"}, {"newdfd", at_fdcwd},
                        {"newname", "'" + second + "'"}, {"flags", "0"}}},
      {"chdir", 0, {{"filename", "'" + dir.path.string() + "'"}}},
      {"openat", 3, {{"dfd", at_fdcwd}, {"filename", "'" + file + "'"},
                     {"flags", std::to_string(O_CREAT | O_WRONLY | O_CLOEXEC)}, {"mode", "416"}}},
      {"unlinkat", 0, {{"dfd", at_fdcwd}, {"pathname", "'" + file + "'"}, {"flag", "0"}}},
      {"rmdir", 0, {{"pathname", "'" + second + "'"}}},
      {"openat", -ENOENT, {{"dfd", at_fdcwd}, {"filename", "'" + missing + "'"},
                           {"flags", std::to_string(O_RDONLY)}, {"mode", "0"}}},
      {"exit_group", 0, {{"error_code", "7"}}},
  };
  CHECK(sorted_calls(r.events) == want);
  for (const auto& e : r.events) {
    INFO(e.header.syscall);
    CHECK(e.header.thread_id == static_cast<std::uint32_t>(child.pid()));
    CHECK(e.header.user_id == child_uid);
    CHECK(e.header.group_id == child_gid);
    CHECK_FALSE(e.header.probe_error);
    CHECK(e.header.sent_at_enter == (e.header.syscall == "exit_group"));
  }

  // The typed path: mkdir's arguments as their C types.
  REQUIRE(typed_mkdirs.size() == 2);
  CHECK(typed_mkdirs[0].args.pathname.value == first);
  CHECK(typed_mkdirs[0].args.pathname.status == capture_status::ok);
  CHECK(typed_mkdirs[0].args.mode == 0751);
  CHECK(typed_mkdirs[0].header.exit_code == 0);
  CHECK(typed_mkdirs[0].header.user_id == child_uid);
  CHECK(typed_mkdirs[1].args.pathname.value == dir.path.string());
  CHECK(typed_mkdirs[1].args.mode == 0700);
  CHECK(typed_mkdirs[1].header.exit_code == -EEXIST);
  CHECK(typed_mkdirs[0].header.timestamp < typed_mkdirs[1].header.timestamp);

  const auto stats = tracer->stats();
  CHECK(stats.lost() == 0);
}

TEST_CASE("bad, NULL and over-long string pointers set probe_error on that argument") {
  const auto transport = GENERATE(ebpfpub::transport::ring, ebpfpub::transport::perf);
  const std::string longest(4096, 'a');     // PATH_MAX bytes: captured whole
  const std::string too_long(5000, 'b');    // cut to 4096 and flagged
  child_process child([&] {
    ::syscall(SYS_openat, AT_FDCWD, reinterpret_cast<const char*>(8), O_RDONLY, 0);
    ::syscall(SYS_openat, AT_FDCWD, nullptr, O_RDONLY, 0);
    ::syscall(SYS_openat, AT_FDCWD, longest.c_str(), O_RDONLY, 0);
    ::syscall(SYS_openat, AT_FDCWD, too_long.c_str(), O_RDONLY, 0);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.output = transport;
  ebpfpub::test::child_session session(options);
  auto& events = session.trace<sys::openat>();
  CHECK(session.run(child) == 0);

  REQUIRE(events.size() == 4);
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.header.timestamp < b.header.timestamp; });
  CHECK(events[0].args.filename.status == capture_status::fault);
  CHECK(events[0].args.filename.address == 8);
  CHECK(events[0].header.probe_error);
  CHECK(events[0].header.exit_code == -EFAULT);
  CHECK(events[1].args.filename.status == capture_status::null_pointer);
  CHECK(events[1].header.probe_error);
  CHECK(events[2].args.filename.status == capture_status::ok);
  CHECK(events[2].args.filename.value == longest);
  CHECK_FALSE(events[2].header.probe_error);
  CHECK(events[2].header.exit_code == -ENAMETOOLONG);
  CHECK(events[3].args.filename.status == capture_status::truncated);
  CHECK(events[3].args.filename.value == too_long.substr(0, 4096));
  CHECK(events[3].header.probe_error);
}

TEST_CASE("a path in a page the caller never touched is read again at exit") {
  // A file mapping the child has not read: its page is not in the child's page table,
  // so the enter program cannot read it; the kernel faults it in, and exit reads it.
  ebpfpub::test::scratch_dir dir;
  const auto target = (dir.path / random_name()).string();
  const auto holder = dir.path / "path-holder";
  {
    std::FILE* f = std::fopen(holder.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(target.c_str(), 1, target.size() + 1, f);
    std::fclose(f);
  }
  child_process child([&] {
    const int fd = ::open(holder.c_str(), O_RDONLY);
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (page == MAP_FAILED) return 100;
    ::syscall(SYS_mkdir, static_cast<const char*>(page), 0700);
    return 0;
  });
  ebpfpub::test::child_session session;
  auto& events = session.trace<sys::mkdir>();
  CHECK(session.run(child) == 0);
  REQUIRE(events.size() == 1);
  CHECK(events[0].header.exit_code == 0);
  CHECK(events[0].args.pathname.status == capture_status::ok);
  CHECK(events[0].args.pathname.value == target);
  CHECK_FALSE(events[0].header.probe_error);
}

TEST_CASE("the generic programs of every syscall load and attach together", "[every_syscall]") {
  // Their own tracepoints (dispatch_test.cpp has the same in dispatch mode).
  auto tracer = ebpfpub::tracer::create({.attach = ebpfpub::attach_mode::tracepoints});
  REQUIRE(tracer);
  auto names = tracer->available_syscalls();
  REQUIRE(names);
  // A child makes one known call; a quiet machine (CI) may make no other.
  ebpfpub::test::child_process child([] { return ::getppid() > 0 ? 0 : 1; });
  const auto child_pid = static_cast<std::uint32_t>(child.pid());
  std::size_t events = 0;
  std::vector<dynamic_event> getppids;
  bool child_exited = false;
  for (const auto& name : *names)
    REQUIRE(tracer->trace(name, [&](const dynamic_event& e) {
      ++events;
      if (e.header.process_id != child_pid) return;
      if (e.header.syscall == "getppid") getppids.push_back(e);
      if (e.header.syscall == "exit_group") child_exited = true;
    }));
  const auto t0 = std::chrono::steady_clock::now();
  auto started = tracer->start();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  if (!started) FAIL(started.error().what());
  CHECK(started->programs == 2 * names->size() - 2);  // exit and exit_group: enter only
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  fmt::print("all {} syscalls: {} programs generated in {:.0f} ms, loaded in {:.0f} ms, "
             "attached in {:.0f} ms; {:.0f} ms in all\n", names->size(), started->programs,
             ms(started->generate), ms(started->load), ms(started->attach), ms(elapsed));
  child.go();
  CHECK(child.wait() == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!child_exited && std::chrono::steady_clock::now() < deadline)
    REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(child_exited);
  REQUIRE(getppids.size() == 1);
  CHECK(getppids[0].header.exit_code == ::getpid());
  CHECK(getppids[0].header.thread_id == child_pid);
  CHECK(events >= 2);
}

TEST_CASE("an event copied out of a handler stays readable after the tracer is destroyed") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / ebpfpub::test::random_name()).string();
  std::vector<dynamic_event> kept;
  {
    auto tracer = ebpfpub::tracer::create();
    REQUIRE(tracer);
    REQUIRE(tracer->trace("mkdir", [&](const dynamic_event& e) { kept.push_back(e); }));
    REQUIRE(tracer->start());
    ebpfpub::test::child_process child([&] { return ::syscall(SYS_mkdir, path.c_str(), 0700) == 0 ? 0 : 1; });
    child.go();
    REQUIRE(child.wait() == 0);
    tracer->stop();
    REQUIRE(tracer->poll(std::chrono::milliseconds(0)));
  }
  // The tracer, its plans and their strings are gone; the copies hold what they show.
  const auto mine = std::find_if(kept.begin(), kept.end(), [&](const dynamic_event& e) {
    const auto* s = std::get_if<ebpfpub::user_string>(&e.args[0].value);
    return s != nullptr && s->value == path;
  });
  REQUIRE(mine != kept.end());
  CHECK(mine->header.syscall == "mkdir");
  CHECK(mine->args[0].name == "pathname");
  CHECK(mine->args[1].name == "mode");
  CHECK(fmt::format("{}", *mine).ends_with(fmt::format("syscall: mkdir mode: 448 pathname: '{}'", path)));
}
