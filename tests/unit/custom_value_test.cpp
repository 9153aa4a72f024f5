// A user's own argument type prints in text and JSON through one describe_value, and
// reaches dynamic_event.
#include <catch2/catch.hpp>

#include <ebpfpub/ebpfpub.hpp>

#include "support/record_builder.hpp"

namespace user {

struct permissions {
  std::uint16_t bits = 0;
  bool sticky = false;
  friend bool operator==(const permissions&, const permissions&) = default;
};

// The hook: one function, found by ADL, for every printer.
void describe_value(ebpfpub::value_writer& w, const permissions& p) {
  w.begin_object();
  w.field("bits", p.bits);
  w.field("sticky", p.sticky);
  w.key("names");
  w.begin_array();
  if (p.bits & 0400) w.value("owner-read");
  if (p.bits & 0004) w.value("other-read");
  w.end_array();
  w.end_object();
}

// mkdir's arguments with a custom member where the mode is.
struct mkdir_args {
  BOOST_HANA_DEFINE_STRUCT(mkdir_args, (ebpfpub::user_string, pathname), (permissions, mode));
};

}  // namespace user

namespace {
namespace sys = ebpfpub::syscalls;
}

TEST_CASE("a custom argument type prints in text and JSON through describe_value and reaches dynamic_event") {
  const std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::mkdir>::make_plan({})};
  auto b = ebpfpub::test::record_builder(0, {0x7ffd0000, 0644});
  b.capture(0, 0, "/tmp/d");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans);
  if (!r) FAIL(r.error().what());
  const user::mkdir_args args{ebpfpub::user_string{0x7ffd0000, "/tmp/d", ebpfpub::capture_status::ok},
                              user::permissions{0644, true}};
  const ebpfpub::basic_event<user::mkdir_args> typed{r->header(), args};

  const auto line2 = "syscall: mkdir mode: {bits: 420, sticky: true, names: ['owner-read', 'other-read']} "
                     "pathname: '/tmp/d'";
  const auto text = fmt::format("{}", typed);
  CHECK(text.substr(text.find('\n') + 1) == line2);
  CHECK(ebpfpub::to_json(typed).ends_with(
      R"("args":{"pathname":"/tmp/d","mode":{"bits":420,"sticky":true,"names":["owner-read","other-read"]}}})"));

  const auto dynamic = ebpfpub::to_dynamic(*r, args);
  REQUIRE(dynamic.args.size() == 2);
  CHECK(dynamic.args[1].name == "mode");
  const auto* custom = std::get_if<ebpfpub::custom_value>(&dynamic.args[1].value);
  REQUIRE(custom != nullptr);
  REQUIRE(custom->get<user::permissions>() != nullptr);
  CHECK(*custom->get<user::permissions>() == user::permissions{0644, true});
  CHECK(custom->get<int>() == nullptr);
  CHECK(fmt::format("{}", dynamic) == text);
  CHECK(ebpfpub::to_json(dynamic) == ebpfpub::to_json(typed));
}

TEST_CASE("a Hana struct member prints member by member without a hook") {
  struct pair_args {
    BOOST_HANA_DEFINE_STRUCT(pair_args, (std::int32_t, lo), (std::uint64_t, hi));
  };
  ebpfpub::custom_value v(pair_args{-1, 2});
  CHECK(fmt::format("{}", v) == "{lo: -1, hi: 2}");
  fmt::memory_buffer out;
  ebpfpub::append_json(out, ebpfpub::dynamic_value(v));
  CHECK(fmt::to_string(out) == R"({"lo":-1,"hi":2})");
  STATIC_REQUIRE(ebpfpub::describable<user::permissions>);
  STATIC_REQUIRE_FALSE(ebpfpub::describable<std::FILE>);
}
