// Resolved paths without a kernel: which arguments the generic plan resolves and against
// which fd, the decoding of hand-built base directory records (good and malformed), and
// how text and JSON show them.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include <fmt/format.h>

#include <ebpfpub/event.hpp>
#include <ebpfpub/format/json.hpp>
#include <ebpfpub/format/text.hpp>
#include <ebpfpub/resolved_path.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
namespace layout = ebpfpub::record::base_directory_layout;
using ebpfpub::capture;
using ebpfpub::capture_op;
using ebpfpub::path_base_state;

namespace {

using pairs = std::vector<std::pair<std::uint8_t, std::uint8_t>>;
constexpr auto cwd = capture::current_directory;

template <typename S>
pairs paths_of() {
  return ebpfpub::path_arguments(ebpfpub::describe<S>());
}

// A base directory record as a program writes it: state, count, names leaf first.
std::string base_record(path_base_state state, std::initializer_list<std::string_view> leaf_first) {
  std::string bytes(layout::names, '\0');
  bytes[layout::state] = static_cast<char>(state);
  const auto count = static_cast<std::uint32_t>(leaf_first.size());
  std::memcpy(bytes.data() + layout::count, &count, sizeof count);
  for (auto name : leaf_first) {
    bytes.append(name);
    bytes.push_back('\0');
  }
  return bytes;
}

std::optional<ebpfpub::resolved_path> decode(const std::string& bytes, std::string_view argument) {
  return ebpfpub::decode_base_directory(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), argument);
}

const std::vector<ebpfpub::plan>& openat_plans() {
  static const std::vector<ebpfpub::plan> p{ebpfpub::serializer<sys::openat>::make_plan({.resolve_paths = true})};
  return p;
}

// openat(AT_FDCWD, filename) with its string (capture 0) and base (capture 1).
ebpfpub::user_string decoded_filename(std::string_view filename, const std::string& base) {
  ebpfpub::test::record_builder b(0, {static_cast<std::uint64_t>(-100), 0x7ffd0000, 0, 0});
  b.capture(0, 0, filename);
  b.capture(1, 0, base);
  auto r = ebpfpub::record_view::parse(b.bytes(), openat_plans());
  REQUIRE(r);
  return ebpfpub::serializer<sys::openat>::decode(*r).filename;
}

std::string text(const ebpfpub::user_string& s) {
  fmt::memory_buffer out;
  ebpfpub::append_text(out, s);
  return fmt::to_string(out);
}

std::string json(const ebpfpub::user_string& s) {
  fmt::memory_buffer out;
  ebpfpub::append_json(out, ebpfpub::dynamic_value(s));
  return fmt::to_string(out);
}

}  // namespace

TEST_CASE("path arguments pair with the dfd of their own prefix, or the cwd when the call has no fd") {
  CHECK(paths_of<sys::openat>() == pairs{{1, 0}});
  CHECK(paths_of<sys::open>() == pairs{{0, cwd}});
  CHECK(paths_of<sys::mkdir>() == pairs{{0, cwd}});
  CHECK(paths_of<sys::renameat2>() == pairs{{1, 0}, {3, 2}});
  CHECK(paths_of<sys::rename>() == pairs{{0, cwd}, {1, cwd}});
  CHECK(paths_of<sys::link>() == pairs{{0, cwd}, {1, cwd}});
  CHECK(paths_of<sys::move_mount>() == pairs{{1, 0}, {3, 2}});
  CHECK(paths_of<sys::swapon>() == pairs{{0, cwd}});
  CHECK(paths_of<sys::pivot_root>() == pairs{{0, cwd}, {1, cwd}});
  // A symlink's target is no lookup; symlinkat's link name goes with newdfd.
  CHECK(paths_of<sys::symlink>() == pairs{{1, cwd}});
  CHECK(paths_of<sys::symlinkat>() == pairs{{2, 1}});
  // Names that are no paths, and fds whose role the names do not tell.
  CHECK(paths_of<sys::setxattr>() == pairs{{0, cwd}});
  CHECK(paths_of<sys::getxattrat>() == pairs{{1, 0}});
  CHECK(paths_of<sys::memfd_create>().empty());
  CHECK(paths_of<sys::execveat>().empty());
  CHECK(paths_of<sys::inotify_add_watch>().empty());
}

