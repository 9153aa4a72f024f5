#include <catch2/catch.hpp>

#include <string>

#include <ebpfpub/tracefs.hpp>

using ebpfpub::format_field;
using ebpfpub::parse_tracepoint_format;

namespace {

constexpr const char* openat_format =
    "name: sys_enter_openat\n"
    "ID: 782\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
    "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
    "\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
    "\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n"
    "\n"
    "print fmt: \"dfd: 0x%08lx, filename: 0x%08lx\", ((unsigned long)(REC->dfd))\n";

std::string error_of(std::string_view text) {
  auto parsed = parse_tracepoint_format(text, "test/format");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code() == ebpfpub::errc::malformed_input);
  return parsed.error().message();
}

std::string with_field(std::string_view field_line) {
  return std::string("name: x\nID: 1\nformat:\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n") +
         std::string(field_line) + "\n";
}

}  // namespace

TEST_CASE("a syscall format parses into its name, id and every field in record order") {
  auto parsed = parse_tracepoint_format(openat_format, "openat/format");
  REQUIRE(parsed);
  CHECK(parsed->name == "sys_enter_openat");
  CHECK(parsed->id == 782);
  REQUIRE(parsed->fields.size() == 9);
  CHECK(parsed->fields[0] == format_field{"unsigned short", "common_type", 0, 2, false});
  CHECK(parsed->fields[3] == format_field{"int", "common_pid", 4, 4, true});
  CHECK(parsed->fields[4] == format_field{"int", "__syscall_nr", 8, 4, true});
  CHECK(parsed->fields[6] == format_field{"const char *", "filename", 24, 8, false});
  CHECK(parsed->fields[8] == format_field{"umode_t", "mode", 40, 8, false});
}

TEST_CASE("payload() is the fields after the common ones and __syscall_nr") {
  auto parsed = parse_tracepoint_format(openat_format, "openat/format");
  REQUIRE(parsed);
  auto payload = parsed->payload();
  REQUIRE(payload.size() == 4);
  CHECK(payload.front().name == "dfd");
  CHECK(payload.back().name == "mode");
  CHECK(parsed->find("filename")->offset == 24);
  CHECK(parsed->find("nope") == nullptr);
}

TEST_CASE("array and __data_loc declarations keep the brackets in the type") {
  auto parsed = parse_tracepoint_format(
      with_field("\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:1;\n"
                 "\tfield:__data_loc char[] name;\toffset:24;\tsize:4;\tsigned:1;"),
      "f");
  REQUIRE(parsed);
  CHECK(parsed->fields[1] == format_field{"char[16]", "comm", 8, 16, true});
  CHECK(parsed->fields[2] == format_field{"__data_loc char[]", "name", 24, 4, true});
}

TEST_CASE("malformed format files are rejected with the file and line in the message") {
  SECTION("no name line") {
    CHECK(error_of("ID: 1\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n") ==
          "test/format: no 'name:' line");
  }
  SECTION("no ID line") {
    CHECK(error_of("name: x\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n") ==
          "test/format: no 'ID:' line");
  }
  SECTION("no fields") { CHECK(error_of("name: x\nID: 3\nformat:\n") == "test/format: no fields"); }
  SECTION("an ID that is not a number") {
    CHECK(error_of("name: x\nID: 12a\n") == "test/format:2: '12a' is not a valid ID");
  }
  SECTION("an offset that overflows 32 bits") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:99999999999;\tsize:4;\tsigned:1;")) ==
          "test/format:5: '99999999999' is not a valid offset (expected a number that fits 32 bits)");
  }
  SECTION("a negative size") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:8;\tsize:-4;\tsigned:1;")) ==
          "test/format:5: '-4' is not a valid size (expected a number that fits 32 bits)");
  }
  SECTION("a missing attribute") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:8;\tsigned:1;")) ==
          "test/format:5: expected 'field:<decl>; offset:N; size:N; signed:N;', found 3 part(s) "
          "separated by ';'");
  }
  SECTION("attributes out of order") {
    CHECK(error_of(with_field("\tfield:int a;\tsize:4;\toffset:8;\tsigned:1;")) ==
          "test/format:5: expected 'offset:<number>', found 'size:4'");
  }
  SECTION("a field without a name") {
    CHECK(error_of(with_field("\tfield:int *;\toffset:8;\tsize:8;\tsigned:0;")) ==
          "test/format:5: field declaration 'int *' has no name");
  }
  SECTION("a field without a type") {
    CHECK(error_of(with_field("\tfield:a;\toffset:8;\tsize:8;\tsigned:0;")) ==
          "test/format:5: field 'a' has no type");
  }
  SECTION("a zero size") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:8;\tsize:0;\tsigned:0;")) ==
          "test/format:5: field 'a' has size 0");
  }
  SECTION("a signed flag other than 0 or 1") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:8;\tsize:4;\tsigned:2;")) ==
          "test/format:5: field 'a' has signed:2 (expected 0 or 1)");
  }
  SECTION("overlapping fields") {
    CHECK(error_of(with_field("\tfield:int a;\toffset:6;\tsize:4;\tsigned:1;")) ==
          "test/format:5: field 'a' at offset 6 overlaps 'common_pid' (4+4)");
  }
  SECTION("a duplicated field") {
    CHECK(error_of(with_field("\tfield:int common_pid;\toffset:8;\tsize:4;\tsigned:1;")) ==
          "test/format:5: field 'common_pid' appears twice");
  }
  SECTION("a field before format:") {
    CHECK(error_of("name: x\nID: 1\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n") ==
          "test/format:3: 'field:' before the 'format:' line");
  }
  SECTION("an unknown line") {
    CHECK(error_of("name: x\nbogus\n") == "test/format:2: unexpected line 'bogus'");
  }
  SECTION("a NUL byte") {
    CHECK(error_of(std::string("name: x\0y\n", 10)) == "test/format:1: unexpected NUL byte");
  }
  SECTION("unbalanced brackets") {
    CHECK(error_of(with_field("\tfield:char a];\toffset:8;\tsize:4;\tsigned:1;")) ==
          "test/format:5: unbalanced ']' in field declaration");
  }
}

TEST_CASE("closest_names suggests near misses and names that contain the query") {
  const std::vector<std::string> names{"open", "openat", "openat2", "close", "mkdir", "mkdirat"};
  CHECK(ebpfpub::closest_names("opnat", names) == std::vector<std::string>{"openat", "openat2"});
  CHECK(ebpfpub::closest_names("mkdri", names).front() == "mkdir");
  CHECK(ebpfpub::closest_names("zzzzzzzz", names).empty());
}
