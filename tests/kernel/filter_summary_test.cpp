// Filter expressions in summary mode: the summary programs run the same emitters, so the
// table counts exactly the calls that pass and the rest are counted as filtered.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ebpfpub/ebpfpub.hpp>

#include "support/child.hpp"

namespace {

struct counted {
  std::uint64_t openat_calls = 0, openat_errors = 0, openat_filtered = 0;
  std::uint64_t exit_calls = 0, exit_filtered = 0;
};

// 5 opens of /dev/null (closed), 3 of a missing path read-only, 2 with O_CREAT in a
// missing directory: 10 openat, 5 of them ENOENT, 2 with O_CREAT.
counted count_with(const std::string& filter) {
  const auto missing = "/nonexistent-" + ebpfpub::test::random_name() + "/x";
  ebpfpub::test::child_process child([&] {
    for (int i = 0; i < 5; ++i) ::close(static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY)));
    for (int i = 0; i < 3; ++i) ::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY);
    for (int i = 0; i < 2; ++i) ::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_CREAT | O_WRONLY, 0600);
    return 0;
  });
  ebpfpub::tracer_options options;
  options.summary = true;
  options.filter.process_ids = {static_cast<std::uint32_t>(child.pid())};
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  REQUIRE(t->trace("openat", [](const ebpfpub::dynamic_event&) {}));
  REQUIRE(t->trace("exit_group", [](const ebpfpub::dynamic_event&) {}));
  auto added = t->add_filter(filter);
  if (!added) FAIL(added.error().what());
  REQUIRE(t->start());
  child.go();
  REQUIRE(child.wait() == 0);
  REQUIRE(t->poll(std::chrono::milliseconds(10)));
  const auto stats = t->stats();
  CHECK(stats.lost() == 0);
  // Summary mode's exits always look for the entry: a rejected call's is marked (never
  // an exit without its enter), whatever the tracing mode would test again.
  CHECK(stats.by_syscall.at(0).unmatched_exits == 0);
  t->stop();
  const auto s = t->summary();
  REQUIRE(s);
  counted out;
  out.openat_calls = s->by_syscall.at(0).calls;
  out.openat_errors = s->by_syscall.at(0).errors;
  out.exit_calls = s->by_syscall.at(1).calls;
  out.openat_filtered = stats.by_syscall.at(0).filtered;
  out.exit_filtered = stats.by_syscall.at(1).filtered;
  return out;
}

}  // namespace

TEST_CASE("summary mode counts only the calls a filter passes, the rest as filtered", "[summary]") {
  SECTION("an argument, decided at enter") {
    const auto c = count_with("openat.flags & O_CREAT");
    CHECK(c.openat_calls == 2);
    CHECK(c.openat_errors == 2);
    CHECK(c.openat_filtered == 8);
    CHECK(c.exit_calls == 1);  // the filter names openat only
    CHECK(c.exit_filtered == 0);
  }
  SECTION("the exit code, decided at exit") {
    const auto c = count_with("openat.dfd == AT_FDCWD and exit_code == -ENOENT");
    CHECK(c.openat_calls == 5);
    CHECK(c.openat_errors == 5);
    CHECK(c.openat_filtered == 5);
  }
  SECTION("a header filter, on every syscall, exit_group's enter included") {
    const auto c = count_with("uid == 0 and tid != 1");
    CHECK(c.openat_calls == 10);
    CHECK(c.openat_filtered == 0);
    CHECK(c.exit_calls == 1);
    const auto none = count_with("uid == 4242");
    CHECK(none.openat_calls == 0);
    CHECK(none.openat_filtered == 10);
    CHECK(none.exit_calls == 0);
    CHECK(none.exit_filtered == 1);
  }
  SECTION("a result test rejects exit_group, which has none") {
    const auto c = count_with("exit_code >= 0");
    CHECK(c.openat_calls == 5);
    CHECK(c.openat_filtered == 5);
    CHECK(c.exit_calls == 0);
    CHECK(c.exit_filtered == 1);
  }
}

TEST_CASE("a filter on a string in summary mode is an error that says nothing is captured", "[summary]") {
  ebpfpub::tracer_options options;
  options.summary = true;
  auto t = ebpfpub::tracer::create(options);
  REQUIRE(t);
  REQUIRE(t->trace("openat", [](const ebpfpub::dynamic_event&) {}));
  auto added = t->add_filter("openat.filename startswith \"/etc/\"");
  REQUIRE_FALSE(added);
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains("tracer_options::summary captures nothing"));
}
