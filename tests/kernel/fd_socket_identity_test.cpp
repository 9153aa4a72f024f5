// Socket fd identities read in the kernel, against what the child learns of its own
// sockets (fstat, getsockname, getpeername): socketpair, TCP over IPv4 and IPv6
// loopback (both ends and the listener), UNIX sockets bound to a path and to an abstract
// name; and how text and JSON show them.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <ebpfpub/format/text.hpp>

#include "support/fd_probe.hpp"
#include "support/serializer_helpers.hpp"

using ebpfpub::fd_state;
using ebpfpub::file_kind;
using ebpfpub::test::check_same_file;
using ebpfpub::test::child_process;
using ebpfpub::test::fd_session;
using ebpfpub::test::fd_truth;
using ebpfpub::test::probe_fd;
using ebpfpub::test::random_marker;
using ebpfpub::test::random_name;
using ebpfpub::test::random_port;
using ebpfpub::test::scratch_dir;
using ebpfpub::test::shared;
using ebpfpub::test::truth_of;

namespace {

// An endpoint as getsockname/getpeername give it.
struct endpoint_truth {
  char address[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
};

endpoint_truth endpoint_of(int s, bool peer) {
  sockaddr_storage a{};
  socklen_t length = sizeof(a);
  endpoint_truth e;
  if ((peer ? ::getpeername : ::getsockname)(s, reinterpret_cast<sockaddr*>(&a), &length) != 0) return e;
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &in.sin_addr, e.address, sizeof(e.address));
    e.port = ntohs(in.sin_port);
  } else {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, e.address, sizeof(e.address));
    e.port = ntohs(in6.sin6_port);
  }
  return e;
}

struct tcp_truth {
  fd_truth listener, client, accepted;
  endpoint_truth client_local, client_remote, accepted_local, accepted_remote;
};

// Listens on loopback, connects, accepts; probes listener, client and accepted socket.
int tcp_child(int family, std::uint16_t port, long marker, tcp_truth& t) {
  sockaddr_storage a{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto& in = reinterpret_cast<sockaddr_in&>(a);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(in);
  } else {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(a);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    in6.sin6_addr = in6addr_loopback;
    length = sizeof(in6);
  }
  const int listener = ::socket(family, SOCK_STREAM, 0);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), length) != 0) return 10;
  ::listen(listener, 1);
  const int client = ::socket(family, SOCK_STREAM, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&a), length) != 0) return 11;
  const int accepted = ::accept(listener, nullptr, nullptr);
  if (accepted < 0) return 12;
  t = {truth_of(listener), truth_of(client), truth_of(accepted),
       endpoint_of(client, false), endpoint_of(client, true),
       endpoint_of(accepted, false), endpoint_of(accepted, true)};
  probe_fd(listener, marker);
  probe_fd(client, marker + 1);
  probe_fd(accepted, marker + 2);
  return 0;
}

void check_endpoint(const ebpfpub::socket_endpoint& e, const endpoint_truth& t) {
  CHECK(e.address == t.address);
  CHECK(e.port == t.port);
}

std::string text_of(const ebpfpub::fd& f) {
  fmt::memory_buffer out;
  ebpfpub::append_text(out, f);
  return fmt::to_string(out);
}

}  // namespace

