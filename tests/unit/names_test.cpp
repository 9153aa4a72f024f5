// Events own what they hold: names outlive the plans (and the tracer) they came from.
#include <catch2/catch.hpp>

#include <memory>
#include <thread>

#include <ebpfpub/ebpfpub.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;

TEST_CASE("an event's syscall and argument names stay readable after its plans are gone") {
  ebpfpub::dynamic_event kept;
  {
    auto plans = std::make_unique<std::vector<ebpfpub::plan>>(
        std::vector<ebpfpub::plan>{ebpfpub::serializer<sys::mkdir>::make_plan({})});
    auto b = ebpfpub::test::record_builder(0, {0x7ffd0000, 0700});
    b.capture(0, 0, "/tmp/y");
    auto r = ebpfpub::record_view::parse(b.bytes(), *plans);
    if (!r) FAIL(r.error().what());
    kept = ebpfpub::decode_dynamic(*r);
    // The names point into the process-wide table, not into the plan's strings.
    CHECK(kept.header.syscall.data() != (*plans)[0].syscall.name.data());
    CHECK(kept.args[0].name.data() != (*plans)[0].syscall.arguments[0].name.data());
    // Scribble over the plans' strings before freeing them: a view into them would change.
    for (auto& p : *plans) {
      p.syscall.name.assign(p.syscall.name.size(), '#');
      for (auto& a : p.syscall.arguments) a.name.assign(a.name.size(), '#');
    }
  }
  CHECK(kept.header.syscall == "mkdir");
  CHECK(kept.header.syscall.data() == ebpfpub::intern_name("mkdir").data());
  REQUIRE(kept.args.size() == 2);
  CHECK(kept.args[0].name == "pathname");
  CHECK(kept.args[1].name == "mode");
  CHECK(fmt::format("{}", kept).ends_with("syscall: mkdir mode: 448 pathname: '/tmp/y'"));
}

TEST_CASE("interning gives one view per distinct name, from any thread") {
  const auto a = ebpfpub::intern_name(std::string("renameat2"));
  const auto b = ebpfpub::intern_name("renameat2");
  CHECK(a.data() == b.data());
  CHECK(a == "renameat2");
  CHECK(ebpfpub::intern_name("renameat").data() != a.data());
  std::string_view from_thread;
  std::thread([&] { from_thread = ebpfpub::intern_name(std::string("renameat2")); }).join();
  CHECK(from_thread.data() == a.data());
}
