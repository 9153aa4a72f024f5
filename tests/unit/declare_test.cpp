// Declarative serializers: plans derived from argument types, the checks every
// serializer passes, decoding of wrapper members and of NULL where NULL is allowed.
#include <cstring>

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <ebpfpub/registry.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_op;
using ebpfpub::capture_status;
using ebpfpub::length_source;
using ebpfpub::syscall_phase;

namespace {

struct rlimits : ebpfpub::declare<sys::prlimit64> {
  static constexpr std::string_view name = "rlimits";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, pid), (std::uint32_t, resource),
                             (ebpfpub::nullable<ebpfpub::in_struct<::rlimit64>>, new_rlim),
                             (ebpfpub::out_struct<::rlimit64>, old_rlim));
  };
};

struct short_write : ebpfpub::declare<sys::write> {
  static constexpr std::string_view name = "short_write";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::in_buffer<ebpfpub::length_arg<"count">, 4>, buf),
                             (std::uint64_t, count));
  };
};

struct accepted : ebpfpub::declare<sys::accept4> {
  static constexpr std::string_view name = "accepted";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::out_sockaddr<ebpfpub::length_at<"upeer_addrlen">>, upeer_sockaddr),
                             (ebpfpub::user_pointer, upeer_addrlen), (std::int32_t, flags));
  };
};

struct what_was_read : ebpfpub::declare<sys::read> {
  static constexpr std::string_view name = "what_was_read";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::out_buffer<ebpfpub::returned_length>, buf),
                             (std::uint64_t, count));
  };
};

// The long form, written for another syscall than the one it is traced for.
struct pasted_plan {
  static constexpr std::string_view name = "pasted";
  using args_type = sys::prlimit64::arguments;
  static ebpfpub::plan make_plan(const ebpfpub::plan_options& o) {
    return ebpfpub::make_generic_plan(ebpfpub::describe<sys::clock_nanosleep>(), o);
  }
};

// The long form, capturing argument 1 (resource, an integer) instead of 2 (new_rlim).
struct wrong_index {
  static constexpr std::string_view name = "wrong_index";
  using args_type = rlimits::args_type;
  static ebpfpub::plan make_plan(const ebpfpub::plan_options& o) {
    auto p = ebpfpub::make_generic_plan(ebpfpub::describe<sys::prlimit64>(), o);
    p.captures.push_back({.argument = 1, .op = capture_op::buffer, .max_bytes = 16});
    return p;
  }
};

// The long form reading old_rlim (an out_struct) at enter, and new_rlim with 8 bytes.
template <ebpfpub::syscall_phase When, std::uint32_t Bytes>
struct mistaken_capture {
  static constexpr std::string_view name = "mistaken";
  using args_type = rlimits::args_type;
  static ebpfpub::plan make_plan(const ebpfpub::plan_options& o) {
    auto p = ebpfpub::make_generic_plan(ebpfpub::describe<sys::prlimit64>(), o);
    p.captures.push_back({.argument = 3, .op = capture_op::buffer, .when = When, .max_bytes = Bytes});
    return p;
  }
};

}  // namespace

TEST_CASE("a declarative serializer's plan follows from its argument types", "[declare]") {
  auto p = ebpfpub::plan_for<sys::prlimit64, rlimits>({});
  if (!p) FAIL(p.error().what());
  CHECK(p->syscall.name == "prlimit64");
  CHECK(p->serializer_name == "rlimits");
  REQUIRE(p->captures.size() == 2);
  CHECK(p->captures[0] == ebpfpub::capture{.argument = 2, .op = capture_op::buffer,
                                           .when = syscall_phase::enter,
                                           .length = length_source::fixed, .max_bytes = 16,
                                           .nullable = true});
  CHECK(p->captures[1] == ebpfpub::capture{.argument = 3, .op = capture_op::buffer,
                                           .when = syscall_phase::exit,
                                           .length = length_source::fixed, .max_bytes = 16,
                                           .only_if_success = true});
}

TEST_CASE("length sources are addressed by the kernel's field names", "[declare]") {
  auto w = ebpfpub::plan_for<sys::write, short_write>({.data_size = 256});
  if (!w) FAIL(w.error().what());
  REQUIRE(w->captures.size() == 1);  // buf only: the generic string capture of buf is gone
  CHECK(w->captures[0] == ebpfpub::capture{.argument = 1, .op = capture_op::buffer,
                                           .when = syscall_phase::enter,
                                           .length = length_source::argument,
                                           .length_argument = 2, .max_bytes = 4});
  auto r = ebpfpub::plan_for<sys::read, what_was_read>({.data_size = 64});
  if (!r) FAIL(r.error().what());
  REQUIRE(r->captures.size() == 1);
  CHECK(r->captures[0] == ebpfpub::capture{.argument = 1, .op = capture_op::buffer,
                                           .when = syscall_phase::exit,
                                           .length = length_source::return_value,
                                           .max_bytes = 64, .only_if_success = true});
  auto a = ebpfpub::plan_for<sys::accept4, accepted>({});
  if (!a) FAIL(a.error().what());
  REQUIRE(a->captures.size() == 1);
  CHECK(a->captures[0] == ebpfpub::capture{.argument = 1, .op = capture_op::sockaddr,
                                           .when = syscall_phase::exit,
                                           .length = length_source::argument_pointer,
                                           .length_argument = 2, .max_bytes = 128,
                                           .only_if_success = true});
}

TEST_CASE("every generated signature and every shipped serializer passes the compile-time checks", "[declare]") {
  std::size_t checked = 0;
  sys::all::for_each([&]<typename S>() {
    STATIC_REQUIRE(ebpfpub::check_arguments<S, typename S::arguments>());
    ++checked;
  });
  ebpfpub::serializers::specialized::for_each([&]<typename S>() {
    STATIC_REQUIRE(ebpfpub::check_serializer<S>());
    ++checked;
  });
  CHECK(checked == sys::all::size + ebpfpub::serializers::specialized::size);
}

