// fd identities without a kernel: the plans that ask for them, the decoding of hand-built
// identity records, and how text and JSON show them.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <ebpfpub/event.hpp>
#include <ebpfpub/format/json.hpp>
#include <ebpfpub/format/text.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
namespace layout = ebpfpub::record::fd_identity_layout;
using ebpfpub::capture_op;
using ebpfpub::fd_state;
using ebpfpub::file_kind;

namespace {

// An identity record as a program writes it.
struct raw_identity {
  std::string bytes = std::string(layout::size, '\0');
  template <typename T>
  raw_identity& put(std::uint32_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
    return *this;
  }
  raw_identity& text(std::uint32_t offset, std::string_view s) {
    std::memcpy(bytes.data() + offset, s.data(), s.size());
    return *this;
  }
};

// The kernel sets O_LARGEFILE on every 64-bit open; glibc's x86_64 headers define it as 0.
constexpr std::uint32_t kernel_largefile = 0100000;

// A file on device 8:1 (the kernel's encoding: major << 20 | minor).
raw_identity regular_file() {
  return raw_identity()
      .put<std::uint8_t>(layout::state, 0)
      .put<std::uint32_t>(layout::mode, S_IFREG | 0644)
      .put<std::uint64_t>(layout::inode, 131077)
      .put<std::uint32_t>(layout::device, (8u << 20) | 1)
      .put<std::uint32_t>(layout::flags, O_RDONLY | kernel_largefile)
      .text(layout::name, "passwd");
}

raw_identity tcp_socket() {
  raw_identity r;
  r.put<std::uint32_t>(layout::mode, S_IFSOCK | 0777)
      .put<std::uint64_t>(layout::inode, 99)
      .put<std::uint32_t>(layout::flags, O_RDWR)
      .put<std::uint16_t>(layout::family, AF_INET)
      .put<std::uint16_t>(layout::type, SOCK_STREAM)
      .put<std::uint16_t>(layout::protocol, IPPROTO_TCP)
      .put<std::uint16_t>(layout::local_port, 40000)
      .put<std::uint16_t>(layout::remote_port, htons(8080))
      .put<std::uint32_t>(layout::local_address, htonl(INADDR_LOOPBACK))
      .put<std::uint32_t>(layout::remote_address, htonl(INADDR_LOOPBACK));
  return r;
}

const std::vector<ebpfpub::plan>& read_plans() {
  static const std::vector<ebpfpub::plan> p{
      ebpfpub::serializer<sys::read>::make_plan({.fd_identity = true})};
  return p;
}

ebpfpub::fd decoded_fd(const raw_identity& identity, std::uint8_t status = 0) {
  ebpfpub::test::record_builder b(0, {3, 0x7ffd0000, 100});
  // read's plan: the fd identity (capture 0), then the buffer at exit (capture 1).
  b.capture(0, status, identity.bytes);
  auto r = ebpfpub::record_view::parse(b.bytes(), read_plans());
  REQUIRE(r);
  return ebpfpub::serializer<sys::read>::decode(*r).fd;
}

std::string text(const ebpfpub::fd& f) {
  fmt::memory_buffer out;
  ebpfpub::append_text(out, f);
  return fmt::to_string(out);
}

std::string json(const ebpfpub::fd& f) {
  fmt::memory_buffer out;
  ebpfpub::append_json(out, ebpfpub::dynamic_value(f));
  return fmt::to_string(out);
}

}  // namespace

