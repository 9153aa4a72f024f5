// The filter language: what parses, what it means against a syscall's plan, and how a
// mistake is pointed at.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <fmt/format.h>

#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/serializers/all.hpp>

namespace sys = ebpfpub::syscalls;
namespace filter = ebpfpub::filter;
using filter::comparison_op;
using source = filter::operand_source::kind;

namespace {

template <typename S>
ebpfpub::plan plan_of() {
  return ebpfpub::serializer<S>::make_plan({});
}

template <typename S>
filter::checked_expression checked(std::string_view text) {
  auto parsed = filter::parse(text);
  INFO(text);
  REQUIRE(parsed);
  auto c = filter::check(*parsed, plan_of<S>(), text);
  if (!c) FAIL(c.error().message());
  return *c;
}

template <typename S>
std::string check_error(std::string_view text) {
  auto parsed = filter::parse(text);
  if (!parsed) return parsed.error().message();
  auto c = filter::check(*parsed, plan_of<S>(), text);
  return c ? std::string("<no error>") : c.error().message();
}

std::string parse_error(std::string_view text) {
  auto parsed = filter::parse(text);
  return parsed ? std::string("<no error>") : parsed.error().message();
}

}  // namespace

TEST_CASE("a path prefix is a string comparison decided at enter") {
  const auto c = checked<sys::openat>(R"(openat.filename startswith "/etc/")");
  CHECK(c.type == filter::expression::kind::comparison);
  CHECK(c.test.source.type == source::string_capture);
  CHECK(c.test.source.argument == 1);
  CHECK(c.test.op == comparison_op::starts_with);
  CHECK(c.test.operand.text == "/etc/");
  CHECK(c.at_enter);
}

TEST_CASE("flag constants and errno names become numbers; a result makes the filter wait for exit") {
  const auto c = checked<sys::openat>("openat.flags & O_CREAT|O_EXCL and exit_code == -ENOENT");
  REQUIRE(c.type == filter::expression::kind::all_of);
  REQUIRE(c.operands.size() == 2);
  CHECK(c.operands[0].test.op == comparison_op::bits);
  CHECK(c.operands[0].test.operand.integer == (0100 | 0200));
  CHECK(c.operands[0].test.source.width == 4);
  CHECK(c.operands[1].test.source.type == source::exit_code);
  CHECK(c.operands[1].test.operand.integer == -2);
  CHECK_FALSE(c.at_enter);
  CHECK(c.operands[0].at_enter);
}

TEST_CASE("socket addresses: port, family and address blocks in IPv4 and IPv6") {
  const auto c = checked<sys::connect>(
      "connect.uservaddr.port == 443 or connect.uservaddr.address in 10.0.0.0/8 or "
      "connect.uservaddr.address in {::1, fd00::/8} or connect.uservaddr.family == AF_INET6");
  REQUIRE(c.operands.size() == 4);
  CHECK(c.operands[0].test.source.type == source::sockaddr_port);
  CHECK(c.operands[0].test.operand.integer == 443);
  const auto& block = c.operands[1].test.operand.block;
  CHECK(block.family == AF_INET);
  CHECK(block.prefix == 8);
  CHECK(block.bytes[0] == 10);
  const auto& v6 = c.operands[2].test.operand.items;
  REQUIRE(v6.size() == 2);
  CHECK(v6[0].block.family == AF_INET6);
  CHECK(v6[0].block.prefix == 128);
  CHECK(v6[0].block.bytes[15] == 1);
  CHECK(v6[1].block.prefix == 8);
  CHECK(v6[1].block.bytes[0] == 0xfd);
  CHECK(c.operands[3].test.operand.integer == AF_INET6);
}

TEST_CASE("suffixes, sets, negation and parentheses") {
  const auto exec = checked<sys::execve>(R"(execve.filename endswith "/curl")");
  CHECK(exec.test.op == comparison_op::ends_with);
  const auto set = checked<sys::openat>(R"(not (openat.filename in {"/etc/passwd", "/etc/shadow"}) and openat.flags in {O_RDONLY, O_WRONLY|O_CLOEXEC})");
  REQUIRE(set.operands.size() == 2);
  CHECK(set.operands[0].type == filter::expression::kind::negation);
  CHECK(set.operands[0].operands[0].test.operand.items.size() == 2);
  CHECK(set.operands[1].test.operand.items[1].integer == (01 | 02000000));
  const auto signs = checked<sys::kill>("kill.sig == SIGTERM and kill.pid < -1 and comm == \"bash\"");
  CHECK(signs.operands[0].test.operand.integer == 15);
  CHECK(signs.operands[1].test.operand.integer == -1);
  CHECK(signs.operands[1].test.source.is_signed);
  CHECK(signs.operands[2].test.source.type == source::comm);
}

