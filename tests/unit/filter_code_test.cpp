// Filter expressions in the generated code, without a kernel: where each part runs
// (enter before or after the captures, or exit), and that the module compiles.
#include "codegen/filter_code.hpp"

#include <catch2/catch.hpp>
#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/serializers/all.hpp>

#include "codegen/codegen.hpp"

namespace sys = ebpfpub::syscalls;
namespace filter = ebpfpub::filter;

namespace {

filter::checked_expression checked(const ebpfpub::plan& p, std::string_view text) {
  auto parsed = filter::parse(text);
  REQUIRE(parsed);
  auto c = filter::check(*parsed, p, text);
  if (!c) FAIL(c.error().message());
  // As the session gives it: the `and` of the syscall's filters.
  filter::checked_expression all;
  all.type = filter::expression::kind::all_of;
  all.at_enter = c->at_enter;
  all.operands.push_back(std::move(*c));
  return all;
}

// The text of function `name` in the module's IR.
std::string function_ir(const std::string& ir, const std::string& name) {
  const auto start = ir.find("@" + name + "(");
  REQUIRE(start != std::string::npos);
  return ir.substr(start, ir.find("\n}\n", start) - start);
}

}  // namespace

TEST_CASE("a filter splits at its top-level and: enter decides what it can, exit the rest") {
  const auto p = ebpfpub::serializer<sys::openat>::make_plan({});
  SECTION("a bit test at enter, the exit code at exit") {
    // The parser makes `a and b` one all_of: the session's `and` holds it.
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.flags & O_CREAT and exit_code == -ENOENT").operands.at(0), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(parts.enter->operands.size() == 1);
    CHECK(parts.exit->operands.size() == 1);
    CHECK(!ebpfpub::detail::reads_captures(*parts.enter));
  }
  SECTION("an or that needs the result waits for exit as a whole") {
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.filename startswith \"/etc/\" or exit_code == 0"), p);
    CHECK(!parts.enter);
    REQUIRE(parts.exit);
    CHECK(ebpfpub::detail::reads_captures(*parts.exit));
  }
  SECTION("a path test waits for exit, where a path enter could not read is read again") {
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.flags & O_CREAT and openat.filename startswith \"/etc/\"").operands.at(0), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(!ebpfpub::detail::reads_captures(*parts.enter));
    CHECK(ebpfpub::detail::reads_captures(*parts.exit));
  }
  SECTION("a filter's own and splits inside the session's and of the filters") {
    const auto parts = ebpfpub::detail::split_filter(checked(p, "openat.flags & O_CREAT and exit_code == -ENOENT"), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(parts.enter->operands.size() == 1);
    CHECK(parts.exit->operands.size() == 1);
  }
  SECTION("no filter, no parts") {
    filter::checked_expression none;
    none.type = filter::expression::kind::all_of;
    const auto parts = ebpfpub::detail::split_filter(none, p);
    CHECK(!parts.enter);
    CHECK(!parts.exit);
  }
}

TEST_CASE("a filter on numbers runs at enter before the captures, one on the path at exit") {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({})};
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11};
  maps.storage_fd.push_back(12);
  maps.storage_size.push_back(ebpfpub::detail::entry_size(plans[0], 4));
  const auto [text, at_enter] = GENERATE(table<std::string, bool>({
      {"openat.flags & O_CREAT", true},
      {"openat.filename endswith \".conf\"", false},
  }));
  INFO(text);
  ebpfpub::detail::codegen_options options{.keep_ir = true};
  options.expressions.push_back(checked(plans[0], text));
  auto code = ebpfpub::detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  const auto enter = function_ir(code->ir, "enter_openat");
  const auto exit = function_ir(code->ir, "exit_openat");
  // bpf_probe_read_user_str is helper 114.
  const auto capture = enter.find("inttoptr (i64 114 to ptr)");
  REQUIRE(capture != std::string::npos);
  if (at_enter) {
    // Blocks print in the order they were made: the rejection before the capture, and the
    // exit program releases an entry the enter program rejected (size 0) quietly.
    const auto rejected = enter.find("filtered:");
    REQUIRE(rejected != std::string::npos);
    CHECK(rejected < capture);
    CHECK(exit.find("kept_at_enter") != std::string::npos);
  } else {
    // The path may be one enter could not read (an untouched page): exit reads it again,
    // then decides.
    CHECK(enter.find("filtered:") == std::string::npos);
    CHECK(exit.find("filtered:") != std::string::npos);
  }
}
