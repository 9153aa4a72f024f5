// The socket-address serializers against a child making the call with known values:
// addresses the caller passes (enter) and the kernel writes (exit).
#include <catch2/catch.hpp>

#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "support/serializer_helpers.hpp"
#include "support/session.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::socket_address;
using ebpfpub::test::child_process;
using ebpfpub::test::child_session;
using ebpfpub::test::decoded;
using ebpfpub::test::random_name;
using ebpfpub::test::random_port;

TEST_CASE("connect and bind decode IPv4, IPv6 and UNIX addresses with their ports and paths") {
  child_session session;
  auto& connects = session.trace<sys::connect>();
  auto& binds = session.trace<sys::bind>();
  const auto port4 = random_port(), port6 = random_port();
  ebpfpub::test::scratch_dir dir;
  const auto path = (dir.path / random_name(8)).string();
  const auto abstract = random_name();
  child_process child([&] {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port4);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int s4 = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(s4, reinterpret_cast<sockaddr*>(&in), sizeof(in));
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port6);
    in6.sin6_addr = in6addr_loopback;
    const int s6 = ::socket(AF_INET6, SOCK_STREAM, 0);
    ::connect(s6, reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
    const int u = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ::bind(u, reinterpret_cast<sockaddr*>(&un), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
    sockaddr_un an{};
    an.sun_family = AF_UNIX;
    std::memcpy(an.sun_path + 1, abstract.c_str(), abstract.size());
    const int a = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ::bind(a, reinterpret_cast<sockaddr*>(&an), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size()));
    // A bad pointer and a NULL one: probe_error on the address, the call still recorded.
    ::connect(s4, reinterpret_cast<sockaddr*>(8), 16);
    ::connect(s4, nullptr, 16);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(connects.size() == 4);
  const auto v4 = decoded(connects[0].args.uservaddr);
  CHECK(v4.family == AF_INET);
  CHECK(v4.address == "127.0.0.1");
  CHECK(v4.port == port4);
  CHECK(connects[0].header.exit_code == -ECONNREFUSED);
  CHECK(connects[0].args.addrlen == sizeof(sockaddr_in));
  const auto v6 = decoded(connects[1].args.uservaddr);
  CHECK(v6.family == AF_INET6);
  CHECK(v6.address == "::1");
  CHECK(v6.port == port6);
  CHECK(connects[2].args.uservaddr.status == capture_status::fault);
  CHECK(connects[2].header.probe_error);
  CHECK(connects[2].header.exit_code == -EFAULT);
  CHECK(connects[3].args.uservaddr.status == capture_status::null_pointer);
  CHECK(connects[3].header.probe_error);
  REQUIRE(binds.size() == 2);
  const auto un = decoded(binds[0].args.umyaddr);
  CHECK(un.family == AF_UNIX);
  CHECK(un.path == path);
  CHECK(binds[0].header.exit_code == 0);
  CHECK(decoded(binds[1].args.umyaddr).path == "@" + abstract);
}

TEST_CASE("accept4 and getsockname record the address the kernel wrote, at exit") {
  child_session session;
  auto& accepts = session.trace<sys::accept4>();
  auto& names = session.trace<sys::getsockname>();
  auto& peers = session.trace<sys::getpeername>();
  const auto port = random_port();
  child_process child([&] {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(listener, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) return 10;
    ::listen(listener, 1);
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) return 11;
    sockaddr_in peer{};
    socklen_t length = sizeof(peer);
    if (::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC) < 0) return 12;
    sockaddr_in mine{};
    length = sizeof(mine);
    ::getsockname(client, reinterpret_cast<sockaddr*>(&mine), &length);
    ::getpeername(client, reinterpret_cast<sockaddr*>(&mine), &length);
    // A failed accept writes nothing: nothing is captured.
    ::accept4(-1, reinterpret_cast<sockaddr*>(&peer), &length, 0);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(accepts.size() == 2);
  REQUIRE(names.size() == 1);
  const auto client_side = decoded(names[0].args.usockaddr);
  CHECK(client_side.address == "127.0.0.1");
  const auto accepted = decoded(accepts[0].args.upeer_sockaddr);
  CHECK(accepted.family == AF_INET);
  CHECK(accepted.address == "127.0.0.1");
  CHECK(accepted.port == client_side.port);  // the peer is the client's port
  CHECK(accepts[0].args.flags == SOCK_CLOEXEC);
  REQUIRE(peers.size() == 1);
  CHECK(decoded(peers[0].args.usockaddr).port == port);
  CHECK(accepts[1].header.exit_code == -EBADF);
  CHECK(accepts[1].args.upeer_sockaddr.status == capture_status::not_captured);
  CHECK_FALSE(accepts[1].header.probe_error);
}

TEST_CASE("sendto, recvfrom, sendmsg and recvmsg record the datagram's address") {
  child_session session;
  auto& sendtos = session.trace<sys::sendto>();
  auto& recvfroms = session.trace<sys::recvfrom>();
  auto& sendmsgs = session.trace<sys::sendmsg>();
  auto& recvmsgs = session.trace<sys::recvmsg>();
  const auto port = random_port();
  child_process child([&] {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    in6.sin6_addr = in6addr_loopback;
    const int s = ::socket(AF_INET6, SOCK_DGRAM, 0);
    if (::bind(s, reinterpret_cast<sockaddr*>(&in6), sizeof(in6)) != 0) return 10;
    char buffer[16] = "ping";
    ::sendto(s, buffer, 4, 0, reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
    sockaddr_in6 from{};
    socklen_t length = sizeof(from);
    ::recvfrom(s, buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&from), &length);
    iovec io{buffer, 4};
    msghdr message{};
    message.msg_name = &in6;
    message.msg_namelen = sizeof(in6);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    ::sendmsg(s, &message, 0);
    sockaddr_in6 source{};
    message.msg_name = &source;
    message.msg_namelen = sizeof(source);
    ::recvmsg(s, &message, 0);
    return 0;
  });
  CHECK(session.run(child) == 0);
  REQUIRE(sendtos.size() == 1);
  REQUIRE(recvfroms.size() == 1);
  REQUIRE(sendmsgs.size() == 1);
  REQUIRE(recvmsgs.size() == 1);
  for (const auto* a : {&sendtos[0].args.addr, &recvfroms[0].args.addr, &sendmsgs[0].args.msg,
                        &recvmsgs[0].args.msg}) {
    const auto address = decoded(*a);
    CHECK(address.family == AF_INET6);
    CHECK(address.address == "::1");
    CHECK(address.port == port);
  }
  CHECK(sendtos[0].header.exit_code == 4);
  CHECK(recvmsgs[0].header.exit_code == 4);
}

