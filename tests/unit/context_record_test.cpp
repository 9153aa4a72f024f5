// The process context block of a record (record.hpp): decoded, checked, and printed.
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <ebpfpub/ebpfpub.hpp>
#include <nlohmann/json.hpp>

#include "context/lru.hpp"
#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::context_field;
using ebpfpub::record_view;
using ebpfpub::test::record_builder;
namespace off = ebpfpub::record::context_offset;

namespace {

const std::vector<ebpfpub::plan>& plans() {
  static const std::vector<ebpfpub::plan> p{ebpfpub::serializer<sys::mkdir>::make_plan({})};
  return p;
}

// Every field filled, whatever `fields` says: the decoder must keep only the selected.
std::string context_block(std::uint32_t fields, std::string_view name = "sleep") {
  std::string data(ebpfpub::record::context_size, '\0');
  auto put = [&](std::uint32_t at, auto value) {
    std::memcpy(data.data() + at, &value, sizeof(value));
  };
  put(off::fields, fields);
  put(off::parent_pid, std::uint32_t{4321});
  put(off::cgroup_id, std::uint64_t{9876543210});
  put(off::exe_inode, std::uint64_t{131090});
  put(off::exe_device, std::uint32_t{(8u << 20) | 3});  // the kernel's 8:3
  put(off::mnt_ns, std::uint32_t{4026531841});
  put(off::pid_ns, std::uint32_t{4026531836});
  put(off::net_ns, std::uint32_t{4026531840});
  put(off::user_ns, std::uint32_t{4026531837});
  std::memcpy(data.data() + off::exe_name, name.data(), std::min<std::size_t>(name.size(), 32));
  return data;
}

record_builder mkdir_record(std::string_view context) {
  auto b = record_builder(0, {0x7ffd0000, 0777});
  b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
  b.capture(ebpfpub::record::context_capture, 0, context);
  b.capture(0, 0, "/tmp/x");
  return b;
}

std::string error_of(std::vector<std::uint8_t> bytes) {
  auto r = record_view::parse(bytes, plans());
  REQUIRE_FALSE(r);
  return r.error().message();
}

}  // namespace

TEST_CASE("a context block decodes every selected field, the device as stat gives it") {
  auto b = mkdir_record(context_block(ebpfpub::context_fields::all().bits()));
  auto r = record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const auto& c = r->header().context;
  CHECK(c.fields == ebpfpub::context_fields::all());
  CHECK(c.parent_process_id == 4321);
  CHECK(c.cgroup_id == 9876543210);
  CHECK(c.executable_device == ::makedev(8, 3));
  CHECK(c.executable_inode == 131090);
  CHECK(c.namespaces == ebpfpub::namespace_ids{4026531841, 4026531836, 4026531840, 4026531837});
  CHECK(r->executable_name() == "sleep");
  CHECK(r->capture_of(0).data.size() == 6);  // the captures after it are found as before
}

TEST_CASE("fields the block does not select stay zero") {
  auto b = mkdir_record(context_block(static_cast<std::uint32_t>(context_field::parent)));
  auto r = record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  const auto& c = r->header().context;
  CHECK(c.fields == context_field::parent);
  CHECK(c.parent_process_id == 4321);
  CHECK(c.cgroup_id == 0);
  CHECK(c.executable_inode == 0);
  CHECK(c.namespaces == ebpfpub::namespace_ids{});
  CHECK(r->executable_name().empty());
}

TEST_CASE("a malformed context block is an error naming what is wrong") {
  CHECK(error_of(mkdir_record(context_block(0x20)).bytes()) ==
        "malformed event record: process context with fields 0x20");
  CHECK(error_of(mkdir_record(context_block(1, std::string(32, 'a'))).bytes()) ==
        "malformed event record: process context: executable name without its NUL");
  CHECK(error_of(mkdir_record(context_block(1).substr(0, 72)).bytes()) ==
        "malformed event record: process context of 72 bytes, status 0 (expected 80, ok)");
  auto twice = mkdir_record(context_block(2));
  twice.capture(ebpfpub::record::context_capture, 0, context_block(2));
  CHECK(error_of(twice.bytes()) == "malformed event record: process context appears twice");
}