TEST_CASE("a header-only filter applies to every syscall; one filter names one syscall") {
  auto uid = filter::parse("uid != 0 and pid == 1234");
  REQUIRE(uid);
  CHECK(filter::syscall_of(*uid, "uid != 0 and pid == 1234").value().empty());
  CHECK(checked<sys::getppid>("uid != 0 and pid == 1234").at_enter);
  const std::string two = "openat.flags & 1 or connect.fd == 3";
  auto both = filter::parse(two);
  REQUIRE(both);
  const auto named = filter::syscall_of(*both, two);
  REQUIRE_FALSE(named);
  CHECK(named.error().message().find("names openat and connect") != std::string::npos);
}

TEST_CASE("errors point at the expression with a caret") {
  CHECK(check_error<sys::openat>(R"(openat.filenme startswith "/etc/")") ==
        "filter: openat has no field filenme (its fields: dfd, filename, flags, mode, pid, tid, uid, gid, comm, "
        "exit_code)\n  openat.filenme startswith \"/etc/\"\n  ^^^^^^^^^^^^^^");
  CHECK(check_error<sys::openat>(R"(openat.flags startswith "x")").starts_with(
      "filter: flags is a number: this comparison does not apply to it"));
  CHECK(check_error<sys::openat>("openat.filename == 3").starts_with("filter: filename is a string"));
  CHECK(check_error<sys::openat>("openat.flags & O_CREATT") ==
        "filter: unknown constant O_CREATT (did you mean O_CREAT?)\n  openat.flags & O_CREATT\n                 ^^^^^^^^");
  CHECK(check_error<sys::connect>("connect.uservaddr == 3").starts_with(
      "filter: connect.uservaddr is a socket address: compare its family, port or address"));
  CHECK(check_error<sys::connect>("connect.uservaddr.address == 443").starts_with(
      "filter: uservaddr.address is an address"));
  CHECK(check_error<sys::getppid>("user == 3").starts_with("filter: unknown field user"));
  CHECK(parse_error("uid ==") == "filter: expected a value (a number, a constant, a \"string\" or an address), "
                                 "found the end\n  uid ==\n        ^");
  CHECK(parse_error("uid == 1 uid").starts_with("filter: expected 'and', 'or' or the end, found 'uid'"));
  CHECK(parse_error("(uid == 1").starts_with("filter: expected ')'"));
  CHECK(parse_error("uid == \"open").starts_with("filter: the string is not closed"));
  CHECK(parse_error("uid ~ 3").starts_with("filter: unexpected character '~'"));
  CHECK(parse_error("connect.uservaddr.address in 10.0.0.0/33").starts_with("filter: expected an IPv4 or IPv6"));
}

TEST_CASE("strings are bounded: at the bound they pass, one byte past it they are named") {
  const std::string at_bound(filter::max_string_bytes, 'a');
  CHECK(checked<sys::openat>("openat.filename startswith \"" + at_bound + "\"").test.operand.text == at_bound);
  CHECK(check_error<sys::openat>("openat.filename endswith \"" + at_bound + "a\"")
            .starts_with(fmt::format("filter: the string is {} bytes; a filter compares at most {}",
                                     filter::max_string_bytes + 1, filter::max_string_bytes)));
  CHECK(check_error<sys::openat>("comm == \"0123456789abcdefg\"").starts_with("filter: the string is 17 bytes"));
}

TEST_CASE("deep nesting and big sets parse without trouble, within limits") {
  std::string deep = std::string(200, '(') + "uid == 0" + std::string(200, ')');
  CHECK(parse_error(deep).starts_with("filter: nested more than 64 deep"));
  std::string set = "openat.filename in {";
  for (int i = 0; i < 1000; ++i) set += fmt::format("{}\"/etc/f{}\"", i ? ", " : "", i);
  set += "}";
  CHECK(checked<sys::openat>(set).test.operand.items.size() == 1000);
}
