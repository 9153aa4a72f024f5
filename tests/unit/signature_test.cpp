#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/keys.hpp>
#include <boost/hana/members.hpp>

#include <ebpfpub/syscalls.hpp>

namespace sys = ebpfpub::syscalls;
using ebpfpub::arg_kind;
using ebpfpub::classify_argument;

TEST_CASE("C type texts classify into kind, width and sign") {
  struct row {
    const char* type;
    const char* name;
    arg_kind kind;
    int width;
    bool is_signed;
  };
  const row rows[] = {
      {"int", "flags", arg_kind::integer, 4, true},
      {"unsigned int", "flags", arg_kind::integer, 4, false},
      {"unsigned long", "len", arg_kind::integer, 8, false},
      {"size_t", "count", arg_kind::integer, 8, false},
      {"umode_t", "mode", arg_kind::integer, 2, false},
      {"pid_t", "pid", arg_kind::integer, 4, true},
      {"loff_t", "pos", arg_kind::integer, 8, true},
      {"const clockid_t", "which_clock", arg_kind::integer, 4, true},
      {"const enum landlock_rule_type", "rule_type", arg_kind::integer, 4, false},
      {"int", "dfd", arg_kind::fd, 4, true},
      {"unsigned int", "fd", arg_kind::fd, 4, true},
      {"unsigned long", "fd", arg_kind::fd, 4, true},
      {"int", "fd_in", arg_kind::fd, 4, true},
      {"const int", "ruleset_fd", arg_kind::fd, 4, true},
      {"unsigned int", "nfds", arg_kind::integer, 4, false},
      {"const char *", "filename", arg_kind::user_string, 8, false},
      {"char *", "buf", arg_kind::user_buffer, 8, false},
      {"const void *", "buf", arg_kind::user_buffer, 8, false},
      {"unsigned char *", "vec", arg_kind::user_buffer, 8, false},
      {"struct sockaddr *", "uservaddr", arg_kind::user_sockaddr, 8, false},
      {"const char *const *", "argv", arg_kind::user_string_array, 8, false},
      {"struct stat *", "statbuf", arg_kind::user_pointer, 8, false},
      {"int *", "status", arg_kind::user_pointer, 8, false},
      {"cap_user_header_t", "header", arg_kind::user_pointer, 8, false},
      {"struct robust_list_head * *", "head_ptr", arg_kind::user_pointer, 8, false},
  };
  for (const auto& r : rows) {
    INFO(r.type << " " << r.name);
    const auto c = classify_argument(r.type, r.name);
    CHECK(c.kind == r.kind);
    CHECK(int{c.width} == r.width);
    CHECK(c.is_signed == r.is_signed);
    CHECK(c.known);
  }
  const auto unknown = classify_argument("frobnicator_t", "x");
  CHECK_FALSE(unknown.known);
  CHECK(unknown.kind == arg_kind::integer);
  CHECK(unknown.width == 8);
}

TEST_CASE("generated signatures are reflectable types whose members say what each argument is") {
  STATIC_REQUIRE(ebpfpub::syscall_signature<sys::openat>);
  STATIC_REQUIRE(sys::openat::name == "openat");
  STATIC_REQUIRE(std::is_same_v<decltype(sys::openat::arguments::dfd), ebpfpub::fd>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::openat::arguments::filename), ebpfpub::user_string>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::openat::arguments::flags), std::int32_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::openat::arguments::mode), std::uint16_t>);
  STATIC_REQUIRE(std::is_same_v<sys::openat::return_type, std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::read::arguments::count), std::uint64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::execve::arguments::argv), ebpfpub::user_string_array>);
  STATIC_REQUIRE(std::is_same_v<decltype(sys::connect::arguments::uservaddr), ebpfpub::user_sockaddr>);
  STATIC_REQUIRE(sys::getpid::layout.size() == 0);
  STATIC_REQUIRE(sys::all::size > 300);

  // Members are reachable through Boost.Hana, in argument order.
  sys::openat::arguments args{};
  args.flags = 0x241;
  args.mode = 0644;
  const auto members = boost::hana::members(args);
  CHECK(boost::hana::at_c<2>(members) == 0x241);
  CHECK(boost::hana::at_c<3>(members) == 0644);
  CHECK(boost::hana::to<const char*>(boost::hana::at_c<1>(boost::hana::keys(args))) ==
        std::string_view("filename"));
}