TEST_CASE("text and JSON show the selected context, resolved parts included") {
  auto b = mkdir_record(context_block(ebpfpub::context_fields::all().bits()));
  auto r = record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  auto file = std::make_shared<ebpfpub::executable_file>();
  file->name = "sleep";
  file->path = "/usr/bin/sleep";
  r->context().executable = file;
  const std::string id(64, 'a');
  auto cgroup = std::make_shared<ebpfpub::cgroup_info>();
  cgroup->id = 9876543210;
  cgroup->path = "/system.slice/docker-" + id + ".scope";
  cgroup->container = ebpfpub::container_of(cgroup->path);
  r->context().cgroup = cgroup;
  const auto e = ebpfpub::decode_dynamic(*r);
  CHECK(fmt::format("{}", e.header) ==
        "timestamp: 123456789 process_id: 100 thread_id: 101 user_id: 1000 group_id: 1001 "
        "exit_code: 0 "
        "probe_error: 0 executable: '/usr/bin/sleep' parent_process_id: 4321 cgroup_id: 9876543210 "
        "cgroup: '/system.slice/docker-" +
            id + ".scope' container: docker:" + id +
            " mnt_ns: 4026531841 pid_ns: 4026531836 net_ns: 4026531840 user_ns: 4026531837");
  fmt::memory_buffer out;
  ebpfpub::append_json(out, e);
  const auto json = nlohmann::json::parse(std::string_view(out.data(), out.size()));
  CHECK(
      json["context"] ==
      nlohmann::json::parse(
          R"({"executable":{"device":2051,"inode":131090,"name":"sleep","path":"/usr/bin/sleep"},)"
          R"("parent_process_id":4321,"cgroup":{"id":9876543210,"path":"/system.slice/docker-)" +
          id + R"(.scope","container":{"runtime":"docker","id":")" + id +
          R"("}},"namespaces":{"mnt":4026531841,"pid":4026531836,"net":4026531840,"user":4026531837}})"));

  SECTION("without a readable path the text shows the kernel's name, JSON omits the path") {
    file->path.clear();
    CHECK(fmt::format("{}", e.header).find(" executable: 'sleep' ") != std::string::npos);
    fmt::memory_buffer again;
    ebpfpub::append_json(again, e);
    CHECK_FALSE(
        nlohmann::json::parse(std::string_view(again.data(), again.size()))["context"]["executable"]
            .contains("path"));
  }
}

TEST_CASE("an event without context prints no context keys") {
  auto b = record_builder(0, {0x7ffd0000, 0777});
  b.capture(0, 0, "/tmp/x");
  auto r = record_view::parse(b.bytes(), plans());
  if (!r) FAIL(r.error().what());
  fmt::memory_buffer out;
  ebpfpub::append_json(out, ebpfpub::decode_dynamic(*r));
  CHECK(std::string_view(out.data(), out.size()).find("context") == std::string_view::npos);
}

TEST_CASE("the context caches are bounded: the least recently used entry goes, and is counted") {
  ebpfpub::detail::lru_cache<std::uint64_t, std::string> cache(2);
  cache.insert(1, "/a");
  cache.insert(2, "/b");
  REQUIRE(cache.find(1) != nullptr);  // 1 is now the most recent
  cache.insert(3, "/c");              // 2 goes
  CHECK(cache.find(2) == nullptr);
  CHECK(*cache.find(1) == "/a");
  CHECK(*cache.find(3) == "/c");
  cache.failed();
  const auto s = cache.stats();
  CHECK(s.size == 2);
  CHECK(s.capacity == 2);
  CHECK(s.evictions == 1);
  CHECK(s.hits == 3);
  CHECK(s.misses == 1);
  CHECK(s.failures == 1);
}
