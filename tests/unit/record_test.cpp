// Decoding hand-built records, well-formed and not.
#include <catch2/catch.hpp>

#include <ebpfpub/event.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::record_view;
using ebpfpub::test::record_builder;

namespace {

const std::vector<ebpfpub::plan>& plans() {
  static const std::vector<ebpfpub::plan> p{ebpfpub::serializer<sys::openat>::make_plan({.string_size = 64}),
                                            ebpfpub::serializer<sys::exit_group>::make_plan({})};
  return p;
}

// openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC, 0) as the kernel's slots hold it:
// an int argument arrives zero-extended (-100 is 0x00000000ffffff9c).
record_builder openat_record() {
  return record_builder(0, {0xffffff9c, 0x7ffd0000, 0x80000, 0});
}

std::string error_of(std::vector<std::uint8_t> bytes) {
  auto r = record_view::parse(bytes, plans());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ebpfpub::errc::malformed_input);
  return r.error().message();
}

}  // namespace

TEST_CASE("a well-formed record decodes into a typed event") {
  auto b = openat_record();
  b.capture(0, 0, "/etc/passwd");
  auto r = record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const auto& h = r->header();
  CHECK(h.timestamp == 123456789);
  CHECK(h.process_id == 100);
  CHECK(h.thread_id == 101);
  CHECK(h.user_id == 1000);
  CHECK(h.group_id == 1001);
  CHECK(h.exit_code == -2);
  CHECK(h.duration_ns == 4321);
  CHECK(h.syscall == "openat");
  CHECK_FALSE(h.probe_error);
  CHECK_FALSE(h.sent_at_enter);

  const auto args = ebpfpub::serializer<sys::openat>::decode(*r);
  CHECK(args.dfd.value == -100);
  CHECK(args.filename.value == "/etc/passwd");
  CHECK(args.filename.address == 0x7ffd0000);
  CHECK(args.filename.status == capture_status::ok);
  CHECK(args.flags == 0x80000);
  CHECK(args.mode == 0);
}

TEST_CASE("the dynamic view keeps each argument's C sign and width") {
  auto b = openat_record();
  b.capture(0, 0, "x");
  auto r = record_view::parse(b.bytes(), plans());
  REQUIRE(r);
  const auto e = ebpfpub::decode_dynamic(*r);
  REQUIRE(e.args.size() == 4);
  CHECK(e.args[0].name == "dfd");
  CHECK(std::get<ebpfpub::fd>(e.args[0].value).value == -100);
  CHECK(std::get<ebpfpub::user_string>(e.args[1].value).value == "x");
  CHECK(std::get<std::int64_t>(e.args[2].value) == 0x80000);
  CHECK(std::get<std::uint64_t>(e.args[3].value) == 0);
}

TEST_CASE("a signed int argument of -1 decodes as -1, not 4294967295") {
  record_builder b(0, {0xffffff9c, 0, 0xffffffff, 0xffff});
  auto r = record_view::parse(b.bytes(), plans());
  REQUIRE(r);
  const auto e = ebpfpub::decode_dynamic(*r);
  CHECK(std::get<std::int64_t>(e.args[2].value) == -1);
  CHECK(std::get<std::uint64_t>(e.args[3].value) == 0xffff);  // umode_t: 16 bits
}

TEST_CASE("capture statuses reach the argument and set probe_error") {
  auto b = openat_record();
  b.capture(0, static_cast<std::uint8_t>(capture_status::fault), "");
  auto r = record_view::parse(b.bytes(), plans());
  REQUIRE(r);
  CHECK(r->header().probe_error);
  CHECK(ebpfpub::serializer<sys::openat>::decode(*r).filename.status == capture_status::fault);
}

TEST_CASE("a capture the entry had no room for decodes as no_space") {
  auto b = openat_record();
  auto r = record_view::parse(b.bytes(), plans());
  REQUIRE(r);
  CHECK(r->header().probe_error);
  CHECK(ebpfpub::serializer<sys::openat>::decode(*r).filename.status == capture_status::no_space);
}

TEST_CASE("a record sent at enter has no exit code and no error for its missing exit captures") {
  record_builder b(1, {3}, ebpfpub::record::sent_at_enter);
  auto r = record_view::parse(b.bytes(), plans());
  REQUIRE(r);
  CHECK(r->header().sent_at_enter);
  CHECK(r->header().syscall == "exit_group");
  CHECK_FALSE(r->header().probe_error);
}

TEST_CASE("malformed records are errors that say what is wrong") {
  using ebpfpub::record::offset::size;
  SECTION("shorter than the header") {
    CHECK(error_of(std::vector<std::uint8_t>(12, 0)) ==
          "malformed event record: 12 bytes, shorter than the 48-byte header");
  }
  SECTION("a size field larger than the bytes") {
    auto b = openat_record();
    b.put<std::uint32_t>(size, 4000);
    CHECK(error_of(b.bytes()) == "malformed event record: size field 4000 outside [48, 80]");
  }
  SECTION("a syscall index out of range") {
    auto b = openat_record();
    b.put<std::uint16_t>(ebpfpub::record::offset::syscall, 7);
    CHECK(error_of(b.bytes()) == "malformed event record: syscall index 7 but the session has 2 syscalls");
  }
  SECTION("a wrong argument count") {
    auto b = openat_record();
    b.put<std::uint8_t>(ebpfpub::record::offset::argument_count, 6);
    CHECK(error_of(b.bytes()) == "malformed event record: 6 arguments for openat, which has 4");
  }
  SECTION("unknown flags") {
    auto b = openat_record();
    b.put<std::uint8_t>(ebpfpub::record::offset::flags, 0x80);
    CHECK(error_of(b.bytes()) == "malformed event record: unknown flags 0x80");
  }
  SECTION("a capture index the plan does not have") {
    auto b = openat_record();
    b.capture(3, 0, "x");
    CHECK(error_of(b.bytes()) == "malformed event record: capture 3 at offset 80, but the plan has 1");
  }
  SECTION("a capture longer than its limit") {
    auto b = openat_record();
    b.capture(0, 0, std::string(65, 'x'));
    CHECK(error_of(b.bytes()) == "malformed event record: capture 0 has 65 bytes, over its limit of 64");
  }
  SECTION("a capture that overruns the record") {
    auto b = openat_record();
    b.capture(0, 0, "abcdefgh");
    b.put<std::uint32_t>(80 + 4, 60);
    CHECK(error_of(b.bytes()) ==
          "malformed event record: capture 0 of 60 bytes at offset 80 overruns the 96-byte record");
  }
  SECTION("a capture twice") {
    auto b = openat_record();
    b.capture(0, 0, "a").capture(0, 0, "b");
    CHECK(error_of(b.bytes()) == "malformed event record: capture 0 appears twice");
  }
  SECTION("an unknown status") {
    auto b = openat_record();
    b.capture(0, 9, "a");
    CHECK(error_of(b.bytes()) == "malformed event record: capture 0 has unknown status 9");
  }
  SECTION("stray bytes after the captures") {
    auto b = openat_record();
    b.bytes().resize(b.bytes().size() + 4);
    b.put<std::uint32_t>(size, static_cast<std::uint32_t>(b.bytes().size()));
    CHECK(error_of(b.bytes()) == "malformed event record: 4 stray bytes at offset 80");
  }
  SECTION("every truncation of a valid record") {
    auto b = openat_record();
    b.capture(0, 0, "/etc/passwd");
    const auto full = b.bytes();
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_FALSE(record_view::parse(cut, plans()));
    }
  }
}