TEST_CASE("plan_options::fd_identity adds an enter capture for every fd argument, and only then") {
  const auto off = ebpfpub::serializer<sys::renameat2>::make_plan({});
  CHECK(off.captures.size() == 2);
  const auto on = ebpfpub::serializer<sys::renameat2>::make_plan({.fd_identity = true});
  REQUIRE(on.captures.size() == 4);  // olddfd, oldname, newdfd, newname
  CHECK(on.captures[0] == ebpfpub::fd_identity_capture(0));
  CHECK(on.captures[0].op == capture_op::fd_identity);
  CHECK(on.captures[0].max_bytes == layout::size);
  CHECK(on.captures[2].argument == 2);
  CHECK(ebpfpub::check_plan(on));
  // read keeps its buffer capture beside the identity.
  const auto& read = read_plans()[0];
  REQUIRE(read.captures.size() == 2);
  CHECK(read.captures[0].op == capture_op::fd_identity);
  CHECK(read.captures[1].op == capture_op::buffer);
}

TEST_CASE("check_plan refuses an fd identity of another size or with a length") {
  auto p = ebpfpub::serializer<sys::close>::make_plan({.fd_identity = true});
  REQUIRE(p.captures.size() == 1);
  p.captures[0].max_bytes = 64;
  CHECK(ebpfpub::check_plan(p).error().message() ==
        "plan for close: capture 0 (argument 0): an fd identity is 352 bytes");
  p.captures[0].max_bytes = layout::size;
  p.captures[0].indirect = true;
  CHECK_FALSE(ebpfpub::check_plan(p));
}

TEST_CASE("a regular file's identity decodes to stat's device and inode, and prints its kind and name") {
  const auto f = decoded_fd(regular_file());
  CHECK(f.value == 3);
  REQUIRE(f.identity);
  CHECK(f.identity->state == fd_state::open);
  CHECK(f.identity->kind == file_kind::regular);
  CHECK(f.identity->device == makedev(8, 1));
  CHECK(f.identity->inode == 131077);
  CHECK(f.identity->mode == (S_IFREG | 0644));
  CHECK(f.identity->flags == (O_RDONLY | kernel_largefile));
  CHECK(f.identity->name == "passwd");
  CHECK(text(f) == "3<regular 8:1:131077 passwd>");
  CHECK(json(f) == fmt::format("{{\"value\":3,\"state\":\"open\",\"kind\":\"regular\",\"device\":{},"
                               "\"inode\":131077,\"mode\":33188,\"flags\":32768,\"name\":\"passwd\"}}",
                               makedev(8, 1)));
  ebpfpub::fd_identity known = *f.identity;
  known.path.emplace(ebpfpub::known_path{"/etc/passwd", ebpfpub::path_origin::proc_fd, true});
  const ebpfpub::fd with_path{3, known};
  CHECK(text(with_path) == "3</etc/passwd (stale)>");
  CHECK(json(with_path).ends_with(
      "\"name\":\"passwd\",\"path\":\"/etc/passwd\",\"path_origin\":\"proc_fd\",\"path_stale\":true}"));
}

TEST_CASE("a TCP socket's identity carries both endpoints, the remote port in host order") {
  const auto f = decoded_fd(tcp_socket());
  REQUIRE(f.identity);
  CHECK(f.identity->kind == file_kind::socket);
  CHECK(f.identity->family == AF_INET);
  CHECK(f.identity->protocol == IPPROTO_TCP);
  CHECK(f.identity->local == ebpfpub::socket_endpoint{"127.0.0.1", 40000});
  CHECK(f.identity->remote == ebpfpub::socket_endpoint{"127.0.0.1", 8080});
  CHECK(text(f) == "3<socket:TCP 127.0.0.1:40000->127.0.0.1:8080>");
  CHECK(json(f).ends_with("\"family\":2,\"type\":1,\"protocol\":6,\"local\":{\"address\":\"127.0.0.1\","
                          "\"port\":40000},\"remote\":{\"address\":\"127.0.0.1\",\"port\":8080}}"));
}

