// Filter expressions compiled into the programs: a child makes known calls, exactly the
// matching ones arrive, and the rest are counted as filtered (numbers, the exit code,
// strings and their bound).
#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/filtered_run.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::random_name;
using ebpfpub::test::run_filtered;

namespace {

// getpriority(99, who) fails with EINVAL whatever `who` is: a harmless call with a
// signed int argument we choose.
const std::vector<int> whos = {-5, -1, 0, 1, 7, 100};

std::vector<int> whos_seen(const std::vector<ebpfpub::event<sys::getpriority>>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.args.who);
  return out;
}

}  // namespace

TEST_CASE("number comparisons on a signed argument pass exactly the matching calls") {
  const auto [filter, expected] = GENERATE(table<std::string, std::vector<int>>({
      {"getpriority.who == 7", {7}},
      {"getpriority.who != 7", {-5, -1, 0, 1, 100}},
      {"getpriority.who < 0", {-5, -1}},
      {"getpriority.who <= 0", {-5, -1, 0}},
      {"getpriority.who > 1", {7, 100}},
      {"getpriority.who >= 1", {1, 7, 100}},
      {"getpriority.who & 4", {-1, 7, 100}},
      {"getpriority.who in {0, 100, 3}", {0, 100}},
      {"getpriority.who == -1 or getpriority.who == 1", {-1, 1}},
      {"not (getpriority.who < 0) and getpriority.who != 100", {0, 1, 7}},
      {"getpriority.which == 99 and exit_code == -EINVAL and getpriority.who > 0", {1, 7, 100}},
      {"exit_code == 0", {}},
  }));
  INFO(filter);
  const auto run = run_filtered<sys::getpriority>({filter}, whos.size(), [] {
    for (int who : whos) ::syscall(SYS_getpriority, 99, who);
    return 0;
  });
  CHECK(whos_seen(run.events) == expected);
  CHECK(run.stats.events == expected.size());
  CHECK(run.stats.filtered == whos.size() - expected.size());
  CHECK(run.stats.lost() == 0);
  CHECK(run.stats.unmatched_exits == 0);
}

TEST_CASE("a set of more than 16 numbers is a map lookup with the same answers") {
  // 20 values, -5 and 100 among them: the map's keys are the values as a signed int reads them.
  std::string set = "{-5, 100";
  for (int i = 0; i < 18; ++i) set += fmt::format(", {}", 1000 + i);
  const auto run =
      run_filtered<sys::getpriority>({"getpriority.who in " + set + "}"}, whos.size(), [] {
        for (int who : whos) ::syscall(SYS_getpriority, 99, who);
        return 0;
      });
  CHECK(whos_seen(run.events) == std::vector<int>{-5, 100});
  CHECK(run.stats.filtered == 4);
}

TEST_CASE("several filters on one syscall must all pass, a header filter applies as well") {
  const auto run = run_filtered<sys::getpriority>(
      {"getpriority.who > 0", "getpriority.who < 100",
       fmt::format("pid == {} and uid == 0 and gid == 0", ::getpid())},
      whos.size(), [] {
        for (int who : whos) ::syscall(SYS_getpriority, 99, who);
        return 0;
      });
  // The pid filter names the test process, not the child: nothing passes.
  CHECK(run.events.empty());
  CHECK(run.stats.filtered == whos.size());
}

