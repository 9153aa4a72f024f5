// A start() that fails part-way leaves no program, link or map behind, and a second
// start() traces. The failures are made by the session's test-only hook
// (EBPFPUB_TEST_FAIL, src/session/test_faults.hpp): the kernel itself rejects the map,
// the program or the attachment asked for.
#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace sys = ebpfpub::syscalls;

namespace {

// The kernel objects this process holds, by kind of descriptor: a test that counts its
// own is not disturbed by other tracers on the machine.
struct owned_objects {
  std::size_t programs = 0;
  std::size_t maps = 0;
  std::size_t links = 0;
  std::size_t perf_events = 0;
  friend bool operator==(const owned_objects&, const owned_objects&) = default;
};

owned_objects owned() {
  owned_objects o;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const auto target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target == "anon_inode:bpf-prog") ++o.programs;
    else if (target == "anon_inode:bpf-map") ++o.maps;
    else if (target == "anon_inode:bpf_link") ++o.links;
    else if (target == "anon_inode:[perf_event]") ++o.perf_events;
  }
  return o;
}

// Sets an environment variable for one scope.
class environment_variable {
 public:
  environment_variable(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~environment_variable() { ::unsetenv(name_); }

 private:
  const char* name_;
};

// A child that makes one mkdir and one rmdir of `path` when told to.
ebpfpub::test::child_process mkdir_rmdir(const std::string& path) {
  return ebpfpub::test::child_process([path] {
    ::syscall(SYS_mkdir, path.c_str(), 0700);
    ::syscall(SYS_rmdir, path.c_str());
    return 0;
  });
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<owned_objects> {
  static std::string convert(const owned_objects& o) {
    return "{" + std::to_string(o.programs) + " programs, " + std::to_string(o.maps) + " maps, " +
           std::to_string(o.links) + " links, " + std::to_string(o.perf_events) + " perf events}";
  }
};
}  // namespace Catch

// One attach mode's session, what it owns once started, and the failures to inject into
// its start(): the kernel objects are counted, so each fault index names a real object.
struct attach_case {
  ebpfpub::attach_mode mode;
  const char* fault;
};

// Tracepoints: four maps (storage, counters, ring, process filter), six programs
// (mkdir's and rmdir's enter and exit, fork and exit tracking), six links with their perf
// events. Dispatch: the same four maps, the two program arrays and the number -> plan
// array; eight programs (the same six and the two dispatchers); four links (the two sched
// tracepoints' with their perf events, then the two raw tracepoints').
owned_objects started_objects(ebpfpub::attach_mode mode) {
  if (mode == ebpfpub::attach_mode::dispatch) return {8, 7, 4, 2};
  return {6, 4, 6, 6};
}

TEST_CASE("a start() that fails at any map, program or attachment leaves nothing behind, and a "
          "second start() records the child's mkdir and rmdir, in both attach modes") {
  using enum ebpfpub::attach_mode;
  const auto c = GENERATE(values<attach_case>({
      {tracepoints, "map:1"}, {tracepoints, "map:2"}, {tracepoints, "map:3"},
      {tracepoints, "map:4"}, {tracepoints, "program:1"}, {tracepoints, "program:4"},
      {tracepoints, "program:6"}, {tracepoints, "attach:1"}, {tracepoints, "attach:3"},
      {tracepoints, "attach:6"},
      {dispatch, "map:1"}, {dispatch, "map:5"}, {dispatch, "map:6"}, {dispatch, "map:7"},
      {dispatch, "program:1"}, {dispatch, "program:4"}, {dispatch, "program:7"},
      {dispatch, "program:8"}, {dispatch, "attach:1"}, {dispatch, "attach:3"},
      {dispatch, "attach:4"}}));
  const std::string fault = c.fault;
  INFO("attach mode " << (c.mode == dispatch ? "dispatch" : "tracepoints")
                      << ", EBPFPUB_TEST_FAIL=" << fault);
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / "made").string();
  auto child = mkdir_rmdir(path);

  ebpfpub::tracer_options options;
  options.attach = c.mode;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<std::string> seen;
  REQUIRE(tracer->trace<sys::mkdir>([&](const auto& e) { seen.push_back("mkdir " + e.args.pathname.value); }));
  REQUIRE(tracer->trace<sys::rmdir>([&](const auto& e) { seen.push_back("rmdir " + e.args.pathname.value); }));
  const auto before = owned();

  {
    environment_variable fail("EBPFPUB_TEST_FAIL", fault);
    auto started = tracer->start();
    REQUIRE_FALSE(started);
    const auto& message = started.error().message();
    INFO(message);
    if (fault.starts_with("map")) {
      CHECK(message.find("(EBPFPUB_TEST_FAIL)") != std::string::npos);
    } else if (fault.starts_with("program")) {
      CHECK(started.error().code() == ebpfpub::errc::verifier_rejected);
      CHECK(message.find("invalid read from stack") != std::string::npos);
    } else if (c.mode == tracepoints || fault == "attach:1") {
      CHECK(message.starts_with("opening a perf event on tracepoint"));
    } else {
      CHECK(message.starts_with("attaching to raw tracepoint ebpfpub_missing"));
    }
  }
  CHECK(owned() == before);
  CHECK(tracer->stats().by_syscall.size() == 2);

  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(started->attached == c.mode);
  const auto made = started_objects(c.mode);
  CHECK(started->programs == made.programs);
  CHECK(owned() == owned_objects{before.programs + made.programs, before.maps + made.maps,
                                 before.links + made.links, before.perf_events + made.perf_events});
  child.go();
  CHECK(child.wait() == 0);
  for (int i = 0; i < 50 && seen.size() < 2; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(seen == std::vector<std::string>{"mkdir " + path, "rmdir " + path});
  const auto stats = tracer->stats();
  CHECK(stats.events() == 2);
  CHECK(stats.lost() == 0);
  tracer->stop();
  // The four maps the plans were prepared with stay for the next start().
  CHECK(owned() == owned_objects{before.programs, before.maps + 4, before.links, before.perf_events});
}

TEST_CASE("a start() that fails after prepare() keeps the prepared maps and takes back its "
          "programs and links") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / "made").string();
  auto child = mkdir_rmdir(path);
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  std::vector<std::string> seen;
  const auto pid = static_cast<std::uint32_t>(child.pid());
  REQUIRE(tracer->trace<sys::mkdir>([&](const auto& e) {
    if (e.header.process_id == pid) seen.push_back("mkdir " + e.args.pathname.value);
  }));
  const auto before = owned();
  REQUIRE(tracer->prepare());
  const auto prepared = owned();
  CHECK(prepared == owned_objects{before.programs, before.maps + 3, before.links, before.perf_events});
  // The maps are sized for the plans they were made for.
  auto late = tracer->trace<sys::rmdir>([](const auto&) {});
  REQUIRE_FALSE(late);
  CHECK(late.error().message() == "tracer: cannot add rmdir after prepare(); add every syscall first");
  {
    environment_variable fail("EBPFPUB_TEST_FAIL", "attach:2");
    auto started = tracer->start();
    REQUIRE_FALSE(started);
  }
  CHECK(owned() == prepared);
  CHECK(tracer->memory().measured);

  auto started = tracer->start();
  if (!started) FAIL(started.error().what());
  CHECK(started->programs == 2);
  child.go();
  CHECK(child.wait() == 0);
  for (int i = 0; i < 50 && seen.empty(); ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  CHECK(seen == std::vector<std::string>{"mkdir " + path});
}
