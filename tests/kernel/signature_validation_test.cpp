#include <catch2/catch.hpp>

#include <span>
#include <string_view>
#include <vector>

#include <ebpfpub/syscalls.hpp>

#include "support/kernel.hpp"

namespace sys = ebpfpub::syscalls;

namespace {

// Each signature's compile-time facts, gathered once: the checks below run in a plain
// loop, so the test does not compile 360 copies of Catch's assertions.
struct compiled_signature {
  std::string_view name;
  std::span<const ebpfpub::argument_layout> layout;
  ebpfpub::syscall_description (*describe)();
};

std::vector<compiled_signature> compiled_signatures() {
  std::vector<compiled_signature> all;
  sys::all::for_each([&]<typename S>() { all.push_back({S::name, S::layout, &ebpfpub::describe<S>}); });
  return all;
}

}  // namespace

TEST_CASE("every generated signature validates against the running kernel") {
  const auto fs = ebpfpub::test::live_tracefs();
  std::size_t validated = 0;
  for (const auto& s : compiled_signatures()) {
    INFO(s.name);
    auto enter = fs.syscall_format(s.name, ebpfpub::syscall_phase::enter);
    auto exit = fs.syscall_format(s.name, ebpfpub::syscall_phase::exit);
    REQUIRE(enter);
    REQUIRE(exit);
    auto result = ebpfpub::validate(s.name, s.layout, *enter, *exit);
    if (!result) FAIL(result.error().what());
    // The run-time path describes it exactly like the compiled-in type.
    auto runtime = ebpfpub::describe_syscall(s.name, *enter, *exit);
    REQUIRE(runtime);
    CHECK(runtime->arguments == s.describe().arguments);
    ++validated;
  }
  CHECK(validated == sys::all::size);
}

TEST_CASE("the table has every syscall the running kernel can trace") {
  const auto fs = ebpfpub::test::live_tracefs();
  auto names = fs.syscall_names();
  REQUIRE(names);
  std::vector<std::string> table;
  sys::all::for_each([&]<typename S>() { table.emplace_back(S::name); });
  std::sort(table.begin(), table.end());
  CHECK(table == *names);
}

TEST_CASE("a deliberately wrong signature is rejected with a message naming the field") {
  const auto fs = ebpfpub::test::live_tracefs();
  auto enter = fs.syscall_format("openat", ebpfpub::syscall_phase::enter);
  auto exit = fs.syscall_format("openat", ebpfpub::syscall_phase::exit);
  REQUIRE(enter);
  REQUIRE(exit);
  auto layout = sys::openat::layout;
  layout[2].offset = 40;  // flags where mode is
  auto result = ebpfpub::validate("openat", layout, *enter, *exit);
  REQUIRE_FALSE(result);
  CHECK(result.error().code() == ebpfpub::errc::mismatch);
  CHECK(result.error().message().starts_with(
      "openat: argument 2 is 'flags' at offset 40 size 8 in the signature but 'flags' at "
      "offset 32 size 8 in the running kernel's sys_enter_openat"));
}

TEST_CASE("a syscall known only by name is described from its format files") {
  const auto fs = ebpfpub::test::live_tracefs();
  auto d = ebpfpub::describe_syscall(fs, "renameat2");
  REQUIRE(d);
  REQUIRE(d->arguments.size() == 5);
  CHECK(d->arguments[1].name == "oldname");
  CHECK(d->arguments[1].kind == ebpfpub::arg_kind::user_string);
  CHECK(d->arguments[0].kind == ebpfpub::arg_kind::fd);
  CHECK(d->arguments[4].name == "flags");
  CHECK(d->arguments[4].width == 4);

  auto missing = ebpfpub::describe_syscall(fs, "no_such_syscall");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ebpfpub::errc::not_found);
}