TEST_CASE("the ends of a socketpair are AF_UNIX stream sockets with the inodes fstat shows") {
  fd_session s;
  const long m = random_marker();
  struct seen {
    fd_truth ends[2];
  };
  shared<seen> truth;
  child_process child([&] {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    *truth = {{truth_of(sv[0]), truth_of(sv[1])}};
    probe_fd(sv[0], m);
    probe_fd(sv[1], m + 1);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  for (int i = 0; i < 2; ++i) {
    const auto& id = s.identity(m + i);
    check_same_file(id, truth->ends[i]);
    CHECK(id.kind == file_kind::socket);
    CHECK(id.family == AF_UNIX);
    CHECK(id.type == SOCK_STREAM);
    CHECK(id.unix_path.empty());
    CHECK(id.unix_peer_path.empty());
    CHECK(std::string(truth->ends[i].link) == "socket:[" + std::to_string(truth->ends[i].inode) + "]");
  }
  CHECK(s.identity(m).inode != s.identity(m + 1).inode);
  CHECK(text_of(s.at(m).descriptor) ==
        fmt::format("{}<socket:UNIX-STREAM:[{}]>", s.at(m).descriptor.value, truth->ends[0].inode));
}

TEST_CASE("both ends of a TCP connection on loopback carry what getsockname and getpeername give") {
  const int family = GENERATE(AF_INET, AF_INET6);
  fd_session s;
  const long m = random_marker();
  const auto port = random_port();
  shared<tcp_truth> truth;
  child_process child([&] { return tcp_child(family, port, m, *truth); });
  REQUIRE(s.run(child) == 0);
  const char* loopback = family == AF_INET ? "127.0.0.1" : "::1";

  const auto& listener = s.identity(m);
  check_same_file(listener, truth->listener);
  CHECK(listener.kind == file_kind::socket);
  CHECK(listener.family == family);
  CHECK(listener.type == SOCK_STREAM);
  CHECK(listener.protocol == IPPROTO_TCP);
  CHECK(listener.local.address == loopback);
  CHECK(listener.local.port == port);
  CHECK(listener.remote.port == 0);

  const auto& client = s.identity(m + 1);
  check_same_file(client, truth->client);
  check_endpoint(client.local, truth->client_local);
  check_endpoint(client.remote, truth->client_remote);
  CHECK(client.remote.port == port);

  const auto& accepted = s.identity(m + 2);
  check_same_file(accepted, truth->accepted);
  check_endpoint(accepted.local, truth->accepted_local);
  check_endpoint(accepted.remote, truth->accepted_remote);
  CHECK(accepted.remote.port == client.local.port);

  const auto& d = s.at(m + 1).descriptor;
  if (family == AF_INET)
    CHECK(text_of(d) == fmt::format("{}<socket:TCP 127.0.0.1:{}->127.0.0.1:{}>", d.value,
                                    truth->client_local.port, port));
  else
    CHECK(text_of(d) == fmt::format("{}<socket:TCPv6 [::1]:{}->[::1]:{}>", d.value,
                                    truth->client_local.port, port));
}

TEST_CASE("a UNIX socket bound to a path or an abstract name shows it; its client shows the peer's") {
  const bool abstract = GENERATE(false, true);
  fd_session s;
  scratch_dir dir;
  const auto name = abstract ? random_name() : (dir.path / "server.sock").string();
  const long m = random_marker();
  struct seen {
    fd_truth server, client, accepted;
  };
  shared<seen> truth;
  child_process child([&] {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path + (abstract ? 1 : 0), name.c_str(), name.size());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::bind(server, reinterpret_cast<sockaddr*>(&un), length) != 0) return 10;
    ::listen(server, 1);
    const int client = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&un), length) != 0) return 11;
    const int accepted = ::accept(server, nullptr, nullptr);
    if (accepted < 0) return 12;
    *truth = {truth_of(server), truth_of(client), truth_of(accepted)};
    probe_fd(server, m);
    probe_fd(client, m + 1);
    probe_fd(accepted, m + 2);
    return 0;
  });
  REQUIRE(s.run(child) == 0);
  // An abstract name: its leading NUL shown as '@', then exactly the bytes bound.
  const auto shown = abstract ? "@" + name : name;
  check_same_file(s.identity(m), truth->server);
  CHECK(s.identity(m).family == AF_UNIX);
  CHECK(s.identity(m).unix_path == shown);
  CHECK(s.identity(m).unix_peer_path.empty());
  check_same_file(s.identity(m + 1), truth->client);
  CHECK(s.identity(m + 1).unix_path.empty());
  CHECK(s.identity(m + 1).unix_peer_path == shown);
  check_same_file(s.identity(m + 2), truth->accepted);
  CHECK(s.identity(m + 2).unix_path == shown);  // an accepted socket shares its listener's address
  CHECK(s.identity(m + 2).unix_peer_path.empty());
}
