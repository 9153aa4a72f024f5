// A plan says what to read, not which syscall it is: an indirect capture reads through
// any pointer field of the struct an argument points to, not only msghdr's msg_name.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace sys = ebpfpub::syscalls;

namespace {

// The same address in the parent and the forked child.
char payload[] = "hello";

}  // namespace

TEST_CASE("an indirect capture of sendmsg's msg->msg_iov records the child's iovec: its "
          "buffer's address and length 5") {
  ebpfpub::test::child_process child([] {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) return 1;
    iovec iov{payload, 5};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    return ::sendmsg(fds[0], &message, 0) == 5 ? 0 : 2;
  });
  auto tracer = ebpfpub::tracer::create();
  REQUIRE(tracer);
  auto p = ebpfpub::make_generic_plan(ebpfpub::describe<sys::sendmsg>(), {});
  REQUIRE(p.captures.empty());
  p.captures.push_back({.argument = 1, .op = ebpfpub::capture_op::buffer,
                        .when = ebpfpub::syscall_phase::enter,
                        .length = ebpfpub::length_source::fixed, .max_bytes = sizeof(iovec),
                        .indirect = true, .pointer_offset = offsetof(msghdr, msg_iov)});
  std::vector<iovec> seen;
  std::vector<ebpfpub::capture_status> statuses;
  const auto pid = static_cast<std::uint32_t>(child.pid());
  REQUIRE(tracer->add(p, [&](const ebpfpub::record_view& r) {
    if (r.header().process_id != pid) return;
    const auto c = r.capture_of(1);
    statuses.push_back(c.status);
    iovec v{};
    if (c.data.size() == sizeof(v)) std::memcpy(&v, c.data.data(), sizeof(v));
    seen.push_back(v);
  }));
  REQUIRE(tracer->start());
  child.go();
  CHECK(child.wait() == 0);
  for (int i = 0; i < 50 && seen.empty(); ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(100)));
  REQUIRE(seen.size() == 1);
  CHECK(statuses[0] == ebpfpub::capture_status::ok);
  CHECK(seen[0].iov_base == static_cast<void*>(payload));
  CHECK(seen[0].iov_len == 5);
}