TEST_CASE("a bit test and the exit code decide openat's calls, the exit code at exit") {
  ebpfpub::test::scratch_dir dir;
  const auto existing = (dir.path / random_name()).string();
  const auto missing = (dir.path / random_name() / "x").string();
  const auto run =
      run_filtered<sys::openat>({"openat.flags & O_CREAT and exit_code == -ENOENT"}, 4, [&] {
        ::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY);  // ENOENT, no O_CREAT
        ::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_CREAT | O_WRONLY, 0600);  // matches
        const long fd = ::syscall(SYS_openat, AT_FDCWD, existing.c_str(), O_CREAT | O_WRONLY,
                                  0600);  // succeeds
        ::syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_CREAT | O_EXCL | O_WRONLY,
                  0600);  // matches
        return fd >= 0 ? 0 : 1;
      });
  REQUIRE(run.events.size() == 2);
  for (const auto& e : run.events) {
    CHECK(e.args.filename.value == missing);
    CHECK(e.header.exit_code == -ENOENT);
    CHECK((e.args.flags & O_CREAT) != 0);
  }
  CHECK(run.stats.filtered == 2);
  CHECK(run.stats.unmatched_exits == 0);
}

TEST_CASE("string comparisons on a captured path pass exactly the matching calls") {
  // One directory for every generated row: the table is built once, on the first run.
  static ebpfpub::test::scratch_dir dir;
  const auto base = dir.path.string();
  const std::vector<std::string> paths = {base + "/etc/passwd", base + "/etc/hosts",
                                          base + "/usr/bin/curl", base + "/usr/bin/curly",
                                          base + "/x"};
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {fmt::format("openat.filename startswith \"{}/etc/\"", base), {0, 1}},
      {"openat.filename endswith \"/curl\"", {2}},
      {"openat.filename endswith \"curl\"", {2}},
      {"openat.filename endswith \"passwd\"", {0}},
      {fmt::format("openat.filename == \"{}/x\"", base), {4}},
      {fmt::format("openat.filename != \"{}/x\"", base), {0, 1, 2, 3}},
      {"openat.filename contains \"/bin/\"", {2, 3}},
      {"openat.filename contains \"curl\"", {2, 3}},
      {"openat.filename contains \"hosts\"", {1}},
      {fmt::format("openat.filename in {{\"{0}/x\", \"{0}/etc/hosts\"}}", base), {1, 4}},
      {"not openat.filename contains \"/etc/\" and openat.filename endswith \"y\"", {3}},
  }));
  INFO(filter);
  const auto run = run_filtered<sys::openat>({filter}, paths.size(), [&] {
    for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
    return 0;
  });
  std::vector<std::string> seen, wanted;
  for (const auto& e : run.events) seen.push_back(e.args.filename.value);
  for (auto i : expected) wanted.push_back(paths[i]);
  CHECK(seen == wanted);
  CHECK(run.stats.filtered == paths.size() - expected.size());
  CHECK(run.stats.unmatched_exits == 0);
}

TEST_CASE("a set of 1,000 paths passes exactly the listed paths") {
  ebpfpub::test::scratch_dir dir;
  const auto listed = [&](int i) {
    return fmt::format("{}/listed/file-{:04}.conf", dir.path.string(), i);
  };
  std::string set = "{";
  for (int i = 0; i < 1000; ++i) set += fmt::format("{}\"{}\"", i ? ", " : "", listed(i));
  set += "}";
  // Ten listed paths, then near misses: one byte longer, one shorter, one byte changed,
  // a path past the longest listed one, and an unlisted number.
  std::vector<std::string> paths;
  for (int i = 0; i < 1000; i += 111) paths.push_back(listed(i));
  const auto first = listed(0);
  const std::vector<std::string> misses = {first + "x", first.substr(0, first.size() - 1),
                                           first.substr(0, first.size() - 1) + "k",
                                           first + std::string(200, 'y'), listed(1000)};
  const auto run =
      run_filtered<sys::openat>({"openat.filename in " + set}, paths.size() + misses.size(), [&] {
        for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
        for (const auto& p : misses) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
        return 0;
      });
  std::vector<std::string> seen;
  for (const auto& e : run.events) seen.push_back(e.args.filename.value);
  CHECK(seen == paths);
  CHECK(run.stats.filtered == misses.size());
}