TEST_CASE("plan_options::resolve_paths adds a base directory after the strings, and only then") {
  CHECK(ebpfpub::serializer<sys::renameat2>::make_plan({}).captures.size() == 2);
  const auto on = ebpfpub::serializer<sys::renameat2>::make_plan({.resolve_paths = true});
  REQUIRE(on.captures.size() == 4);
  CHECK(on.captures[0].op == capture_op::string);
  CHECK(on.captures[1].op == capture_op::string);
  CHECK(on.captures[2] == ebpfpub::base_directory_capture(1, 0));
  CHECK(on.captures[3] == ebpfpub::base_directory_capture(3, 2));
  CHECK(on.captures[2].max_bytes == layout::size);
  CHECK(ebpfpub::check_plan(on));
  auto bad = on;
  bad.captures[3].base_fd = 5;
  CHECK(ebpfpub::check_plan(bad).error().message() ==
        "plan for renameat2: capture 3 (argument 3): the directory fd argument does not exist");
  bad = on;
  bad.captures[2].max_bytes = 64;
  CHECK(ebpfpub::check_plan(bad).error().message() ==
        "plan for renameat2: capture 2 (argument 1): a base directory is 4104 bytes");
}

TEST_CASE("the walk's names, leaf first, join root first, and the argument joins lexically") {
  const auto r = decode(base_record(path_base_state::resolved, {"c", "b", "a"}), "../x/./y");
  REQUIRE(r);
  CHECK(r->state == path_base_state::resolved);
  CHECK(r->directory == "/a/b/c");
  CHECK(r->path == "/a/b/c/../x/./y");  // ".." and "." are kept as the caller wrote them
  const auto root = decode(base_record(path_base_state::resolved, {}), "etc");
  REQUIRE(root);
  CHECK(root->directory == "/");
  CHECK(root->path == "/etc");
  const auto empty = decode(base_record(path_base_state::resolved, {"tmp"}), "");
  REQUIRE(empty);
  CHECK(empty->path == "/tmp");  // AT_EMPTY_PATH: the dfd itself
}

TEST_CASE("states other than resolved carry no path; a path read absolute at exit is absolute") {
  const auto deleted = decode(base_record(path_base_state::deleted, {}), "x");
  REQUIRE(deleted);
  CHECK(deleted->state == path_base_state::deleted);
  CHECK(deleted->path.empty());
  const auto cut = decode(base_record(path_base_state::truncated, {"leaf", "mid"}), "x");
  REQUIRE(cut);
  CHECK(cut->directory == "mid/leaf");
  CHECK(cut->path.empty());
  const auto late = decode(base_record(path_base_state::resolved, {"home"}), "/etc/passwd");
  REQUIRE(late);
  CHECK(late->state == path_base_state::absolute);
  CHECK(late->path == "/etc/passwd");
}

TEST_CASE("a malformed base directory decodes to nothing, never an over-read") {
  CHECK_FALSE(decode(std::string(7, '\0'), "x"));                                   // short header
  CHECK_FALSE(decode(base_record(static_cast<path_base_state>(0), {}), "x"));     // unknown state
  CHECK_FALSE(decode(base_record(static_cast<path_base_state>(8), {}), "x"));
  auto unterminated = base_record(path_base_state::resolved, {"a"});
  unterminated.pop_back();
  CHECK_FALSE(decode(unterminated, "x"));
  auto miscounted = base_record(path_base_state::resolved, {"a", "b"});
  miscounted[layout::count] = 3;
  CHECK_FALSE(decode(miscounted, "x"));
  CHECK_FALSE(decode(base_record(path_base_state::resolved, {"a", ""}), "x"));      // an empty name
  CHECK_FALSE(decode(base_record(path_base_state::resolved, {"a/b"}), "x"));        // a '/' in a name
  CHECK_FALSE(decode(base_record(path_base_state::absolute, {"a"}), "/x"));        // names for no walk
}

TEST_CASE("text shows the resolved path in strace -y's brackets after the argument; JSON as an object") {
  const auto s = decoded_filename("x", base_record(path_base_state::resolved, {"a", "tmp"}));
  REQUIRE(s.resolved);
  CHECK(text(s) == "'x'</tmp/a/x>");
  CHECK(json(s) == R"({"value":"x","path_state":"resolved","path":"/tmp/a/x"})");
  const auto gone = decoded_filename("x", base_record(path_base_state::deleted, {}));
  CHECK(text(gone) == "'x'<(deleted)>");
  CHECK(json(gone) == R"({"value":"x","path_state":"deleted"})");
  const auto absolute = decoded_filename("/etc/passwd", base_record(path_base_state::absolute, {}));
  CHECK(text(absolute) == "'/etc/passwd'");
  CHECK(json(absolute) == R"({"value":"/etc/passwd","path_state":"absolute","path":"/etc/passwd"})");
  // A malformed base leaves the argument as it was.
  const auto malformed = decoded_filename("x", std::string(3, '\0'));
  CHECK_FALSE(malformed.resolved);
  CHECK(text(malformed) == "'x'");
}
