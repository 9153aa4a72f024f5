// The file sink: rotation by size keeps whole records in every file, and a reopen after
// the file was moved (SIGHUP, as logrotate does it) continues in a new file.

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <ebpfpub/sinks/ledger.hpp>
#include <ebpfpub/sinks/stream.hpp>
#include <fstream>
#include <thread>

#include "support/child.hpp"

using ebpfpub::sinks::stream;
using ebpfpub::sinks::stream_options;
namespace fs = std::filesystem;
namespace t = ebpfpub::test;

namespace {

volatile std::sig_atomic_t hangup = 0;
void on_hangup(int) { hangup = 1; }

stream file_stream(const std::string& url) {
  auto s = stream::create(stream_options{.host_name = "files", .boot_id = "b"});
  REQUIRE(s);
  REQUIRE(s->add_sink(url));
  return std::move(*s);
}

// Every line of `p` is a whole record; adds them to `book`; returns how many.
std::size_t whole_records(const fs::path& p, ebpfpub::sinks::ledger& book) {
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  std::size_t n = 0;
  for (std::size_t start = 0; start < text.size();) {
    const auto end = text.find('\n', start);
    REQUIRE(book.add(text.substr(start, end - start)));
    ++n;
    start = end + 1;
  }
  return n;
}

}  // namespace

TEST_CASE("rotation by size keeps every file under the limit and every record whole", "[sinks]") {
  t::scratch_dir dir;
  const auto path = dir.path / "events.jsonl";
  auto s = file_stream(fmt::format("file://{}?rotate_bytes=4096&keep=100", path.string()));
  const std::string payload(150, 'x');
  for (int i = 0; i < 300; ++i)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"{}"}})", i, payload));
  REQUIRE(s.flush(std::chrono::seconds(5)));

  ebpfpub::sinks::ledger book;
  std::size_t records = 0, files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    CHECK(fs::file_size(entry.path()) <= 4096);
    records += whole_records(entry.path(), book);
    ++files;
  }
  CHECK(records == 300);
  // Records are 235-239 bytes with their newline: 17 fit in 4096 bytes, so 300 records
  // take 17 full files and an 18th with the last 11.
  CHECK(files == 18);
  CHECK(book.hosts().at("files b").complete());
  CHECK(book.hosts().at("files b").events == 300);
}

TEST_CASE("rotation by age starts a new file once the current one is a second old", "[sinks]") {
  t::scratch_dir dir;
  const auto path = dir.path / "events.jsonl";
  auto s = file_stream(fmt::format("file://{}?rotate_seconds=1", path.string()));
  for (int i = 0; i < 10; ++i)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"a"}})", i));
  REQUIRE(s.flush(std::chrono::seconds(5)));
  // The sink's thread looks at the file's age at least every 500 ms while idle.
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  for (int i = 10; i < 15; ++i)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"a"}})", i));
  REQUIRE(s.flush(std::chrono::seconds(5)));
  ebpfpub::sinks::ledger old_file, new_file;
  CHECK(whole_records(dir.path / "events.jsonl.1", old_file) == 10);
  CHECK(whole_records(path, new_file) == 5);
  CHECK(new_file.hosts().at("files b").first_seq == 10);
  CHECK(!fs::exists(dir.path / "events.jsonl.2"));
}

TEST_CASE("after the file is moved, SIGHUP makes the sink continue in a new file at the path",
          "[sinks]") {
  t::scratch_dir dir;
  const auto path = dir.path / "events.jsonl";
  auto s = file_stream("file://" + path.string());
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  struct sigaction old {};
  REQUIRE(::sigaction(SIGHUP, &sa, &old) == 0);
  for (int i = 0; i < 50; ++i)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"a"}})", i));
  REQUIRE(s.flush(std::chrono::seconds(5)));
  fs::rename(path, dir.path / "events.jsonl.1");
  ::raise(SIGHUP);
  // As a program's main loop does it: the handler only sets a flag.
  if (hangup) {
    hangup = 0;
    s.reopen();
  }
  for (int i = 50; i < 80; ++i)
    s.publish_json(fmt::format(R"({{"timestamp":{},"syscall":"a"}})", i));
  REQUIRE(s.flush(std::chrono::seconds(5)));
  ::sigaction(SIGHUP, &old, nullptr);

  ebpfpub::sinks::ledger before, after;
  CHECK(whole_records(dir.path / "events.jsonl.1", before) == 50);
  CHECK(whole_records(path, after) == 30);
  CHECK(before.hosts().at("files b").last_seq == 49);
  CHECK(after.hosts().at("files b").first_seq == 50);
  CHECK(after.hosts().at("files b").last_seq == 79);
}

TEST_CASE("the file sink refuses to follow a symbolic link at its path", "[sinks]") {
  t::scratch_dir dir;
  fs::create_symlink(dir.path / "elsewhere", dir.path / "link.jsonl");
  auto opened = ebpfpub::sinks::sink::open("file://" + (dir.path / "link.jsonl").string());
  REQUIRE(!opened);
  CHECK(opened.error().message().find("link.jsonl") != std::string::npos);
  CHECK(!fs::exists(dir.path / "elsewhere"));
}
