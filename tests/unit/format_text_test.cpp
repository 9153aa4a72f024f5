// The seed's text through fmt: events, headers and every argument type.
#include <catch2/catch.hpp>

#include <ebpfpub/ebpfpub.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::test::record_builder;

namespace {

const std::vector<ebpfpub::plan>& plans() {
  static const std::vector<ebpfpub::plan> p{ebpfpub::serializer<sys::mkdir>::make_plan({}),
                                            ebpfpub::serializer<sys::openat>::make_plan({})};
  return p;
}

}  // namespace

TEST_CASE("fmt::format of an event gives the seed's two lines") {
  auto b = record_builder(0, {0x7ffd0000, 0777});
  b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
  b.capture(0, 0, "/tmp/x");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const auto dynamic = ebpfpub::decode_dynamic(*r);
  const std::string seed =
      "timestamp: 123456789 process_id: 100 thread_id: 101 user_id: 1000 group_id: 1001 exit_code: 0 "
      "probe_error: 0\n"
      "syscall: mkdir mode: 511 pathname: '/tmp/x'";
  CHECK(fmt::format("{}", dynamic) == seed);
  const ebpfpub::event<sys::mkdir> typed{r->header(), ebpfpub::serializer<sys::mkdir>::decode(*r)};
  CHECK(fmt::format("{}", typed) == seed);
  CHECK(fmt::format("{}", typed.header) == seed.substr(0, seed.find('\n')));
}

TEST_CASE("the spec d adds the call's duration to the seed's first line, except at enter") {
  auto b = record_builder(0, {0x7ffd0000, 0777});
  b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
  b.put<std::uint64_t>(ebpfpub::record::offset::duration, 20000321);
  b.capture(0, 0, "/tmp/x");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const auto dynamic = ebpfpub::decode_dynamic(*r);
  const std::string timed =
      "timestamp: 123456789 process_id: 100 thread_id: 101 user_id: 1000 group_id: 1001 exit_code: 0 "
      "probe_error: 0 duration_ns: 20000321\n"
      "syscall: mkdir mode: 511 pathname: '/tmp/x'";
  CHECK(fmt::format("{:d}", dynamic) == timed);
  const ebpfpub::event<sys::mkdir> typed{r->header(), ebpfpub::serializer<sys::mkdir>::decode(*r)};
  CHECK(fmt::format("{:d}", typed) == timed);
  CHECK(fmt::format("{:d}", typed.header) == timed.substr(0, timed.find('\n')));
  fmt::memory_buffer out;
  ebpfpub::append_text(out, dynamic, {.duration = true});
  CHECK(fmt::to_string(out) == timed);

  // exit and exit_group never return: no duration, even when asked for.
  auto at_enter = dynamic.header;
  at_enter.sent_at_enter = true;
  at_enter.duration_ns = 0;
  CHECK(fmt::format("{:d}", at_enter) ==
        "timestamp: 123456789 process_id: 100 thread_id: 101 user_id: 1000 group_id: 1001 exit_code: 0 "
        "probe_error: 0");
}

TEST_CASE("openat's flags and mode read as C spells them, and a failed capture says how") {
  auto b = record_builder(1, {0xffffff9c, 0x7ffd0000, 04011101, 0644});
  b.capture(0, 3, "");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const ebpfpub::event<sys::openat> typed{r->header(), ebpfpub::serializer<sys::openat>::decode(*r)};
  const auto expected =
      "timestamp: 123456789 process_id: 100 thread_id: 101 user_id: 1000 group_id: 1001 exit_code: -2 "
      "probe_error: 1\n"
      "syscall: openat dfd: -100 filename: <bad pointer 0x7ffd0000> "
      "flags: O_WRONLY|O_CREAT|O_TRUNC|O_SYNC mode: 0644";
  CHECK(fmt::format("{}", typed) == expected);
  CHECK(fmt::format("{}", ebpfpub::decode_dynamic(*r)) == expected);
}