TEST_CASE("prefix and suffix compare up to max_string_bytes, and a longer constant is an error") {
  constexpr auto bound = ebpfpub::filter::max_string_bytes;
  ebpfpub::test::scratch_dir dir;
  // Paths longer than the bound: the prefix is the first `bound` bytes, the suffix the
  // last `bound`; a path that differs from them only in the bound's last byte misses.
  std::string head = dir.path.string() + "/";
  while (head.size() < bound) head += 'p';
  const std::string tail = "/" + std::string(bound - 1, 's');
  const auto same = head + "-middle-" + tail;
  auto other_head = same;
  other_head[bound - 1] = 'q';
  auto other_tail = same;
  other_tail[other_tail.size() - bound] = 'q';
  const std::vector<std::string> paths = {same, other_head, other_tail};
  SECTION("a prefix of exactly the bound") {
    const auto run =
        run_filtered<sys::openat>({fmt::format("openat.filename startswith \"{}\"", head)}, 3, [&] {
          for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
          return 0;
        });
    REQUIRE(run.events.size() == 2);
    CHECK(run.events[0].args.filename.value == same);
    CHECK(run.events[1].args.filename.value == other_tail);
    CHECK(run.stats.filtered == 1);
  }
  SECTION("a suffix of exactly the bound") {
    REQUIRE(tail.size() == bound);
    const auto run =
        run_filtered<sys::openat>({fmt::format("openat.filename endswith \"{}\"", tail)}, 3, [&] {
          for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
          return 0;
        });
    REQUIRE(run.events.size() == 2);
    CHECK(run.events[0].args.filename.value == same);
    CHECK(run.events[1].args.filename.value == other_head);
    CHECK(run.stats.filtered == 1);
  }
  SECTION("one byte past the bound is refused with a caret") {
    auto t = ebpfpub::tracer::create();
    REQUIRE(t);
    REQUIRE(t->trace<sys::openat>([](const auto&) {}));
    for (const auto* op : {"startswith", "endswith", "contains", "=="}) {
      auto added =
          t->add_filter(fmt::format("openat.filename {} \"{}\"", op, std::string(bound + 1, 'a')));
      REQUIRE(!added);
      const std::string message = added.error().what();
      CHECK(message.find(fmt::format("the string is {} bytes; a filter compares at most {}",
                                     bound + 1, bound)) != std::string::npos);
      CHECK(message.find('^') != std::string::npos);
    }
  }
}

TEST_CASE("contains finds its constant where it starts in the first contains_window bytes") {
  constexpr auto window = ebpfpub::filter::contains_window;
  ebpfpub::test::scratch_dir dir;
  const std::string needle = "NEEDLE";
  const auto path_with_needle_at = [&](std::size_t at) {
    auto path = dir.path.string() + "/";
    path += std::string(at - path.size(), 'a') + needle;
    return path + std::string(window + 40 - path.size(), 'z');
  };
  // Starting at the window's last place (it ends past the window), and one byte later.
  const std::vector<std::string> paths = {path_with_needle_at(100),
                                          path_with_needle_at(window - needle.size()),
                                          path_with_needle_at(window - needle.size() + 1)};
  const auto run = run_filtered<sys::openat>({"openat.filename contains \"NEEDLE\""}, 3, [&] {
    for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
    return 0;
  });
  REQUIRE(run.events.size() == 2);
  CHECK(run.events[0].args.filename.value == paths[0]);
  CHECK(run.events[1].args.filename.value == paths[1]);
  CHECK(run.stats.filtered == 1);
}

TEST_CASE("the command name compares as a string: equality, prefix, suffix and substring") {
  const auto [filter, passes] = GENERATE(table<std::string, bool>({
      {"comm == \"flt-child\"", true},
      {"comm == \"flt-chil\"", false},
      {"comm startswith \"flt-\"", true},
      {"comm endswith \"child\"", true},
      {"comm endswith \"chil\"", false},
      {"comm contains \"t-ch\"", true},
      {"comm contains \"xyz\"", false},
      {"comm in {\"a\", \"flt-child\"}", true},
      {"comm != \"flt-child\"", false},
  }));
  INFO(filter);
  const auto run = run_filtered<sys::getpriority>({filter}, 1, [] {
    ::prctl(PR_SET_NAME, "flt-child");
    ::syscall(SYS_getpriority, 99, 1);
    return 0;
  });
  CHECK(run.events.size() == (passes ? 1u : 0u));
  CHECK(run.stats.filtered == (passes ? 0u : 1u));
}

