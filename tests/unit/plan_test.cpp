#include <catch2/catch.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/syscalls.hpp>

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_op;
using ebpfpub::syscall_phase;

TEST_CASE("the generic plan captures every const char * at enter and nothing else") {
  const auto p = ebpfpub::serializer<sys::renameat2>::make_plan({.string_size = 4096});
  CHECK(p.syscall.name == "renameat2");
  CHECK(p.serializer_name == "generic");
  CHECK_FALSE(p.emit_at_enter);
  REQUIRE(p.captures.size() == 2);
  CHECK(p.captures[0] == ebpfpub::capture{.argument = 1, .op = capture_op::string,
                                          .when = syscall_phase::enter, .max_bytes = 4096,
                                          .readable_at_exit = true});
  CHECK(p.captures[1].argument == 3);
  CHECK(ebpfpub::check_plan(p));
}

TEST_CASE("the string limit of the plan comes from the options") {
  const auto p = ebpfpub::serializer<sys::openat>::make_plan({.string_size = 100});
  REQUIRE(p.captures.size() == 1);
  CHECK(p.captures[0].max_bytes == 100);
}

TEST_CASE("exit and exit_group are sent at enter because their serializer says so, not their name") {
  CHECK(ebpfpub::serializer<sys::exit_group>::make_plan({}).emit_at_enter);
  CHECK(ebpfpub::serializer<sys::exit>::make_plan({}).emit_at_enter);
  CHECK(ebpfpub::serializer<sys::exit_group>::make_plan({}).serializer_name == "process");
  CHECK_FALSE(ebpfpub::make_generic_plan(ebpfpub::describe<sys::exit_group>(), {}).emit_at_enter);
  CHECK_FALSE(ebpfpub::serializer<sys::getppid>::make_plan({}).emit_at_enter);
  CHECK(ebpfpub::serializer<sys::getppid>::make_plan({}).captures.empty());
}

TEST_CASE("sendmsg reads the address msg->msg_name points to, msg->msg_namelen long") {
  const auto p = ebpfpub::serializer<sys::sendmsg>::make_plan({});
  REQUIRE(p.captures.size() == 1);
  CHECK(p.captures[0] == ebpfpub::capture{.argument = 1, .op = capture_op::sockaddr,
                                          .when = syscall_phase::enter,
                                          .length = ebpfpub::length_source::struct_field,
                                          .max_bytes = 128, .indirect = true, .pointer_offset = 0,
                                          .length_offset = 8});
  const auto r = ebpfpub::serializer<sys::recvmsg>::make_plan({});
  REQUIRE(r.captures.size() == 1);
  CHECK(r.captures[0].when == syscall_phase::exit);
  CHECK(r.captures[0].only_if_success);
  CHECK(r.captures[0].indirect);
  CHECK(ebpfpub::check_plan(p));
  CHECK(ebpfpub::check_plan(r));
}

TEST_CASE("an input path is readable at exit, execve's path is not: the new image replaces it") {
  CHECK(ebpfpub::serializer<sys::openat>::make_plan({}).captures.at(0).readable_at_exit);
  CHECK(ebpfpub::serializer<sys::mkdir>::make_plan({}).captures.at(0).readable_at_exit);
  CHECK(ebpfpub::serializer<sys::newfstatat>::make_plan({}).captures.at(0).readable_at_exit);
  const auto execve = ebpfpub::serializer<sys::execve>::make_plan({});
  REQUIRE(execve.captures.size() >= 2);
  CHECK(execve.captures[0].op == capture_op::string);
  CHECK_FALSE(execve.captures[0].readable_at_exit);
  CHECK_FALSE(execve.captures[1].readable_at_exit);  // argv
}

TEST_CASE("the compile-time and run-time paths produce the same plan") {
  const auto compiled = ebpfpub::serializer<sys::openat>::make_plan({});
  const auto runtime = ebpfpub::make_generic_plan(ebpfpub::describe<sys::openat>(), {});
  CHECK(compiled.captures == runtime.captures);
  CHECK(compiled.syscall.arguments == runtime.syscall.arguments);
}

TEST_CASE("check_plan names the syscall and capture that the backend cannot do") {
  auto p = ebpfpub::serializer<sys::openat>::make_plan({});
  SECTION("no such argument") {
    p.captures[0].argument = 9;
    auto r = ebpfpub::check_plan(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "plan for openat: capture 0 (argument 9): no such argument");
  }
  SECTION("zero bytes") {
    p.captures[0].max_bytes = 0;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): max_bytes is 0");
  }
  SECTION("a length from the return value at enter") {
    p.captures[0].op = capture_op::buffer;
    p.captures[0].length = ebpfpub::length_source::return_value;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): a length from the return value needs an exit capture");
  }
  SECTION("a length from a struct field without an indirect capture") {
    p.captures[0].op = capture_op::buffer;
    p.captures[0].length = ebpfpub::length_source::struct_field;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): a length from a struct field needs an indirect capture");
  }
  SECTION("an indirect string") {
    p.captures[0].indirect = true;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): an indirect capture reads a buffer or a socket address");
  }
  SECTION("an indirect pointer past the struct's head") {
    p.captures[0].op = capture_op::buffer;
    p.captures[0].indirect = true;
    p.captures[0].pointer_offset = 57;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): the pointer or length lies past the struct's first 64 bytes");
    p.captures[0].pointer_offset = 56;
    CHECK(ebpfpub::check_plan(p));
  }
  SECTION("an exit capture on a syscall sent at enter") {
    p.emit_at_enter = true;
    p.captures[0].when = syscall_phase::exit;
    CHECK(ebpfpub::check_plan(p).error().message() ==
          "plan for openat: capture 0 (argument 1): an exit capture on a syscall that is sent at enter");
  }
}
