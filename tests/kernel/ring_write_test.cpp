// The ways an exit program writes a ring record (resource_options::write): paths read at
// exit straight into a reserved slot, staged at enter and copied out, or chosen per call
// by the paths' lengths (automatic). The same calls give the same events every way, and
// losses stay exact.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::test::child_process;

namespace {

// A path of exactly `length` bytes under a directory that does not exist, in components
// short enough for the kernel to look up (ENOENT, not ENAMETOOLONG).
std::string missing_path(std::size_t length) {
  std::string path = "/nonexistent-ebpfpub";
  while (path.size() < length) path += (path.size() % 200 == 0) ? '/' : 'p';
  return path.substr(0, length);
}

const char* name_of(ebpfpub::ring_write w) {
  switch (w) {
    case ebpfpub::ring_write::reserved: return "reserved";
    case ebpfpub::ring_write::automatic: return "automatic";
    case ebpfpub::ring_write::staged: break;
  }
  return "staged";
}

}  // namespace

TEST_CASE("paths of 16, 256, 4000 bytes and either side of the automatic bound come back exactly whichever way the ring is written") {
  const auto write = GENERATE(ebpfpub::ring_write::reserved, ebpfpub::ring_write::staged, ebpfpub::ring_write::automatic);
  const auto length = GENERATE(std::size_t{16}, std::size_t{256}, std::size_t{4000},
                               std::size_t{ebpfpub::automatic_string_bytes},
                               std::size_t{ebpfpub::automatic_string_bytes + 1});
  INFO(name_of(write) << ", " << length << " bytes");
  const auto path = missing_path(length);
  REQUIRE(path.size() == length);
  child_process child([&] {
    // Twice: the second call finds the in-flight entry its first call released.
    for (int i = 0; i < 2; ++i)
      if (::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC, 0) != -1 || errno != ENOENT)
        return 100;
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.write = write;
  // Only the child: another process's burst of openat would fill the 4 KiB slots.
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  ebpfpub::test::child_session session(options);
  auto& events = session.trace<sys::openat>();
  CHECK(session.run(child) == 0);
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    CHECK(e.header.exit_code == -ENOENT);
    CHECK(e.header.duration_ns > 0);
    CHECK(e.args.dfd.value == AT_FDCWD);
    CHECK(e.args.flags == (O_RDONLY | O_CLOEXEC));
    CHECK(e.args.filename.status == capture_status::ok);
    CHECK(e.args.filename.value == path);
    CHECK_FALSE(e.header.probe_error);
  }
  const auto stats = session.get().stats();
  for (const auto& s : stats.by_syscall) CHECK(s.lost() == 0);
}

TEST_CASE("a burst of openat into a small ring: received plus counted lost is what was made, every way") {
  const auto write = GENERATE(ebpfpub::ring_write::reserved, ebpfpub::ring_write::staged, ebpfpub::ring_write::automatic);
  // automatic: a short path is staged, a long one takes a slot.
  const auto length = GENERATE(std::size_t{16}, std::size_t{1000});
  const long calls = 2000;
  const auto path = missing_path(length);
  child_process child([&] {
    for (long i = 0; i < calls; ++i) ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY, 0);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.write = write;
  options.resources.output_pages_log2 = 0;  // the smallest ring: it overflows
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::uint64_t received = 0;
  REQUIRE(tracer->trace<sys::openat>([&](const auto& e) {
    if (e.args.filename.value == path) ++received;
  }));
  REQUIRE(tracer->start());
  // The reader does not poll until the child is done: the ring holds what it holds.
  child.go();
  REQUIRE(child.wait() == 0);
  for (int i = 0; i < 10; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(20)));
  const auto stats = tracer->stats();
  REQUIRE(stats.by_syscall.size() == 1);
  const auto lost = stats.by_syscall[0].lost();
  // The figures docs/resources.md quotes: ctest -V shows them.
  fmt::print("burst of {} openat ({}-byte path), ring {} bytes, {}: received {}, lost {}\n", calls, length,
             tracer->memory().output_bytes, name_of(write), received, lost);
  CHECK(stats.by_syscall[0].events == received);
  CHECK(received + lost == static_cast<std::uint64_t>(calls));
  CHECK(lost > 0);
  CHECK(stats.by_syscall[0].lost_output_full == lost);
}

TEST_CASE("a path filter decided at exit keeps exactly the matching calls when automatic writes short paths staged and long ones into a slot") {
  // Four paths: short and long, under the filter's prefix and not.
  const std::string prefix = "/nonexistent-ebpfpub-keep";
  const std::string keep_short = prefix + "/s", keep_long = prefix + "/" + std::string(900, 'k');
  const std::string drop_short = "/nonexistent-ebpfpub-drop/s", drop_long = "/nonexistent-ebpfpub-drop/" + std::string(900, 'd');
  child_process child([&] {
    for (const auto* p : {&keep_short, &drop_short, &keep_long, &drop_long, &keep_short})
      ::syscall(SYS_openat, AT_FDCWD, p->c_str(), O_RDONLY, 0);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.resources.write = ebpfpub::ring_write::automatic;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  ebpfpub::test::child_session session(options);
  auto& events = session.trace<sys::openat>();
  REQUIRE(session.get().add_filter("openat.filename startswith \"" + prefix + "/\""));
  CHECK(session.run(child) == 0);
  REQUIRE(events.size() == 3);
  CHECK(events[0].args.filename.value == keep_short);
  CHECK(events[1].args.filename.value == keep_long);
  CHECK(events[2].args.filename.value == keep_short);
  for (const auto& e : events) CHECK(e.args.filename.status == capture_status::ok);
  const auto stats = session.get().stats();
  for (const auto& s : stats.by_syscall)
    if (s.syscall == "openat") {
      CHECK(s.filtered == 2);
      CHECK(s.lost() == 0);
    }
}