TEST_CASE(
    "filter errors point at the expression: unknown field, type, constant, untraced syscall") {
  auto t = ebpfpub::tracer::create();
  REQUIRE(t);
  REQUIRE(t->trace<sys::openat>([](const auto&) {}));
  const auto message = [&](const std::string& text) {
    auto added = t->add_filter(text);
    REQUIRE(!added);
    return added.error().message();
  };
  CHECK(message("openat.filenme startswith \"/etc\"") ==
        "filter: openat has no field filenme (its fields: dfd, filename, flags, mode, pid, tid, "
        "uid, gid, comm, "
        "exit_code)\n  openat.filenme startswith \"/etc\"\n  ^^^^^^^^^^^^^^");
  CHECK(message("openat.flags startswith \"x\"").find("flags is a number") != std::string::npos);
  CHECK(
      message("openat.flags & O_CRAET").find("unknown constant O_CRAET (did you mean O_CREAT?)") !=
      std::string::npos);
  CHECK(message("execve.filename endswith \"/curl\"").find("execve is not traced") !=
        std::string::npos);
}

TEST_CASE("a string filter finds its capture after a process context block") {
  // The enter program writes the context block right after the arguments, before the
  // captures: the filter's walk to the path must step over it (one context field, one
  // capture: a walk that counted the block as a capture never reached the path).
  static ebpfpub::test::scratch_dir dir;
  const auto base = dir.path.string();
  const std::vector<std::string> paths = {base + "/etc/passwd", base + "/x", base + "/etc/hosts"};
  const auto fields = GENERATE(ebpfpub::context_fields{} | ebpfpub::context_field::executable,
                               ebpfpub::context_fields::all());
  ebpfpub::tracer_options options;
  options.context = fields;
  const auto run = run_filtered<sys::openat>(
      {fmt::format("openat.filename startswith \"{}/etc/\"", base)}, paths.size(),
      [&] {
        for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
        return 0;
      },
      options);
  std::vector<std::string> seen;
  for (const auto& e : run.events) seen.push_back(e.args.filename.value);
  CHECK(seen == std::vector<std::string>{paths[0], paths[2]});
  CHECK(run.stats.filtered == 1);
  for (const auto& e : run.events) CHECK_FALSE(e.header.context.fields.empty());
}

TEST_CASE("a path filter passes a path enter could not read, read again at exit") {
  // A file mapping the child has not read: the enter program cannot read the path in it
  // (the kernel faults the page in during the call), exit reads it again and decides.
  static ebpfpub::test::scratch_dir dir;
  const auto base = dir.path.string();
  const auto target = base + "/etc/" + random_name();
  const auto holder = dir.path / "path-holder";
  {
    std::FILE* f = std::fopen(holder.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(target.c_str(), 1, target.size() + 1, f);
    std::fclose(f);
  }
  const auto run = run_filtered<sys::openat>(
      {fmt::format("openat.filename startswith \"{}/etc/\"", base)}, 2, [&] {
        const int fd = ::open(holder.c_str(), O_RDONLY);
        void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (page == MAP_FAILED) return 100;
        ::syscall(SYS_openat, AT_FDCWD, static_cast<const char*>(page), O_RDONLY);
        return 0;
      });
  // The open of the holder is filtered; the untouched path matches and arrives whole.
  REQUIRE(run.events.size() == 1);
  CHECK(run.events[0].args.filename.value == target);
  CHECK(run.events[0].args.filename.status == ebpfpub::capture_status::ok);
  CHECK(run.stats.filtered == 1);
}