TEST_CASE("a hand-written plan for another syscall is an error naming both syscalls", "[declare]") {
  auto p = ebpfpub::plan_for<sys::prlimit64, pasted_plan>({});
  REQUIRE_FALSE(p);
  CHECK(p.error().message() ==
        "serializer 'pasted' for prlimit64 made a plan for clock_nanosleep: build it from "
        "describe<prlimit64>() (or derive the serializer from declare<prlimit64>)");
}

TEST_CASE("a hand-written capture of an argument whose member never reads it is an error naming the field", "[declare]") {
  auto p = ebpfpub::plan_for<sys::prlimit64, wrong_index>({});
  REQUIRE_FALSE(p);
  CHECK(p.error().message() ==
        "serializer 'wrong_index' for prlimit64: capture 0 reads argument 1 'resource', but "
        "args_type's member 'resource' is a value that never reads a capture; capture the "
        "argument whose member decodes it");
}

TEST_CASE("a NULL pointer where the kernel accepts NULL is not provided, not a probe error", "[declare]") {
  auto plan = ebpfpub::plan_for<sys::prlimit64, rlimits>({});
  REQUIRE(plan);
  const std::vector<ebpfpub::plan> plans{*plan};
  const ::rlimit64 old{512, 1024};
  std::string old_bytes(sizeof(old), '\0');
  std::memcpy(old_bytes.data(), &old, sizeof(old));

  SECTION("new_rlim NULL (nullable), old_rlim read") {
    ebpfpub::test::record_builder b(0, {0, 7, 0, 0x7ffd0010});
    b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
    b.capture(0, static_cast<std::uint8_t>(capture_status::null_pointer), "");
    b.capture(1, 0, old_bytes);
    auto r = ebpfpub::record_view::parse(b.bytes(), plans);
    if (!r) FAIL(r.error().what());
    CHECK_FALSE(r->header().probe_error);
    const auto args = ebpfpub::decode_for<rlimits>(*r);
    CHECK(args.resource == 7);
    CHECK_FALSE(args.new_rlim.provided());
    CHECK(args.new_rlim.status == capture_status::null_pointer);
    CHECK(args.old_rlim.address == 0x7ffd0010);
    CHECK(args.old_rlim.status == capture_status::ok);
    CHECK(args.old_rlim->rlim_cur == 512);
    CHECK(args.old_rlim->rlim_max == 1024);
  }
  SECTION("old_rlim NULL (not nullable here): a probe error") {
    ebpfpub::test::record_builder b(0, {0, 7, 0x7ffd0000, 0});
    b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
    b.capture(0, 0, old_bytes);
    b.capture(1, static_cast<std::uint8_t>(capture_status::null_pointer), "");
    auto r = ebpfpub::record_view::parse(b.bytes(), plans);
    if (!r) FAIL(r.error().what());
    CHECK(r->header().probe_error);
    const auto args = ebpfpub::decode_for<rlimits>(*r);
    CHECK(args.new_rlim->rlim_cur == 512);
    CHECK(args.old_rlim.status == capture_status::null_pointer);
  }
  SECTION("a short struct is truncated, never a partial value") {
    ebpfpub::test::record_builder b(0, {0, 7, 0x7ffd0000, 0x7ffd0010});
    b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
    b.capture(0, 0, old_bytes.substr(0, 8));
    b.capture(1, 0, old_bytes);
    auto r = ebpfpub::record_view::parse(b.bytes(), plans);
    if (!r) FAIL(r.error().what());
    const auto args = ebpfpub::decode_for<rlimits>(*r);
    CHECK(args.new_rlim.status == capture_status::truncated);
    CHECK(args.new_rlim->rlim_cur == 0);
  }
}

TEST_CASE("the registry serves a user's serializer by name and can be emptied again", "[declare]") {
  CHECK_FALSE(ebpfpub::find_serializer("prlimit64"));
  ebpfpub::register_serializer<sys::prlimit64, rlimits>();
  auto found = ebpfpub::find_serializer("prlimit64");
  REQUIRE(found);
  CHECK(found->serializer_name == "rlimits");
  auto p = found->make_plan({});
  REQUIRE(p);
  CHECK(p->captures.size() == 2);
  CHECK(ebpfpub::unregister_serializer("prlimit64"));
  CHECK_FALSE(ebpfpub::unregister_serializer("prlimit64"));
  CHECK_FALSE(ebpfpub::find_serializer("prlimit64"));
}

TEST_CASE("a hand-written capture of a wrapper member in the wrong phase or too short is an error", "[declare]") {
  auto at_enter = ebpfpub::plan_for<sys::prlimit64, mistaken_capture<syscall_phase::enter, 16>>({});
  REQUIRE_FALSE(at_enter);
  CHECK(at_enter.error().message() ==
        "serializer 'mistaken' for prlimit64: capture 0 reads 'old_rlim' at enter, but its "
        "member is read at exit (out_* wrappers hold what the kernel wrote, in_* what the "
        "caller passed)");
  auto too_short = ebpfpub::plan_for<sys::prlimit64, mistaken_capture<syscall_phase::exit, 8>>({});
  REQUIRE_FALSE(too_short);
  CHECK(too_short.error().message() ==
        "serializer 'mistaken' for prlimit64: capture 0 reads at most 8 bytes of 'old_rlim', "
        "but its member needs 16");
  CHECK(ebpfpub::plan_for<sys::prlimit64, mistaken_capture<syscall_phase::exit, 16>>({}));
}
