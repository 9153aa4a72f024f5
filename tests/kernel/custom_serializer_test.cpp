// User serializers against a child making known calls: the declarative ones of
// examples/custom_serializer, a replacement of a shipped serializer, and the registry
// serving the by-name path.
#include <catch2/catch.hpp>

#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "serializers.hpp"  // examples/custom_serializer: prlimit64 and newfstatat
#include "support/session.hpp"

using ebpfpub::capture_status;
using ebpfpub::test::child_process;
using ebpfpub::test::child_session;

namespace {

// write's buffer, 4 bytes at most, instead of the shipped serializer's data_size.
struct first_bytes : ebpfpub::declare<sys::write> {
  static constexpr std::string_view name = "first_bytes";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::in_buffer<ebpfpub::length_arg<"count">, 4>, buf),
                             (std::uint64_t, count));
  };
};

// Unregisters at the end of a test: the registry is process-wide.
struct registration {
  std::string syscall;
  ~registration() { ebpfpub::unregister_serializer(syscall); }
};

long set_limit(const ::rlimit64* new_rlim, ::rlimit64* old_rlim, unsigned resource = RLIMIT_NOFILE) {
  return ::syscall(SYS_prlimit64, 0, resource, new_rlim, old_rlim);
}

}  // namespace

TEST_CASE("prlimit64 records the new limit at enter and the old one at exit, NULL being not provided", "[custom_serializer]") {
  child_session session;
  auto& events = session.trace<sys::prlimit64>();
  child_process child([] {
    const ::rlimit64 first{512, 1024}, second{256, 1024};
    ::rlimit64 old{};
    const bool ok = set_limit(&first, nullptr) == 0 && set_limit(&second, &old) == 0 &&
                    set_limit(nullptr, &old) == 0 && set_limit(&second, &old, 9999) == -1;
    return ok ? 0 : 1;
  });
  REQUIRE(session.run(child) == 0);
  REQUIRE(events.size() == 4);

  // prlimit64(0, RLIMIT_NOFILE, {512, 1024}, NULL)
  CHECK(events[0].header.exit_code == 0);
  CHECK_FALSE(events[0].header.probe_error);
  CHECK(events[0].args.pid == 0);
  CHECK(events[0].args.resource == RLIMIT_NOFILE);
  CHECK(events[0].args.new_rlim.status == capture_status::ok);
  CHECK(events[0].args.new_rlim->rlim_cur == 512);
  CHECK(events[0].args.new_rlim->rlim_max == 1024);
  CHECK_FALSE(events[0].args.old_rlim.provided());
  CHECK(events[0].args.old_rlim.status == capture_status::null_pointer);

  // prlimit64(0, RLIMIT_NOFILE, {256, 1024}, &old): old is what the first call set
  CHECK_FALSE(events[1].header.probe_error);
  CHECK(events[1].args.new_rlim->rlim_cur == 256);
  CHECK(events[1].args.new_rlim->rlim_max == 1024);
  CHECK(events[1].args.old_rlim.status == capture_status::ok);
  CHECK(events[1].args.old_rlim->rlim_cur == 512);
  CHECK(events[1].args.old_rlim->rlim_max == 1024);

  // prlimit64(0, RLIMIT_NOFILE, NULL, &old): only reads
  CHECK_FALSE(events[2].header.probe_error);
  CHECK_FALSE(events[2].args.new_rlim.provided());
  CHECK(events[2].args.new_rlim.status == capture_status::null_pointer);
  CHECK(events[2].args.old_rlim->rlim_cur == 256);
  CHECK(events[2].args.old_rlim->rlim_max == 1024);

  // prlimit64(0, 9999, ...): EINVAL; the kernel wrote no old limit, so none is read
  CHECK(events[3].header.exit_code == -EINVAL);
  CHECK_FALSE(events[3].header.probe_error);
  CHECK(events[3].args.resource == 9999);
  CHECK(events[3].args.new_rlim->rlim_cur == 256);
  CHECK(events[3].args.old_rlim.status == capture_status::not_captured);
}