TEST_CASE("each argument type formats alone as the event line shows it") {
  CHECK(fmt::format("{}", ebpfpub::fd{-100}) == "-100");
  CHECK(fmt::format("{}", ebpfpub::user_pointer{0x1000}) == "0x1000");
  CHECK(fmt::format("{}", ebpfpub::user_string{1, "it's \x1b[2J\n", capture_status::ok}) ==
        R"('it\'s \x1b[2J\n')");
  CHECK(fmt::format("{}", ebpfpub::user_string{1, "abc", capture_status::truncated}) == "'abc'(truncated)");
  CHECK(fmt::format("{}", ebpfpub::user_string{0, "", capture_status::null_pointer}) == "NULL");
  CHECK(fmt::format("{}", ebpfpub::user_string{0x20, "", capture_status::not_captured}) == "0x20");
  CHECK(fmt::format("{}", ebpfpub::user_buffer{0x20, {}, capture_status::no_space}) ==
        "<storage exhausted 0x20>");
  CHECK(fmt::format("{}", ebpfpub::user_buffer{0x20, {'h', 'i', 0}, capture_status::ok}) == R"('hi\x00')");
  CHECK(fmt::format("{}", ebpfpub::user_string_array{1, {"ls", "-l"}, capture_status::truncated}) ==
        "['ls', '-l'](truncated)");
  CHECK(fmt::format("{}", ebpfpub::fd_pair{1, 3, 4, capture_status::ok}) == "[3, 4]");
  CHECK(fmt::format("{}", ebpfpub::open_how{1, 02000002, 0600, 0x8, capture_status::ok}) ==
        "{flags: O_RDWR|O_CLOEXEC, mode: 0600, resolve: 0x8}");
  CHECK(fmt::format("{}", ebpfpub::clone_args{1, 0x100, 17, capture_status::ok}) ==
        "{flags: 0x100, exit_signal: 17}");
  CHECK(fmt::format("{}", ebpfpub::user_sockaddr{1, {2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
                                                  capture_status::ok}) == "{AF_INET 127.0.0.1:8080}");
  CHECK(fmt::format("{}", ebpfpub::user_sockaddr{1, {1, 0, '/', 's'}, capture_status::ok}) == "{AF_UNIX '/s'}");
  CHECK(fmt::format("{}", ebpfpub::socket_address{.family = 10, .address = "::1", .port = 53}) ==
        "{AF_INET6 [::1]:53}");
  CHECK(fmt::format("{}", capture_status::fault) == "bad pointer");
}

TEST_CASE("open flags and modes have names for library users") {
  CHECK(ebpfpub::open_flags_name(0) == "O_RDONLY");
  CHECK(ebpfpub::open_flags_name(02101) == "O_WRONLY|O_CREAT|O_APPEND");
  CHECK(ebpfpub::open_flags_name(020200000) == "O_RDONLY|O_TMPFILE");
  CHECK(ebpfpub::open_flags_name(010000) == "O_RDONLY|O_DSYNC");
  CHECK(ebpfpub::open_flags_name(040000000000) == "O_RDONLY|0x100000000");
  CHECK(ebpfpub::mode_name(0) == "0");
  CHECK(ebpfpub::mode_name(0755) == "0755");
}

TEST_CASE("terminal escaping keeps printable ASCII and escapes every other byte") {
  CHECK(ebpfpub::terminal_escape("a b~") == "a b~");
  CHECK(ebpfpub::terminal_escape("\\'\t\n\r\x7f\xc3\xa9") == R"(\\\'\t\n\x0d\x7f\xc3\xa9)");
  CHECK(ebpfpub::json_text("\xc3\xa9\xff") == "\xc3\xa9\\xff");
  const std::vector<std::uint8_t> man{'M', 'a', 'n'};
  CHECK(ebpfpub::base64(man) == "TWFu");
  CHECK(ebpfpub::base64(std::span(man).first(1)) == "TQ==");
}