TEST_CASE("pipes, anonymous inodes and UNIX sockets print as strace -yy names them") {
  auto pipe = raw_identity().put<std::uint32_t>(layout::mode, S_IFIFO | 0600).put<std::uint64_t>(layout::inode, 77);
  CHECK(text(decoded_fd(pipe)) == "3<pipe:[77]>");
  // An anonymous inode has no type bits (0600 on Linux 6.18)...
  auto untyped = raw_identity().put<std::uint32_t>(layout::mode, 0600).text(layout::name, "[eventpoll]");
  CHECK(text(decoded_fd(untyped)) == "3<anon_inode:[eventpoll]>");
  // ...and were it typed S_IFREG, its dentry name would give it away.
  auto event = raw_identity().put<std::uint32_t>(layout::mode, S_IFREG | 0600).text(layout::name, "[eventfd]");
  CHECK(decoded_fd(event).identity->kind == file_kind::anon_inode);
  CHECK(text(decoded_fd(event)) == "3<anon_inode:[eventfd]>");
  auto unix_client = raw_identity()
                         .put<std::uint32_t>(layout::mode, S_IFSOCK | 0777)
                         .put<std::uint64_t>(layout::inode, 5)
                         .put<std::uint16_t>(layout::family, AF_UNIX)
                         .put<std::uint16_t>(layout::type, SOCK_STREAM)
                         .put<std::uint32_t>(layout::unix_peer_length, 2 + 5)
                         .text(layout::unix_peer_path, std::string_view("\0abcd", 5));
  CHECK(decoded_fd(unix_client).identity->unix_peer_path == "@abcd");
  CHECK(text(decoded_fd(unix_client)) == "3<socket:UNIX-STREAM:[5]->@abcd>");
}

TEST_CASE("an fd that names nothing says why; a negative one prints as its number") {
  CHECK(text(decoded_fd(raw_identity().put<std::uint8_t>(layout::state, 1))) == "3<not_open>");
  CHECK(json(decoded_fd(raw_identity().put<std::uint8_t>(layout::state, 2))) ==
        "{\"value\":3,\"state\":\"bad_fd\"}");
  ebpfpub::fd cwd{-100, ebpfpub::fd_identity{.state = fd_state::bad_fd}};
  CHECK(text(cwd) == "-100");
}

TEST_CASE("a malformed identity (short, or an unknown state) decodes to no identity, never an over-read") {
  CHECK_FALSE(ebpfpub::decode_fd_identity(std::span<const std::uint8_t>()));
  auto bad = raw_identity().put<std::uint8_t>(layout::state, 9);
  CHECK_FALSE(decoded_fd(bad).identity);
  CHECK_FALSE(decoded_fd(regular_file(), /*fault*/ 3).identity);
  // A name with no NUL in its field: the kernel never writes one; it is cut to 63 bytes.
  auto unterminated = regular_file().text(layout::name, std::string(layout::name_size, 'n'));
  CHECK(decoded_fd(unterminated).identity->name == std::string(layout::name_size - 1, 'n'));
}

TEST_CASE("an fd identity capture decodes into an ebpfpub::fd member, and an fd member reads nothing else") {
  auto p = ebpfpub::serializer<sys::close>::make_plan({.fd_identity = true});
  const ebpfpub::member_use fd_member{.name = "fd", .is_fd = true};
  const ebpfpub::member_use number{.name = "fd"};
  CHECK(ebpfpub::check_serializer_plan(p, "close", "mine", std::span(&fd_member, 1)));
  CHECK(ebpfpub::check_serializer_plan(p, "close", "mine", std::span(&number, 1)).error().message() ==
        "serializer 'mine' for close: capture 0 reads the fd identity of argument 0 'fd', but "
        "args_type's member 'fd' is not an ebpfpub::fd");
  p.captures[0] = ebpfpub::serializers::bytes(0, ebpfpub::syscall_phase::enter, ebpfpub::length_source::fixed, 0, 8);
  CHECK(ebpfpub::check_serializer_plan(p, "close", "mine", std::span(&fd_member, 1)).error().message() ==
        "serializer 'mine' for close: capture 0 reads argument 0 'fd', an fd: its member reads only "
        "an fd identity (capture_op::fd_identity)");
}