TEST_CASE("newfstatat records the kernel's stat buffer at exit, and nothing for a failed call", "[custom_serializer]") {
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / "file").string();
  const auto missing = (dir.path / "missing").string();
  {
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0640);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 1234) == 0);
    REQUIRE(::fchmod(fd, 0640) == 0);
    ::close(fd);
  }
  struct ::stat expected {};
  REQUIRE(::stat(path.c_str(), &expected) == 0);

  child_session session;
  auto& events = session.trace<sys::newfstatat>();
  child_process child([&] {
    struct ::stat st {};
    const bool ok = ::syscall(SYS_newfstatat, AT_FDCWD, path.c_str(), &st, 0) == 0 &&
                    ::syscall(SYS_newfstatat, AT_FDCWD, missing.c_str(), &st, 0) == -1;
    return ok ? 0 : 1;
  });
  REQUIRE(session.run(child) == 0);
  REQUIRE(events.size() == 2);

  CHECK(events[0].header.exit_code == 0);
  CHECK_FALSE(events[0].header.probe_error);
  CHECK(events[0].args.dfd.value == AT_FDCWD);
  CHECK(events[0].args.filename.value == path);
  CHECK(events[0].args.statbuf.status == capture_status::ok);
  CHECK(events[0].args.statbuf->st_size == 1234);
  CHECK(events[0].args.statbuf->st_mode == (S_IFREG | 0640));
  CHECK(events[0].args.statbuf->st_ino == expected.st_ino);
  CHECK(events[0].args.statbuf->st_dev == expected.st_dev);
  CHECK(events[0].args.flag == 0);

  CHECK(events[1].header.exit_code == -ENOENT);
  CHECK_FALSE(events[1].header.probe_error);
  CHECK(events[1].args.filename.value == missing);
  CHECK(events[1].args.statbuf.status == capture_status::not_captured);
}

TEST_CASE("trace<S, Serializer> traces write with a serializer of one's own instead of the shipped one", "[custom_serializer]") {
  child_session session;
  std::vector<ebpfpub::event_of<first_bytes>> events;
  pid_t pid = 0;
  auto ok = session.get().trace<sys::write, first_bytes>([&](const ebpfpub::event_of<first_bytes>& e) {
    if (e.header.process_id == static_cast<std::uint32_t>(pid)) events.push_back(e);
  });
  REQUIRE(ok);
  CHECK(session.get().plans().back().serializer_name == "first_bytes");
  child_process child([] {
    // On the stack: a literal's page may not be mapped in a fresh child yet, and a
    // buffer read at enter would fault (strings are read again at exit; buffers are not).
    const char text[] = "hello world";
    const int fd = ::open("/dev/null", O_WRONLY);
    return ::write(fd, text, 11) == 11 ? 0 : 1;
  });
  pid = child.pid();
  REQUIRE(session.run(child) == 0);
  REQUIRE(events.size() == 1);
  CHECK(events[0].header.exit_code == 11);
  CHECK(events[0].args.count == 11);
  CHECK(std::string(events[0].args.buf.data.begin(), events[0].args.buf.data.end()) == "hell");
  CHECK(events[0].args.buf.status == capture_status::truncated);
}

TEST_CASE("a registered serializer serves the by-name path, and replaces a shipped one there", "[custom_serializer]") {
  ebpfpub::register_serializer<sys::prlimit64>();
  registration prlimit{"prlimit64"};
  ebpfpub::register_serializer<sys::write, first_bytes>();
  registration write{"write"};

  child_session session;
  std::vector<ebpfpub::dynamic_event> events;
  pid_t pid = 0;
  auto handler = [&](const ebpfpub::dynamic_event& e) {
    if (e.header.process_id == static_cast<std::uint32_t>(pid)) events.push_back(e);
  };
  REQUIRE(session.get().trace("prlimit64", handler));
  REQUIRE(session.get().trace("write", handler));
  const auto& plans = session.get().plans();
  CHECK(plans[plans.size() - 2].serializer_name == "rlimits");
  CHECK(plans.back().serializer_name == "first_bytes");

  child_process child([] {
    const ::rlimit64 limit{300, 1024};
    const char text[] = "abcdef";  // on the stack, as above
    const int fd = ::open("/dev/null", O_WRONLY);
    return set_limit(&limit, nullptr) == 0 && ::write(fd, text, 6) == 6 ? 0 : 1;
  });
  pid = child.pid();
  REQUIRE(session.run(child) == 0);
  REQUIRE(events.size() == 2);

  REQUIRE(events[0].args.size() == 4);
  CHECK(events[0].header.syscall == "prlimit64");
  CHECK_FALSE(events[0].header.probe_error);
  CHECK(events[0].args[2].name == "new_rlim");
  const auto& new_rlim = std::get<ebpfpub::user_buffer>(events[0].args[2].value);
  REQUIRE(new_rlim.data.size() == sizeof(::rlimit64));
  ::rlimit64 limit{};
  std::memcpy(&limit, new_rlim.data.data(), sizeof(limit));
  CHECK(limit.rlim_cur == 300);
  CHECK(limit.rlim_max == 1024);
  CHECK(std::get<ebpfpub::user_buffer>(events[0].args[3].value).status == capture_status::null_pointer);

  CHECK(events[1].header.syscall == "write");
  const auto& buf = std::get<ebpfpub::user_buffer>(events[1].args[1].value);
  CHECK(std::string(buf.data.begin(), buf.data.end()) == "abcd");
}