namespace {

// Each signature's compile-time facts, gathered once, so the checks run in a plain loop
// instead of 360 compiled copies of Catch's assertions.
struct compiled_signature {
  std::string_view name;
  std::span<const ebpfpub::argument_layout> layout;
  std::vector<std::string_view> keys;  // Boost.Hana's member names
};

std::vector<compiled_signature> compiled_signatures() {
  std::vector<compiled_signature> all;
  sys::all::for_each([&]<typename S>() {
    static_assert(ebpfpub::syscall_signature<S>);
    auto& s = all.emplace_back(compiled_signature{S::name, S::layout, {}});
    boost::hana::for_each(boost::hana::keys(typename S::arguments{}), [&](auto key) {
      s.keys.push_back(boost::hana::to<const char*>(key));
    });
  });
  return all;
}

}  // namespace

TEST_CASE("every generated signature is laid out like a syscall record") {
  const auto all = compiled_signatures();
  CHECK(all.size() == sys::all::size);
  for (const auto& s : all) {
    INFO(s.name);
    CHECK(s.layout.size() <= 6);
    std::uint32_t offset = 16;
    for (const auto& a : s.layout) {
      CHECK(a.offset == offset);
      CHECK(a.size == 8);
      offset += 8;
    }
    // Boost.Hana sees one member per argument, named as the kernel's field (or its
    // C++-safe spelling).
    REQUIRE(s.keys.size() == s.layout.size());
    for (std::size_t i = 0; i < s.keys.size(); ++i)
      CHECK((s.keys[i] == s.layout[i].name || s.keys[i] == std::string(s.layout[i].name) + "_"));
  }
}

namespace {

ebpfpub::tracepoint_format format_of(std::string name,
                                     std::vector<ebpfpub::format_field> payload) {
  ebpfpub::tracepoint_format f{std::move(name), 1, {{"int", "common_pid", 4, 4, true},
                                                    {"int", "__syscall_nr", 8, 4, true}}};
  f.fields.insert(f.fields.end(), payload.begin(), payload.end());
  return f;
}

}  // namespace

TEST_CASE("validate accepts a matching kernel and names the field that differs") {
  const auto exit = format_of("sys_exit_openat", {{"long", "ret", 16, 8, true}});
  auto enter = format_of("sys_enter_openat", {{"int", "dfd", 16, 8, false},
                                              {"const char *", "filename", 24, 8, false},
                                              {"int", "flags", 32, 8, false},
                                              {"umode_t", "mode", 40, 8, false}});
  CHECK(ebpfpub::validate("openat", sys::openat::layout, enter, exit));

  SECTION("a renamed field") {
    enter.fields[3].name = "pathname";
    auto result = ebpfpub::validate("openat", sys::openat::layout, enter, exit);
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == ebpfpub::errc::mismatch);
    CHECK(result.error().message().starts_with(
        "openat: argument 1 is 'filename' at offset 24 size 8 in the signature but 'pathname' "
        "at offset 24 size 8 in the running kernel's sys_enter_openat; the compiled-in "
        "signature of 'openat' was generated for another kernel"));
  }
  SECTION("a missing field") {
    enter.fields.pop_back();
    auto result = ebpfpub::validate("openat", sys::openat::layout, enter, exit);
    REQUIRE_FALSE(result);
    CHECK(result.error().message().starts_with(
        "openat: argument 3 'mode' is missing from the running kernel's sys_enter_openat"));
  }
  SECTION("an extra field") {
    enter.fields.push_back({"int", "extra", 48, 8, false});
    auto result = ebpfpub::validate("openat", sys::openat::layout, enter, exit);
    REQUIRE_FALSE(result);
    CHECK(result.error().message().starts_with(
        "openat: the running kernel's sys_enter_openat has an extra argument 'extra'"));
  }
}

TEST_CASE("describe_syscall builds the same description from formats as from the type") {
  const auto exit = format_of("sys_exit_openat", {{"long", "ret", 16, 8, true}});
  const auto enter = format_of("sys_enter_openat", {{"int", "dfd", 16, 8, false},
                                                    {"const char *", "filename", 24, 8, false},
                                                    {"int", "flags", 32, 8, false},
                                                    {"umode_t", "mode", 40, 8, false}});
  auto runtime = ebpfpub::describe_syscall("openat", enter, exit);
  REQUIRE(runtime);
  const auto compiled = ebpfpub::describe<sys::openat>();
  CHECK(runtime->name == compiled.name);
  CHECK(runtime->arguments == compiled.arguments);
  CHECK(runtime->return_offset == 16);
}
