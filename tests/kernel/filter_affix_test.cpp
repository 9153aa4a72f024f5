// Sets of prefixes and suffixes: `startswith {...}` and `endswith {...}`, unrolled up to 16
// values, an LPM trie beyond (the suffixes reversed, in the kernel too). A child opens
// known paths; exactly the matching ones arrive, the rest are counted as filtered.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/filtered_run.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::run_filtered;

namespace {

std::vector<std::string> open_all(const std::vector<std::string>& filters, const std::vector<std::string>& paths) {
  const auto run = run_filtered<sys::openat>(filters, paths.size(), [paths] {
    for (const auto& p : paths) ::syscall(SYS_openat, AT_FDCWD, p.c_str(), O_RDONLY);
    return 0;
  });
  std::vector<std::string> seen;
  for (const auto& e : run.events) seen.push_back(e.args.filename.value);
  CHECK(run.stats.events + run.stats.filtered == paths.size());
  CHECK(run.stats.filtered == paths.size() - seen.size());
  CHECK(run.stats.lost() == 0);
  return seen;
}

std::string set_of(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += fmt::format("{}\"{}\"", i ? ", " : "", values[i]);
  return out + "}";
}

}  // namespace

TEST_CASE("a small set of prefixes or suffixes is unrolled and passes exactly the matching paths") {
  const std::string base = "/nonexistent-" + ebpfpub::test::random_name();
  const std::vector<std::string> paths = {base + "/etc/passwd", base + "/usr/bin/curl", base + "/var/log/x.log",
                                          base + "/tmp/a.conf"};
  CHECK(open_all({fmt::format("openat.filename startswith {}", set_of({base + "/etc/", base + "/var/"}))}, paths) ==
        std::vector<std::string>{paths[0], paths[2]});
  CHECK(open_all({"openat.filename endswith {\"/curl\", \".conf\", \".nothing\"}"}, paths) ==
        std::vector<std::string>{paths[1], paths[3]});
}

TEST_CASE("a set of 1,000 prefixes is an LPM trie that passes exactly the paths under one of them") {
  const std::string base = "/nonexistent-" + ebpfpub::test::random_name();
  std::vector<std::string> prefixes;
  for (int i = 0; i < 1000; ++i) prefixes.push_back(fmt::format("{}/p{:04}/", base, i));
  const std::vector<std::string> paths = {
      base + "/p0007/x",  // under the 8th
      base + "/p0999/y/z",  // under the last
      base + "/p1000/x",  // not in the set
      base + "/p000",     // shorter than every prefix
      base + "/q/p0007/", // a prefix elsewhere in the path
      base + "/p0000/",   // exactly a prefix
  };
  CHECK(open_all({"openat.filename startswith " + set_of(prefixes)}, paths) ==
        std::vector<std::string>{paths[0], paths[1], paths[5]});
  CHECK(open_all({"not openat.filename startswith " + set_of(prefixes)}, paths) ==
        std::vector<std::string>{paths[2], paths[3], paths[4]});
}

TEST_CASE("a set of 1,000 suffixes is an LPM trie of reversed strings, reversed in the kernel too") {
  const std::string base = "/nonexistent-" + ebpfpub::test::random_name();
  std::vector<std::string> suffixes;
  for (int i = 0; i < 1000; ++i) suffixes.push_back(fmt::format(".s{:04}", i));
  const std::vector<std::string> paths = {
      base + "/a.s0042",   // the 43rd
      base + "/b/c.s0999", // the last
      base + "/a.s1000",   // not in the set
      base + "/a.s0042x",  // one in the middle only
      ".s0001",            // exactly one (a relative path)
  };
  CHECK(open_all({"openat.filename endswith " + set_of(suffixes)}, paths) ==
        std::vector<std::string>{paths[0], paths[1], paths[4]});
}

TEST_CASE("prefixes and suffixes in a map at the bound match, one byte past it is an error") {
  const std::string base = "/nonexistent-" + ebpfpub::test::random_name();
  const auto bound = ebpfpub::filter::max_string_bytes;
  // 128-byte prefix and suffix, among 19 short ones: the map path at the longest key.
  const auto long_prefix = base + "/" + std::string(bound - base.size() - 1, 'p');
  const auto long_suffix = "/" + std::string(bound - 1, 's');
  REQUIRE(long_prefix.size() == bound);
  REQUIRE(long_suffix.size() == bound);
  std::vector<std::string> prefixes = {long_prefix}, suffixes = {long_suffix};
  for (int i = 0; i < 19; ++i) {
    prefixes.push_back(fmt::format("/other{}/", i));
    suffixes.push_back(fmt::format(".other{}", i));
  }
  const std::vector<std::string> paths = {long_prefix + "/x", long_prefix.substr(0, bound - 1),
                                          base + long_suffix, base + long_suffix.substr(1)};
  CHECK(open_all({"openat.filename startswith " + set_of(prefixes)}, paths) ==
        std::vector<std::string>{paths[0]});
  CHECK(open_all({"openat.filename endswith " + set_of(suffixes)}, paths) ==
        std::vector<std::string>{paths[2]});

  auto t = ebpfpub::tracer::create({});
  REQUIRE(t);
  REQUIRE(t->trace<sys::openat>([](const auto&) {}));
  prefixes.push_back(long_prefix + "p");
  auto added = t->add_filter("openat.filename startswith " + set_of(prefixes));
  REQUIRE_FALSE(added);
  CHECK_THAT(added.error().what(), Catch::Matchers::Contains("the string is 129 bytes; a filter compares at most 128"));
  suffixes.push_back("s" + long_suffix);
  auto suffix_added = t->add_filter("openat.filename endswith " + set_of(suffixes));
  REQUIRE_FALSE(suffix_added);
  CHECK_THAT(suffix_added.error().what(), Catch::Matchers::Contains("the string is 129 bytes"));
}

TEST_CASE("memory() counts the filter set maps: their keys and values planned, the kernel's bytes measured") {
  std::vector<std::string> paths, prefixes;
  for (int i = 0; i < 1000; ++i) paths.push_back(fmt::format("/usr/lib/some/library/path-{:04}.so", i));  // 34 bytes
  for (int i = 0; i < 20; ++i) prefixes.push_back(fmt::format("/usr/lib/some/library/dir-{:04}/", i));    // 31 bytes
  auto t = ebpfpub::tracer::create({});
  REQUIRE(t);
  REQUIRE(t->trace<sys::openat>([](const auto&) {}));
  CHECK(t->memory().filter_set_bytes == 0);
  REQUIRE(t->add_filter("openat.filename in " + set_of(paths)));
  REQUIRE(t->add_filter("openat.filename startswith " + set_of(prefixes)));
  REQUIRE(t->add_filter("openat.filename startswith {\"/a\", \"/b\"}"));  // unrolled: no map
  // Hash keys: 34 bytes padded to 40, a 1-byte value; trie keys: a 4-byte bit count and 32.
  const auto planned = t->memory();
  CHECK(planned.filter_set_bytes == 1000 * (40 + 1) + 20 * (4 + 32 + 1));
  CHECK(planned.total() >= planned.filter_set_bytes + planned.counters_bytes);
  REQUIRE(t->start());
  const auto measured = t->memory();
  CHECK(measured.measured);
  // The kernel's accounting adds its element headers to the data.
  CHECK(measured.filter_set_bytes > planned.filter_set_bytes);
  CHECK(measured.total() >= measured.filter_set_bytes + measured.output_bytes);
  t->stop();
}
