// Both ways an exit program writes a ring record (resource_options::write): paths read at
// exit straight into a reserved slot, or staged at enter and copied out. The same calls
// give the same events either way, and losses stay exact.
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

const char* name_of(ebpfpub::ring_write w) { return w == ebpfpub::ring_write::reserved ? "reserved" : "staged"; }

}  // namespace

TEST_CASE("paths of 16, 256 and 4000 bytes come back exactly whichever way the ring is written") {
  const auto write = GENERATE(ebpfpub::ring_write::reserved, ebpfpub::ring_write::staged);
  const auto length = GENERATE(std::size_t{16}, std::size_t{256}, std::size_t{4000});
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

TEST_CASE("a burst of openat into a small ring: received plus counted lost is what was made, either way") {
  const auto write = GENERATE(ebpfpub::ring_write::reserved, ebpfpub::ring_write::staged);
  const long calls = 2000;
  const auto path = missing_path(16);
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
  fmt::print("burst of {} openat (16-byte path), ring {} bytes, {}: received {}, lost {}\n", calls,
             tracer->memory().output_bytes, name_of(write), received, lost);
  CHECK(stats.by_syscall[0].events == received);
  CHECK(received + lost == static_cast<std::uint64_t>(calls));
  CHECK(lost > 0);
  CHECK(stats.by_syscall[0].lost_output_full == lost);
}
